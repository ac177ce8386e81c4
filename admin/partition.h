// The partition nats-server's `{{partition(n,1)}}` mapping gives a subject token:
// FNV-1a-32 of the token's bytes, modulo n. Lets any component compute `rmm.p.<k>...` offline.
#pragma once

#include <cstdint>
#include <string_view>

namespace rmm::broker {

constexpr std::uint32_t fnv1a_32(std::string_view bytes) {
  std::uint32_t h = 2166136261u;
  for (char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// `n` must be positive.
constexpr int partition_of(std::string_view token, int n) {
  return static_cast<int>(fnv1a_32(token) % static_cast<std::uint32_t>(n));
}

// The partition count of the `rmm.evt.*.*` mapping in the RMM account.
inline constexpr int kEventPartitions = 16;

}  // namespace rmm::broker
