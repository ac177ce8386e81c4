// NATS NKeys: Ed25519 keys in the text form nats-server and nats.c expect.
//
// A public key is base32(prefix byte + 32-byte key + CRC16-XMODEM little-endian), 56 characters,
// starting with 'O' (operator), 'A' (account) or 'U' (user). A seed is base32(2 prefix bytes +
// 32-byte Ed25519 seed + CRC16), 58 characters, starting with "SO", "SA" or "SU".
//
// Concurrency: KeyPair is a value; const methods are safe from any thread.
// Limitations: only the operator, account and user roles (no server, cluster or curve keys).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::broker {

enum class KeyRole { kOperator, kAccount, kUser };

using PublicKeyBytes = std::array<std::uint8_t, 32>;
using SignatureBytes = std::array<std::uint8_t, 64>;

// RFC 4648 base32 without padding, and back (rejects characters outside the alphabet).
std::string base32_encode(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> base32_decode(std::string_view text);
// CRC16-XMODEM (polynomial 0x1021, initial value 0), as NKeys use it.
std::uint16_t crc16_xmodem(std::span<const std::uint8_t> bytes);

// The 56-character public key text of `key` for `role`.
std::string encode_public_key(KeyRole role, const PublicKeyBytes& key);
// Checks length, alphabet, CRC and that the prefix is `role`'s.
Result<PublicKeyBytes> decode_public_key(std::string_view text, KeyRole role);
// The role a public key text claims by its first character (no CRC check).
Result<KeyRole> role_of_public_key(std::string_view text);

// Ed25519 detached signature check of `message` by the public key text `public_key`.
bool verify_signature(std::string_view public_key, std::string_view message,
                      std::span<const std::uint8_t> signature);

class KeyPair {
 public:
  // A fresh random key (libsodium).
  static KeyPair generate(KeyRole role);
  // Parses a seed text ("SO...", "SA...", "SU..."), checking its CRC and, if given, its role.
  static Result<KeyPair> from_seed(std::string_view seed_text);

  KeyRole role() const { return role_; }
  const PublicKeyBytes& public_bytes() const { return public_key_; }
  std::string public_key() const { return encode_public_key(role_, public_key_); }
  // The secret seed text: never log it.
  std::string seed() const;
  SignatureBytes sign(std::string_view message) const;

 private:
  KeyRole role_ = KeyRole::kUser;
  std::array<std::uint8_t, 32> seed_{};
  PublicKeyBytes public_key_{};
  std::array<std::uint8_t, 64> secret_key_{};
};

}  // namespace rmm::broker
