// Release signatures: the shared Ed25519 code (common/signing.h) with release key files. The
// private key is a file kept offline (mode 0600); the server never holds it. The agent and updater
// trust a set of public keys compiled into them (trusted_keys.h), several at once so a key can be
// rotated: sign with the new key once every agent runs a build that trusts it, then drop the old
// one. A detached signature covers the exact manifest bytes.
#pragma once

#include <filesystem>

#include "common/signing.h"

namespace rmm::release {

using signing::format_signature;
using signing::generate_key;
using signing::key_id;
using signing::parse_public_key;
using signing::parse_signature;
using signing::parse_trusted_keys;
using signing::problem_reason;
using signing::public_key_hex;
using signing::PublicKey;
using signing::sign;
using signing::Signature;
using signing::SignatureProblem;
using signing::SigningKey;
using signing::TrustedKey;
using signing::verify;

inline constexpr std::string_view kReleaseKeyTag = "rmm-release-ed25519";

// "rmm-release-ed25519 <seed hex>\n", written 0600, refused if it exists.
inline Status save_private_key(const std::filesystem::path& path, const SigningKey& key) {
  return signing::save_private_key(path, key, kReleaseKeyTag);
}
inline Result<SigningKey> load_private_key(const std::filesystem::path& path) {
  return signing::load_private_key(path, kReleaseKeyTag);
}

}  // namespace rmm::release
