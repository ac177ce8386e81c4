// TOTP against the published vectors: RFC 4226 appendix D (HOTP) and RFC 6238 appendix B (TOTP,
// SHA-1), base32 against RFC 4648 section 10; then the window, replay and recovery-code rules.
#include "api/auth/totp.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rmm;
using namespace rmm::api;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

const std::vector<std::uint8_t> kRfcKey = bytes("12345678901234567890");

constexpr UnixNanos at(std::int64_t seconds) {
  return seconds * 1'000'000'000;
}

}  // namespace

TEST_CASE("totp: HOTP values of RFC 4226 appendix D") {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t i = 0; i < 10; ++i) CHECK(totp::hotp(kRfcKey, i) == expected[i]);
}

TEST_CASE("totp: TOTP values of RFC 6238 appendix B (SHA-1, 8 digits)") {
  struct Vector {
    std::int64_t seconds;
    const char* code;
  };
  for (auto [seconds, code] : {Vector{59, "94287082"}, Vector{1111111109, "07081804"},
                               Vector{1111111111, "14050471"}, Vector{1234567890, "89005924"},
                               Vector{2000000000, "69279037"}, Vector{20000000000, "65353130"}}) {
    CAPTURE(seconds);
    // Year 2603 (the last vector) is past what UnixNanos holds: its step is computed here.
    const std::int64_t step = seconds / 30;
    if (seconds < 9'000'000'000) CHECK(totp::step_at(at(seconds)) == step);
    CHECK(totp::hotp(kRfcKey, static_cast<std::uint64_t>(step), 8) == code);
  }
}

TEST_CASE("totp: base32 of RFC 4648 section 10, without padding, and back") {
  struct Vector {
    const char* plain;
    const char* encoded;
  };
  for (auto [plain, encoded] :
       {Vector{"", ""}, Vector{"f", "MY"}, Vector{"fo", "MZXQ"}, Vector{"foo", "MZXW6"},
        Vector{"foob", "MZXW6YQ"}, Vector{"fooba", "MZXW6YTB"}, Vector{"foobar", "MZXW6YTBOI"}}) {
    CHECK(totp::base32(bytes(plain)) == encoded);
    auto back = totp::from_base32(encoded);
    REQUIRE(back.has_value());
    CHECK(*back == bytes(plain));
  }
  CHECK(totp::from_base32("mzxw6ytboi") == bytes("foobar"));
  CHECK_FALSE(totp::from_base32("MZXW6YTB0I").has_value());  // '0' is not in the alphabet
  CHECK_FALSE(totp::from_base32("MZ======").has_value());
  CHECK_FALSE(totp::from_base32("MZ").has_value());  // "MY" with a stray padding bit
  CHECK_FALSE(totp::from_base32("MB").has_value());  // non-zero padding bits
}

TEST_CASE("totp: codes match one step either way, each step once, and only six digits") {
  const auto secret = totp::new_secret();
  CHECK(secret.size() == 20);
  CHECK(totp::new_secret() != secret);
  const UnixNanos now = at(1'767'323'115);  // 15 s into step 58'910'770
  const std::int64_t step = totp::step_at(now);
  CHECK(step == 58'910'770);
  auto code = [&](std::int64_t s) { return totp::hotp(secret, static_cast<std::uint64_t>(s)); };
  CHECK(totp::match(secret, code(step), now, -1) == step);
  CHECK(totp::match(secret, code(step - 1), now, -1) == step - 1);
  CHECK(totp::match(secret, code(step + 1), now, -1) == step + 1);
  CHECK_FALSE(totp::match(secret, code(step - 2), now, -1).has_value());
  CHECK_FALSE(totp::match(secret, code(step + 2), now, -1).has_value());
  // Replay: once a step is accepted, neither it nor an earlier one is again.
  CHECK_FALSE(totp::match(secret, code(step), now, step).has_value());
  CHECK_FALSE(totp::match(secret, code(step - 1), now, step).has_value());
  CHECK(totp::match(secret, code(step + 1), now, step) == step + 1);
  CHECK_FALSE(totp::match(secret, code(step).substr(0, 5), now, -1).has_value());
  CHECK_FALSE(totp::match(secret, code(step) + "0", now, -1).has_value());
  CHECK_FALSE(totp::match(secret, "12345a", now, -1).has_value());
}

TEST_CASE("totp: the otpauth URI an authenticator app scans") {
  auto uri = totp::otpauth_uri("GuruRMM", "ann@example.com", kRfcKey);
  CHECK(uri ==
        "otpauth://totp/GuruRMM:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        "&issuer=GuruRMM&algorithm=SHA1&digits=6&period=30");
}

TEST_CASE("totp: recovery codes are 80 random bits, typed loosely, hashed") {
  auto code = totp::new_recovery_code();
  CHECK(code.size() == 19);
  CHECK(code[4] == '-');
  CHECK(code[9] == '-');
  CHECK(code[14] == '-');
  CHECK(totp::new_recovery_code() != code);
  auto normal = totp::normalize_recovery_code(code);
  REQUIRE(normal.has_value());
  CHECK(normal->size() == 16);
  std::string shouted;
  for (char c : code) shouted += (c == '-') ? ' ' : static_cast<char>(std::toupper(c));
  CHECK(totp::normalize_recovery_code(shouted) == normal);
  CHECK(totp::recovery_code_hash_hex(*normal).size() == 64);
  CHECK(totp::recovery_code_hash_hex(*normal) != totp::recovery_code_hash_hex("aaaaaaaaaaaaaaaa"));
  CHECK_FALSE(totp::normalize_recovery_code("abcd-efgh").has_value());
  CHECK_FALSE(totp::normalize_recovery_code("abcd-efgh-ijkl-mno1").has_value());
}
