// What the updater checks before it installs a release, each failure named by the reason its
// Refused event carries: the signed manifest message (signature by a trusted key, then the
// manifest's version, platform, arch and version order), then every chunk and the whole artifact
// (hash, size).
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "updater/release/manifest.h"
#include "updater/release/signing.h"

namespace rmm::release {

// Why a release was refused: `reason` is one of bad_signature, unknown_key, bad_manifest,
// wrong_version, wrong_platform, wrong_arch, downgrade, already_current, too_old, hash_mismatch,
// truncated; `detail` is for people.
struct Refusal {
  std::string reason;
  std::string detail;
};

// The body of a release's manifest message: the manifest JSON verbatim and its signature line,
// wrapped in a JSON object {"manifest": "...", "signature": "ed25519 ..."}.
std::string manifest_message(std::string_view manifest_json, std::string_view signature);
struct SignedManifest {
  std::string manifest_json;
  std::string signature;
};
Result<SignedManifest> parse_manifest_message(std::string_view body);

struct Expectation {
  std::string version;  // what the command asked for
  std::string platform;
  std::string arch;
  std::string current_version;  // the running agent's
  bool allow_downgrade = false;
  std::string sha256;  // from the command; empty: not stated
};

std::expected<Manifest, Refusal> check_manifest(std::span<const TrustedKey> trusted,
                                                const SignedManifest& signed_manifest,
                                                const Expectation& expect);

std::expected<void, Refusal> check_chunk(const Manifest& m, std::uint64_t index,
                                         std::span<const std::uint8_t> chunk);
std::expected<void, Refusal> check_artifact(const Manifest& m,
                                            std::span<const std::uint8_t> artifact);

}  // namespace rmm::release
