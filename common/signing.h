// Ed25519 signatures (libsodium) with a set of trusted public keys, shared by the two things
// GuruRMM signs: agent releases (updater/release, an offline key) and commands (common/
// command_signing.h, a key only the command issuers hold). A verifier trusts several keys at once
// so that a key can be rotated: sign with the new key once every verifier trusts it, then drop the
// old one.
//
// Key id: the first 8 bytes of SHA-256(public key) in hex. A detached signature is one line,
// "ed25519 <key id> <128 hex digits>", over the exact message bytes.
// A private key file is one line, "<tag> <seed hex>\n" (mode 0600, never overwritten); the tag
// says what the key is for ("rmm-release-ed25519", "rmm-command-ed25519"), so a release key is
// never loaded as a command key or the other way round.
//
// Concurrency: pure functions (libsodium must be initialised: sodium_init, as main() does).
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

namespace rmm::signing {

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
  bool operator==(const TrustedKey&) const = default;
};

// Why a signature was not accepted.
enum class SignatureProblem { kMalformed, kUnknownKey, kBadSignature };
std::string_view problem_reason(SignatureProblem p);  // "bad_signature", "unknown_key"

std::string key_id(const PublicKey& key);
std::string public_key_hex(const PublicKey& key);
Result<PublicKey> parse_public_key(std::string_view hex);
TrustedKey trusted_key(const PublicKey& key);

SigningKey generate_key();
// Writes "<tag> <seed hex>\n" with mode 0600; refused if the file exists.
Status save_private_key(const std::filesystem::path& path, const SigningKey& key,
                        std::string_view tag);
// Fails unless the file holds a key with exactly this tag.
Result<SigningKey> load_private_key(const std::filesystem::path& path, std::string_view tag);

Signature sign(const SigningKey& key, std::string_view message);
std::string format_signature(const Signature& s);
Result<Signature> parse_signature(std::string_view text);

// "<hex>,<hex>,..." (whitespace and newlines around items ignored; newlines also separate).
Result<std::vector<TrustedKey>> parse_trusted_keys(std::string_view list);
// One hex public key per line: the form parse_trusted_keys reads back.
std::string format_trusted_keys(std::span<const TrustedKey> keys);

// Accepts a signature over `message` only from a trusted key.
std::expected<void, SignatureProblem> verify(std::span<const TrustedKey> trusted,
                                             const Signature& signature, std::string_view message);
// The same for the one-line text form (kMalformed when it does not parse).
std::expected<void, SignatureProblem> verify(std::span<const TrustedKey> trusted,
                                             std::string_view signature, std::string_view message);

}  // namespace rmm::signing
