// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1, 6 digits, 30 s steps:
// what every authenticator app understands), the base32 their secrets are shown in, the
// otpauth:// URI that enrols an app, and recovery codes.
//
// HMAC-SHA1 comes from OpenSSL's libcrypto (libsodium has no SHA-1); randomness from libsodium.
// SHA-1's collision weakness does not touch HMAC-SHA1 as a pseudo-random function, which is all
// HOTP needs (RFC 4226, appendix A).
//
// Concurrency: pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace rmm::api::totp {

inline constexpr std::size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
inline constexpr std::int64_t kStepSeconds = 30;
inline constexpr int kDigits = 6;
inline constexpr int kRecoveryCodes = 10;

// HOTP value of `counter` under `key`, `digits` (6-8) decimal digits, zero-padded.
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, int digits = kDigits);

// The time step that contains `now` (floor(unix seconds / 30)).
std::int64_t step_at(UnixNanos now);

// The step in [step_at(now) - 1, step_at(now) + 1] whose code is `code` (one step either way
// for clock drift and typing time), later than `after` (the last step accepted: a code is good
// once); nullopt when none. `code` must be exactly 6 digits; compared in constant time.
std::optional<std::int64_t> match(std::span<const std::uint8_t> key, std::string_view code,
                                  UnixNanos now, std::int64_t after);

// RFC 4648 base32, upper case, without padding (as otpauth:// URIs carry it).
std::string base32(std::span<const std::uint8_t> bytes);
// Decodes base32 (either case, no padding, no spaces); nullopt when malformed.
std::optional<std::vector<std::uint8_t>> from_base32(std::string_view text);

// A fresh random secret of kSecretBytes.
std::vector<std::uint8_t> new_secret();

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30,
// with issuer and account percent-encoded.
std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::span<const std::uint8_t> secret);

// A fresh recovery code: 16 characters of lower-case base32 (80 bits) in groups of four,
// "abcd-efgh-ijkl-mnop".
std::string new_recovery_code();
// What a typed recovery code is compared as: lower case, without '-' and spaces; nullopt when it
// cannot be one (length or alphabet).
std::optional<std::string> normalize_recovery_code(std::string_view typed);
// Hex of SHA-256 of the normalized code: what auth.totp_recovery_codes stores (80 random bits
// need no slow hash).
std::string recovery_code_hash_hex(std::string_view normalized);

}  // namespace rmm::api::totp
