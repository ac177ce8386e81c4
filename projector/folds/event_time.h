// The time of an agent event as the read models use it. An agent's clock decides which day
// partition its samples land in, until when it looks online and when its alerts are raised; a
// clock that is far off (or an agent that lies) must not create partitions in the year 2262 that
// retention never reaches, nor show an agent online until 2200. So the event time is the agent's
// own, clamped to a window around the moment the stream stored the message:
//
//     [stored_at - kMaxEventLag, stored_at + kMaxEventLead]
//
// stored_at is the JetStream timestamp of the message in RMM_EVENTS. It is part of the log, so a
// rebuild clamps exactly as the live projector did: no fold reads the projector's clock. The
// agent's time as sent is kept as data where a read model shows the event's time
// (metrics.agent_ts, agents.clock_offset_ms).
//
// Limitations: the window trusts the broker's clock. An agent back after more than kMaxEventLag
// offline has its oldest backlog events dated kMaxEventLag before they were stored: their raw
// samples fall in days retention drops at once, and their hourly rollups pile up in that hour.
#pragma once

#include <chrono>

#include "common/clock.h"

namespace rmm::projector {

// How far ahead of the stream an agent's clock may be. Above that, the event is dated
// stored_at + kMaxEventLead: an agent that claims the future looks online at most this long
// after it was last heard from (plus alert.offline.after_s).
inline constexpr std::chrono::nanoseconds kMaxEventLead = std::chrono::minutes(1);
// How long before it was stored an event may have happened: an agent's outbox holds events while
// it is offline, so this is generous; it matches the default metrics retention, so an old date
// creates no day partition that retention would not have kept anyway.
inline constexpr std::chrono::nanoseconds kMaxEventLag = std::chrono::days(30);

// `agent_time` clamped to the window around `stored_at` (saturating: never overflows).
UnixNanos clamp_event_time(UnixNanos agent_time, UnixNanos stored_at);

}  // namespace rmm::projector
