#include "api/auth/totp.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>

namespace rmm::api::totp {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32_value(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, int digits) {
  std::array<std::uint8_t, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // HMAC() fails only on allocation failure; an all-zero MAC then yields a code nobody can know
  // in advance less than any other (and matching fails closed on the length check below).
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           mac.data(), &mac_len) == nullptr ||
      mac_len != 20) {
    return {};
  }
  // Dynamic truncation (RFC 4226, 5.3).
  const unsigned offset = mac[19] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  return fmt::format("{:0{}}", binary % modulus, digits);
}

std::int64_t step_at(UnixNanos now) {
  const std::int64_t seconds = now / 1'000'000'000;
  // Floor, also before 1970 (never in practice; keeps the arithmetic honest).
  return seconds >= 0 ? seconds / kStepSeconds : -((-seconds + kStepSeconds - 1) / kStepSeconds);
}

std::optional<std::int64_t> match(std::span<const std::uint8_t> key, std::string_view code,
                                  UnixNanos now, std::int64_t after) {
  if (code.size() != static_cast<std::size_t>(kDigits)) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const std::int64_t current = step_at(now);
  std::optional<std::int64_t> found;
  // Every candidate is computed and compared, matched or not, so timing tells nothing of which.
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    if (step < 0) continue;
    std::string expected = hotp(key, static_cast<std::uint64_t>(step));
    bool same = expected.size() == code.size() &&
                sodium_memcmp(expected.data(), code.data(), code.size()) == 0;
    if (same && step > after && !found) found = step;
  }
  return found;
}

std::string base32(std::span<const std::uint8_t> bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 0x1f];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
  return out;
}

std::optional<std::vector<std::uint8_t>> from_base32(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = base32_value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  // Left-over bits must be padding zeros, fewer than a character's worth.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::vector<std::uint8_t> new_secret() {
  std::vector<std::uint8_t> secret(kSecretBytes);
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::span<const std::uint8_t> secret) {
  return fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}",
                     percent_encode(issuer), percent_encode(account), base32(secret),
                     percent_encode(issuer), kDigits, kStepSeconds);
}

std::string new_recovery_code() {
  std::array<std::uint8_t, 10> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string plain = base32(bytes);  // 16 characters
  std::string out;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    const char c = plain[i];
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::optional<std::string> normalize_recovery_code(std::string_view typed) {
  if (typed.size() > 64) return std::nullopt;
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    int v = base32_value(c);
    if (v < 0) return std::nullopt;
    out += kAlphabet[static_cast<std::size_t>(v)];
  }
  if (out.size() != 16) return std::nullopt;
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string recovery_code_hash_hex(std::string_view normalized) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(normalized.data()),
                     normalized.size());
  std::string hex(crypto_hash_sha256_BYTES * 2, '\0');
  sodium_bin2hex(hex.data(), hex.size() + 1, digest, sizeof digest);
  return hex;
}

}  // namespace rmm::api::totp
