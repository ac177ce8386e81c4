#include "api/auth/passwords.h"

#include <sodium.h>

#include <array>
#include <vector>

namespace rmm::api {
namespace {

std::string random_base64url(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (password.size() > kMaxPasswordLength) return fail(Error::Code::kInvalidInput, "too long");
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return fail("out of memory hashing a password");
  }
  return std::string(out.data());
}

bool verify_password(std::string_view hash, std::string_view password) {
  if (hash.size() >= crypto_pwhash_STRBYTES || password.size() > kMaxPasswordLength) {
    verify_password(decoy_hash(), "");
    return false;
  }
  std::array<char, crypto_pwhash_STRBYTES> h{};
  std::copy(hash.begin(), hash.end(), h.begin());
  return crypto_pwhash_str_verify(h.data(), password.data(), password.size()) == 0;
}

const std::string& decoy_hash() {
  static const std::string hash = [] {
    auto h = hash_password(random_password());
    return h ? *h : std::string();
  }();
  return hash;
}

std::string new_session_token() {
  if (sodium_init() < 0) return {};
  return random_base64url(32);
}

std::string random_password() {
  if (sodium_init() < 0) return {};
  return random_base64url(18);
}

}  // namespace rmm::api
