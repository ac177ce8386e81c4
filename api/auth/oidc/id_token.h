// The claim checks of an ID token whose signature already verified (jws.h), as OpenID Connect
// Core 3.1.3.7 asks: issuer, audience (and azp when there are several), expiry, issue time and
// not-before within a small clock skew, and the nonce of this sign-in.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::api::oidc {

struct IdTokenExpect {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::string subject_claim = "sub";  // the claim that identifies the user (Entra ID: "oid")
  UnixNanos now = 0;
  std::chrono::seconds skew{60};
  std::chrono::seconds max_age{3600};  // an older `iat` is refused whatever `exp` says
};

struct IdClaims {
  std::string issuer;
  std::string subject;  // the value of subject_claim
  std::optional<std::string> email;
  bool email_verified = false;
  std::optional<std::string> name;
  std::vector<std::string> amr;  // authentication methods, when the provider says
};

// kInvalidInput naming the first claim that fails (the message names no claim value).
Result<IdClaims> check_id_token(const boost::json::object& claims, const IdTokenExpect& expect);

}  // namespace rmm::api::oidc
