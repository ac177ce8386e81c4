#include "admin/tenancy/enrollment_codes.h"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace rmm::tenancy {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kGroup = 5;

}  // namespace

std::string generate_enrollment_code() {
  [[maybe_unused]] static const int sodium_ready = sodium_init();  // idempotent, thread-safe
  std::string out;
  for (std::size_t i = 0; i < kCodeChars; ++i) {
    if (i > 0 && i % kGroup == 0) out += '-';
    out += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  }
  return out;
}

std::optional<std::string> normalise_enrollment_code(std::string_view text) {
  if (text.size() > 2 * kCodeChars) return std::nullopt;
  std::string out;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    out += c;
  }
  if (out.size() != kCodeChars) return std::nullopt;
  return out;
}

std::string enrollment_code_hash(std::string_view normalised_code) {
  return sha256_hex("gururmm-enrollment-code-v1:" + std::string(normalised_code));
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data(), digest.size() * 2);
}

}  // namespace rmm::tenancy
