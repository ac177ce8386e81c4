#include "admin/nkeys.h"

#include <sodium.h>

#include <stdexcept>

namespace rmm::broker {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::uint8_t kSeedPrefix = 18 << 3;  // 'S'

constexpr std::uint8_t prefix_byte(KeyRole role) {
  switch (role) {
    case KeyRole::kOperator:
      return 14 << 3;  // 'O'
    case KeyRole::kAccount:
      return 0;  // 'A'
    case KeyRole::kUser:
      return 20 << 3;  // 'U'
  }
  return 0;
}

Result<KeyRole> role_from_prefix(std::uint8_t prefix) {
  for (auto role : {KeyRole::kOperator, KeyRole::kAccount, KeyRole::kUser}) {
    if (prefix_byte(role) == prefix) return role;
  }
  return fail(Error::Code::kInvalidInput, "unknown nkey prefix");
}

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

// Appends the CRC of `raw` and encodes the whole.
std::string encode_with_crc(std::vector<std::uint8_t> raw) {
  std::uint16_t crc = crc16_xmodem(raw);
  raw.push_back(static_cast<std::uint8_t>(crc & 0xff));
  raw.push_back(static_cast<std::uint8_t>(crc >> 8));
  return base32_encode(raw);
}

// Decodes and checks the CRC; returns the bytes without it.
Result<std::vector<std::uint8_t>> decode_with_crc(std::string_view text) {
  auto raw = base32_decode(text);
  if (!raw) return std::unexpected(raw.error());
  if (raw->size() < 3) return fail(Error::Code::kInvalidInput, "nkey too short");
  std::size_t n = raw->size() - 2;
  std::uint16_t want = static_cast<std::uint16_t>((*raw)[n] | ((*raw)[n + 1] << 8));
  raw->resize(n);
  if (crc16_xmodem(*raw) != want) return fail(Error::Code::kInvalidInput, "nkey CRC mismatch");
  return raw;
}

}  // namespace

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) {
      return fail(Error::Code::kInvalidInput, "invalid base32 character");
    }
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::uint16_t crc16_xmodem(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0;
  for (std::uint8_t b : bytes) {
    crc ^= static_cast<std::uint16_t>(b << 8);
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::string encode_public_key(KeyRole role, const PublicKeyBytes& key) {
  std::vector<std::uint8_t> raw;
  raw.reserve(35);
  raw.push_back(prefix_byte(role));
  raw.insert(raw.end(), key.begin(), key.end());
  return encode_with_crc(std::move(raw));
}

Result<PublicKeyBytes> decode_public_key(std::string_view text, KeyRole role) {
  if (text.size() != 56) return fail(Error::Code::kInvalidInput, "public nkey must be 56 chars");
  auto raw = decode_with_crc(text);
  if (!raw) return std::unexpected(raw.error());
  if (raw->size() != 33) return fail(Error::Code::kInvalidInput, "public nkey has a bad length");
  if ((*raw)[0] != prefix_byte(role)) {
    return fail(Error::Code::kInvalidInput, "public nkey has the wrong role prefix");
  }
  PublicKeyBytes key;
  std::copy(raw->begin() + 1, raw->end(), key.begin());
  return key;
}

Result<KeyRole> role_of_public_key(std::string_view text) {
  if (text.empty()) return fail(Error::Code::kInvalidInput, "empty public nkey");
  switch (text.front()) {
    case 'O':
      return KeyRole::kOperator;
    case 'A':
      return KeyRole::kAccount;
    case 'U':
      return KeyRole::kUser;
    default:
      return fail(Error::Code::kInvalidInput, "unknown public nkey prefix");
  }
}

bool verify_signature(std::string_view public_key, std::string_view message,
                      std::span<const std::uint8_t> signature) {
  ensure_sodium();
  auto role = role_of_public_key(public_key);
  if (!role || signature.size() != crypto_sign_BYTES) return false;
  auto key = decode_public_key(public_key, *role);
  if (!key) return false;
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key->data()) == 0;
}

KeyPair KeyPair::generate(KeyRole role) {
  ensure_sodium();
  KeyPair kp;
  kp.role_ = role;
  randombytes_buf(kp.seed_.data(), kp.seed_.size());
  crypto_sign_seed_keypair(kp.public_key_.data(), kp.secret_key_.data(), kp.seed_.data());
  return kp;
}

Result<KeyPair> KeyPair::from_seed(std::string_view seed_text) {
  ensure_sodium();
  if (seed_text.size() != 58) return fail(Error::Code::kInvalidInput, "nkey seed must be 58 chars");
  auto raw = decode_with_crc(seed_text);
  if (!raw) return std::unexpected(raw.error());
  if (raw->size() != 34) return fail(Error::Code::kInvalidInput, "nkey seed has a bad length");
  if (((*raw)[0] & 0xf8) != kSeedPrefix) return fail(Error::Code::kInvalidInput, "not a seed");
  std::uint8_t prefix = static_cast<std::uint8_t>((((*raw)[0] & 7) << 5) | ((*raw)[1] >> 3));
  auto role = role_from_prefix(prefix);
  if (!role) return std::unexpected(role.error());
  KeyPair kp;
  kp.role_ = *role;
  std::copy(raw->begin() + 2, raw->end(), kp.seed_.begin());
  sodium_memzero(raw->data(), raw->size());
  crypto_sign_seed_keypair(kp.public_key_.data(), kp.secret_key_.data(), kp.seed_.data());
  return kp;
}

std::string KeyPair::seed() const {
  std::uint8_t p = prefix_byte(role_);
  std::vector<std::uint8_t> raw;
  raw.reserve(36);
  raw.push_back(static_cast<std::uint8_t>(kSeedPrefix | (p >> 5)));
  raw.push_back(static_cast<std::uint8_t>((p & 31) << 3));
  raw.insert(raw.end(), seed_.begin(), seed_.end());
  std::string text = encode_with_crc(raw);
  sodium_memzero(raw.data(), raw.size());
  return text;
}

SignatureBytes KeyPair::sign(std::string_view message) const {
  SignatureBytes sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_key_.data());
  return sig;
}

}  // namespace rmm::broker
