// Ed25519 release signatures (libsodium). The private key is a file kept offline (mode 0600);
// the server never holds it. The agent and updater trust a set of public keys compiled into them
// (trusted_keys.h), several at once so a key can be rotated: sign with the new key once every
// agent runs a build that trusts it, then drop the old one.
//
// Key id: the first 8 bytes of SHA-256(public key) in hex. A detached signature is one line,
// "ed25519 <key id> <128 hex digits>", over the exact manifest bytes.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::release {

using PublicKey = std::array<std::uint8_t, 32>;

struct SigningKey {
  std::array<std::uint8_t, 64> secret{};  // libsodium form: seed + public key
  PublicKey public_key{};
};

struct Signature {
  std::string key_id;
  std::array<std::uint8_t, 64> bytes{};
};

struct TrustedKey {
  std::string key_id;
  PublicKey public_key{};
};

// Why a signature was not accepted; the updater reports these names.
enum class SignatureProblem { kMalformed, kUnknownKey, kBadSignature };
std::string_view problem_reason(SignatureProblem p);  // "bad_signature", "unknown_key"

std::string key_id(const PublicKey& key);
std::string public_key_hex(const PublicKey& key);
Result<PublicKey> parse_public_key(std::string_view hex);

SigningKey generate_key();
// The private key file: "rmm-release-ed25519 <seed hex>\n", written 0600, refused if it exists.
Status save_private_key(const std::filesystem::path& path, const SigningKey& key);
Result<SigningKey> load_private_key(const std::filesystem::path& path);

Signature sign(const SigningKey& key, std::string_view message);
std::string format_signature(const Signature& s);
Result<Signature> parse_signature(std::string_view text);

// "<hex>,<hex>,..." (whitespace ignored): the form of the compiled-in list.
Result<std::vector<TrustedKey>> parse_trusted_keys(std::string_view list);

// Accepts `signature` over `message` only from a trusted key.
std::expected<void, SignatureProblem> verify(std::span<const TrustedKey> trusted,
                                             std::string_view signature, std::string_view message);

}  // namespace rmm::release
