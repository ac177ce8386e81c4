// What a JetStream delivery's reply subject says about the message, and a start time nats.c
// sends correctly. Both are used by the ordered consumers (projector rebuild, rmm-replay).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace rmm::nats {

struct DeliveryInfo {
  std::uint64_t stream_seq = 0;
  UnixNanos stream_time = 0;
  std::uint64_t pending = 0;  // messages after this one, as the server counted at delivery
  // The consumer's delivery sequence: one more for every delivery, redeliveries included
  // (nats-server's consumer counts each), so a hole means a delivery that never arrived.
  std::uint64_t consumer_seq = 0;
};

// Parses "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>"
// and the v2 form with "<domain>.<account hash>." after "$JS.ACK." and an optional random token
// at the end, without allocating (the hot path of an export). nullopt if it is neither.
std::optional<DeliveryInfo> parse_delivery_reply(std::string_view reply);

// nats.c 3.4.1 writes OptStartTime's fraction without its leading zeros (x.051 s goes out as
// "x.51"), so a start time with a fraction under 0.1 s reaches the server up to 0.9 s late and
// silently skips messages. This is the start time to hand nats.c instead: the whole second below
// when the fraction would be mangled. The reader must drop what arrives before `since`.
UnixNanos wire_start_time(UnixNanos since);

}  // namespace rmm::nats
