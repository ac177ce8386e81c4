// What a rollout may be, shared by `rmm-release rollout-create` and the API's
// POST /api/v1/rollouts: both build the same RolloutCreated event (codec::build_rollout_created)
// from a RolloutCreatedInfo that check_rollout() accepted.
//
// Concurrency: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/control_plane_events.h"
#include "common/result.h"

namespace rmm::rollout {

inline constexpr std::size_t kMaxRings = 16;
inline constexpr std::size_t kMaxRingAgents = 1000;
inline constexpr std::size_t kMaxRingName = 64;
inline constexpr std::size_t kMaxVersion = 64;

// "canary=<agent id>+<agent id>" or "rest=50%" (the CLI's --rings items).
Result<codec::RolloutRingInfo> parse_ring_spec(std::string_view spec);

// kInvalidInput (naming the field) unless: the version is 1..64 characters of [0-9A-Za-z.+-];
// platform and arch likewise (1..32); 1..16 rings, each with a unique name of 1..64 characters of
// [A-Za-z0-9_-] and either 1..1000 distinct agents or a percent of 1..100 (not both); thresholds
// 1..100.
Status check_rollout(const codec::RolloutCreatedInfo& info);

}  // namespace rmm::rollout
