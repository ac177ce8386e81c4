// The signed description of one agent build (a release): what the updater checks before it
// installs anything. The signature covers the manifest's exact JSON bytes (to_json() output), so
// the JSON is generated once by `rmm-release sign` and carried verbatim from then on.
//
// The artifact is cut into chunks of `chunk_size` bytes (the last may be shorter); each chunk's
// SHA-256 is in the manifest, so a tampered or truncated chunk is rejected as it arrives, and the
// whole artifact's SHA-256 and size are checked once assembled.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::release {

inline constexpr std::uint64_t kDefaultChunkSize = 256 * 1024;
// Large enough for a statically linked agent, small enough to refuse absurd manifests.
inline constexpr std::uint64_t kMaxArtifactSize = 512ull * 1024 * 1024;

struct Manifest {
  std::string version;
  std::string platform;  // "linux", "windows", "macos"
  std::string arch;      // "x86_64", "aarch64"
  std::uint64_t size = 0;
  std::string sha256;            // hex, lower case
  std::string min_from_version;  // empty: any version may update to this one
  std::string notes;
  std::uint64_t chunk_size = kDefaultChunkSize;
  std::vector<std::string> chunk_sha256;
};

// Describes `artifact` (sizes and hashes); the caller fills version, platform, arch and notes.
Manifest describe(std::span<const std::uint8_t> artifact, std::uint64_t chunk_size);

std::string to_json(const Manifest& m);
// Strict: every field of the right type, versions and names usable as subject tokens, chunk count
// consistent with size and chunk size.
Result<Manifest> parse_manifest(std::string_view json);

std::string sha256_hex(std::span<const std::uint8_t> data);

// This machine's platform and architecture names as manifests spell them.
std::string host_platform();
std::string host_arch();

}  // namespace rmm::release
