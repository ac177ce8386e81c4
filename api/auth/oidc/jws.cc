#include "api/auth/oidc/jws.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "api/auth/oidc/oidc_url.h"

namespace rmm::api::oidc {
namespace {

constexpr int kMinRsaBits = 2048;

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

std::optional<std::string> field(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

// A key from OSSL_PARAMs built by `fill` (libcrypto 3's replacement of RSA_set0_key and friends).
template <class Fill>
PkeyPtr key_from_params(const char* type, Fill fill) {
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bld || !fill(bld.get())) return nullptr;
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(key, EVP_PKEY_free);
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

BnPtr bn_of(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

PkeyPtr rsa_key(const boost::json::object& jwk) {
  auto n = field(jwk, "n").and_then(base64url_decode);
  auto e = field(jwk, "e").and_then(base64url_decode);
  if (!n || !e || n->empty() || e->empty() || e->size() > 8) return nullptr;
  BnPtr bn_n = bn_of(*n), bn_e = bn_of(*e);
  if (!bn_n || !bn_e) return nullptr;
  auto key = key_from_params("RSA", [&](OSSL_PARAM_BLD* b) {
    return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1;
  });
  if (!key || EVP_PKEY_get_bits(key.get()) < kMinRsaBits) return nullptr;
  return key;
}

PkeyPtr ec_p256_key(const boost::json::object& jwk) {
  if (field(jwk, "crv") != "P-256") return nullptr;
  auto x = field(jwk, "x").and_then(base64url_decode);
  auto y = field(jwk, "y").and_then(base64url_decode);
  if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;  // uncompressed point
  static const char kGroup[] = "prime256v1";
  // fromdata checks the point is on the curve.
  return key_from_params("EC", [&](OSSL_PARAM_BLD* b) {
    return OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size()) == 1;
  });
}

// JWS ES256 signatures are r||s (32 bytes each); libcrypto verifies DER.
std::optional<std::string> ecdsa_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify_sha256(EVP_PKEY* key, std::string_view data, const std::string& sig) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

std::optional<boost::json::object> json_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

Result<JwkSet> parse_jwks(std::string_view json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  const boost::json::value* keys = nullptr;
  if (!ec && v.is_object()) keys = v.as_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return fail(Error::Code::kInvalidInput, "the JWKS is not {\"keys\": [...]}");
  }
  JwkSet set;
  for (const auto& k : keys->as_array()) {
    if (set.keys.size() >= 64) break;  // more keys than any provider publishes
    if (!k.is_object()) continue;
    const auto& o = k.as_object();
    if (auto use = field(o, "use"); use && *use != "sig") continue;
    auto kty = field(o, "kty");
    auto alg = field(o, "alg");
    Jwk jwk{field(o, "kid").value_or(""), "", nullptr};
    if (kty == "RSA" && (!alg || *alg == "RS256")) {
      jwk.alg = "RS256";
      jwk.key = rsa_key(o);
    } else if (kty == "EC" && (!alg || *alg == "ES256")) {
      jwk.alg = "ES256";
      jwk.key = ec_p256_key(o);
    }
    if (jwk.key) set.keys.push_back(std::move(jwk));
  }
  if (set.keys.empty()) {
    return fail(Error::Code::kInvalidInput, "the JWKS has no usable RS256 or ES256 key");
  }
  return set;
}

Result<boost::json::object> verify_jws(std::string_view compact, const JwkSet& keys) {
  auto bad = [](std::string_view why) {
    return fail(Error::Code::kInvalidInput, std::string(why));
  };
  auto dot1 = compact.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return bad("not a compact JWS");
  }
  auto header_text = base64url_decode(compact.substr(0, dot1));
  auto payload_text = base64url_decode(compact.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(compact.substr(dot2 + 1));
  if (!header_text || !payload_text || !sig) return bad("bad base64url in the JWS");
  auto header = json_object(*header_text);
  if (!header) return bad("the JWS header is not a JSON object");
  auto alg = field(*header, "alg");
  if (alg != "RS256" && alg != "ES256") return bad("the JWS algorithm is not RS256 or ES256");
  if (header->contains("crit")) return bad("the JWS names critical extensions");
  auto kid = field(*header, "kid");
  const Jwk* key = nullptr;
  int candidates = 0;
  for (const auto& k : keys.keys) {
    if (k.alg != *alg) continue;
    if (kid ? k.kid == *kid : true) {
      key = &k;
      ++candidates;
    }
  }
  if (key == nullptr) return fail(Error::Code::kNotFound, "no provider key matches the JWS");
  if (!kid && candidates > 1) return bad("the JWS names no key and the provider has several");
  std::string signing_input(compact.substr(0, dot2));
  std::optional<std::string> der = *alg == "ES256" ? ecdsa_der(*sig) : sig;
  if (!der || !verify_sha256(key->key.get(), signing_input, *der)) {
    return bad("the JWS signature does not verify");
  }
  auto payload = json_object(*payload_text);
  if (!payload) return bad("the JWS payload is not a JSON object");
  return std::move(*payload);
}

}  // namespace rmm::api::oidc
