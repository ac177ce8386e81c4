// Password hashing and session tokens (libsodium).
//
// Passwords: Argon2id through crypto_pwhash_str with the "interactive" limits (64 MiB, about
// 0.1 s here), self-describing strings stored in auth.credentials.password_hash. Tokens: 32 random
// bytes, unpadded base64url (43 characters); only their SHA-256 is stored
// (Authenticator::token_hash_hex).
//
// Concurrency: thread-safe. hash_password()/verify_password() take ~0.1 s and 64 MiB each: call
// them from the worker pool, and bound how many run at once (the login token bucket does).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::api {

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

// Fails on an out-of-range length or when libsodium cannot allocate.
Result<std::string> hash_password(std::string_view password);
// False also for a malformed hash. Same cost whatever the outcome.
bool verify_password(std::string_view hash, std::string_view password);
// A fixed hash of a random password, verified against for unknown users so a login costs the same
// whether or not the user exists.
const std::string& decoy_hash();

// A fresh random session token.
std::string new_session_token();
// A random password for bootstrap: 24 characters of base64url (144 bits).
std::string random_password();

}  // namespace rmm::api
