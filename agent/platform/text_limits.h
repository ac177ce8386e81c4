// Size bounds for everything the collectors read from the host. A hostile or broken host (a
// 1 MB command line, 100,000 mounts, a package name full of control bytes) must not be able to
// make an event large or unreadable downstream, so every string and list is bounded where it is
// read, not where it is sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rmm::agent::platform {

inline constexpr std::size_t kMaxTextBytes = 256;     // names, labels, versions, paths
inline constexpr std::size_t kMaxCmdlineBytes = 256;  // process command lines
inline constexpr std::size_t kMaxCores = 1024;        // per-core CPU entries
inline constexpr std::size_t kMaxFilesystems = 64;
inline constexpr std::size_t kMaxDisks = 64;
inline constexpr std::size_t kMaxNetInterfaces = 64;
inline constexpr std::size_t kMaxAddressesPerInterface = 16;
inline constexpr std::size_t kMaxSensors = 64;
inline constexpr std::size_t kTopProcesses = 10;  // per ranking (CPU, memory)
inline constexpr std::size_t kMaxPackages = 10'000;
inline constexpr std::size_t kMaxServices = 2'000;
inline constexpr std::size_t kMaxErrors = 16;
// The packages list also stops at this many bytes of names and versions, so an Inventory stays
// well below the broker's 1 MiB default max_payload.
inline constexpr std::size_t kMaxPackageListBytes = 512 * 1024;

// `text` cut to at most `max_bytes` bytes at a character boundary, as valid UTF-8: invalid
// sequences become '?', control characters become ' '.
std::string clip_text(std::string_view text, std::size_t max_bytes = kMaxTextBytes);

}  // namespace rmm::agent::platform
