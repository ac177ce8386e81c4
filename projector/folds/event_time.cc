#include "projector/folds/event_time.h"

#include <algorithm>
#include <limits>

namespace rmm::projector {
namespace {

UnixNanos saturating_add(UnixNanos a, std::int64_t b) {
  constexpr auto kMax = std::numeric_limits<UnixNanos>::max();
  constexpr auto kMin = std::numeric_limits<UnixNanos>::min();
  if (b > 0 && a > kMax - b) return kMax;
  if (b < 0 && a < kMin - b) return kMin;
  return a + b;
}

}  // namespace

UnixNanos clamp_event_time(UnixNanos agent_time, UnixNanos stored_at) {
  const UnixNanos earliest = saturating_add(stored_at, -kMaxEventLag.count());
  const UnixNanos latest = saturating_add(stored_at, kMaxEventLead.count());
  return std::clamp(agent_time, earliest, latest);
}

}  // namespace rmm::projector
