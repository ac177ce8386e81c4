#include "admin/jwt.h"

#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <vector>

namespace rmm::broker {
namespace {

constexpr std::string_view kHeader = R"({"typ":"JWT","alg":"ed25519-nkey"})";

}  // namespace

std::string b64url_encode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // sodium writes a terminating NUL
  return out;
}

Result<std::string> b64url_decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return fail(Error::Code::kInvalidInput, "invalid base64url");
  }
  out.resize(len);
  return out;
}

std::string encode_jwt(boost::json::object claims, const KeyPair& issuer) {
  claims["iss"] = issuer.public_key();
  claims["jti"] = "";
  // jti only has to be unique; nats-server does not check how it was made.
  std::string body = boost::json::serialize(claims);
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(body.data()),
                     body.size());
  claims["jti"] = base32_encode(digest);
  std::string signing_input =
      b64url_encode(kHeader) + "." + b64url_encode(boost::json::serialize(claims));
  auto sig = issuer.sign(signing_input);
  return signing_input + "." +
         b64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

Result<VerifiedJwt> decode_and_verify_jwt(std::string_view token) {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return fail(Error::Code::kInvalidInput, "JWT needs 3 parts");
  auto header = b64url_decode(token.substr(0, dot1));
  auto claims_text = b64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = b64url_decode(token.substr(dot2 + 1));
  if (!header || !claims_text || !sig) return fail(Error::Code::kInvalidInput, "bad JWT encoding");
  boost::system::error_code ec;
  auto h = boost::json::parse(*header, ec);
  if (ec || !h.is_object() || !h.as_object().contains("alg") ||
      h.as_object().at("alg") != "ed25519-nkey") {
    return fail(Error::Code::kInvalidInput, "JWT header is not ed25519-nkey");
  }
  auto c = boost::json::parse(*claims_text, ec);
  if (ec || !c.is_object()) return fail(Error::Code::kInvalidInput, "JWT claims are not an object");
  VerifiedJwt out;
  out.claims = std::move(c.as_object());
  auto iss = out.claims.if_contains("iss");
  auto sub = out.claims.if_contains("sub");
  if (iss == nullptr || !iss->is_string() || sub == nullptr || !sub->is_string()) {
    return fail(Error::Code::kInvalidInput, "JWT lacks iss or sub");
  }
  out.issuer = std::string(iss->as_string());
  out.subject = std::string(sub->as_string());
  std::vector<std::uint8_t> sig_bytes(sig->begin(), sig->end());
  if (!verify_signature(out.issuer, token.substr(0, dot2), sig_bytes)) {
    return fail(Error::Code::kInvalidInput, "JWT signature does not verify");
  }
  return out;
}

}  // namespace rmm::broker
