// JSON Web Keys and the signature check of a compact JWS (an ID token), with OpenSSL's libcrypto.
// Accepted: RS256 (RSA PKCS#1 v1.5, SHA-256, keys of 2048 bits or more) and ES256 (P-256,
// SHA-256). Never "none", never an HMAC (a client secret is not a provider's signing key), and
// the algorithm must match the key's type (and the key's "alg" when it names one).
//
// Concurrency: a JwkSet is immutable once parsed; share it freely.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace rmm::api::oidc {

struct Jwk {
  std::string kid;
  std::string alg;  // "RS256" or "ES256": what this key verifies
  std::shared_ptr<EVP_PKEY> key;
};

struct JwkSet {
  std::vector<Jwk> keys;
};

// The provider's JWKS document. Keys of other types, curves or uses ("enc") are skipped; a set
// with no usable key is an error.
Result<JwkSet> parse_jwks(std::string_view json);

// Checks the signature of a compact JWS against `keys` and returns its payload, a JSON object.
// The key is the one whose "kid" matches the header's (or the only key of the algorithm when
// the header has none). kNotFound when no key matches (the caller may refresh the set once);
// kInvalidInput for anything malformed or a bad signature.
Result<boost::json::object> verify_jws(std::string_view compact, const JwkSet& keys);

}  // namespace rmm::api::oidc
