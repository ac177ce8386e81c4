// NATS JWTs: `b64url(header).b64url(claims).b64url(ed25519 signature)` with the header
// {"typ":"JWT","alg":"ed25519-nkey"}; the issuer's NKey signs "<b64 header>.<b64 claims>".
//
// Concurrency: free functions without shared state.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "admin/nkeys.h"
#include "common/result.h"

namespace rmm::broker {

// URL-safe base64 without padding, and back.
std::string b64url_encode(std::string_view bytes);
Result<std::string> b64url_decode(std::string_view text);

// Fills in `jti` (a hash of the claims) and `iss` (the issuer's public key), then signs.
// `claims` must already hold `sub`, `iat`, `name` and the `nats` object.
std::string encode_jwt(boost::json::object claims, const KeyPair& issuer);

// A JWT whose signature was verified against the public key in its `iss` claim.
struct VerifiedJwt {
  boost::json::object claims;
  std::string issuer;
  std::string subject;
};
// Checks the header, the encoding and the signature. Does not check expiry or the issuer's
// authority over the subject (nats-server does that).
Result<VerifiedJwt> decode_and_verify_jwt(std::string_view token);

}  // namespace rmm::broker
