// Site enrollment codes: what an installer types (`rmm-agent enroll --code ...`), and the hash
// that is all the event log and the read models ever hold.
//
// A code is 25 characters of RFC 4648 base32 (125 random bits, libsodium) in five groups of
// five: "K7QXM-2RW4T-...". With that much entropy an unkeyed SHA-256 cannot be reversed by
// guessing, so the hash needs no secret key (a keyed hash would only matter for short codes).
// Input is normalised first: case-insensitive, dashes and spaces ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rmm::tenancy {

inline constexpr std::size_t kCodeChars = 25;

std::string generate_enrollment_code();
// The code's 25 significant characters upper-cased, or nullopt when it cannot be a code.
std::optional<std::string> normalise_enrollment_code(std::string_view text);
// Lower-case hex SHA-256 of "gururmm-enrollment-code-v1:" + the normalised code.
std::string enrollment_code_hash(std::string_view normalised_code);

// Lower-case hex SHA-256 of `bytes` (libsodium).
std::string sha256_hex(std::string_view bytes);

}  // namespace rmm::tenancy
