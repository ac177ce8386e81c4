#include "api/auth/oidc/id_token.h"

#include <sodium.h>

namespace rmm::api::oidc {
namespace {

std::optional<std::string> string_claim(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

// A NumericDate (seconds; providers send integers, fractions are allowed).
std::optional<double> time_claim(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<IdClaims> check_id_token(const boost::json::object& claims, const IdTokenExpect& expect) {
  auto bad = [](std::string_view why) {
    return fail(Error::Code::kInvalidInput, "ID token: " + std::string(why));
  };
  if (string_claim(claims, "iss") != expect.issuer) return bad("wrong issuer (iss)");

  const auto* aud = claims.if_contains("aud");
  bool ours = false;
  std::size_t audiences = 0;
  if (aud != nullptr && aud->is_string()) {
    ours = aud->as_string() == expect.client_id;
    audiences = 1;
  } else if (aud != nullptr && aud->is_array()) {
    for (const auto& a : aud->as_array()) {
      ++audiences;
      if (a.is_string() && a.as_string() == expect.client_id) ours = true;
    }
  }
  if (!ours) return bad("not issued to this client (aud)");
  auto azp = string_claim(claims, "azp");
  if (audiences > 1 && azp != expect.client_id) return bad("several audiences and azp not us");
  if (azp && *azp != expect.client_id) return bad("authorized party (azp) is another client");

  const double now = static_cast<double>(expect.now) / 1e9;
  const auto skew = static_cast<double>(expect.skew.count());
  auto exp = time_claim(claims, "exp");
  auto iat = time_claim(claims, "iat");
  if (!exp || now > *exp + skew) return bad("expired (exp)");
  if (!iat || *iat > now + skew) return bad("issued in the future (iat)");
  if (now - *iat > static_cast<double>(expect.max_age.count()) + skew) {
    return bad("issued too long ago (iat)");
  }
  if (auto nbf = time_claim(claims, "nbf"); nbf && *nbf > now + skew) {
    return bad("not valid yet (nbf)");
  }
  auto nonce = string_claim(claims, "nonce");
  if (!nonce || !same_secret(*nonce, expect.nonce)) return bad("wrong nonce");

  IdClaims out;
  out.issuer = expect.issuer;
  auto subject = string_claim(claims, expect.subject_claim);
  if (!subject || subject->empty() || subject->size() > 255) {
    return bad("no usable subject claim (" + expect.subject_claim + ")");
  }
  out.subject = std::move(*subject);
  out.email = string_claim(claims, "email");
  const auto* verified = claims.if_contains("email_verified");
  out.email_verified = verified != nullptr && verified->is_bool() && verified->as_bool();
  out.name = string_claim(claims, "name");
  if (const auto* amr = claims.if_contains("amr"); amr != nullptr && amr->is_array()) {
    for (const auto& m : amr->as_array()) {
      if (m.is_string() && out.amr.size() < 16) out.amr.emplace_back(m.as_string());
    }
  }
  return out;
}

}  // namespace rmm::api::oidc
