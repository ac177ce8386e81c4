#include "common/jetstream_reply.h"

#include <doctest/doctest.h>

using rmm::nats::parse_delivery_reply;
using rmm::nats::wire_start_time;

TEST_CASE("a delivery's position is read from both forms of a JetStream reply subject") {
  auto v1 = parse_delivery_reply("$JS.ACK.RMM_EVENTS.ord_1.1.4711.12.1700000000000000001.5");
  REQUIRE(v1);
  CHECK(v1->stream_seq == 4711);
  CHECK(v1->stream_time == 1700000000000000001);
  CHECK(v1->pending == 5);
  CHECK(v1->consumer_seq == 12);
  auto v2 = parse_delivery_reply("$JS.ACK.hub.ACCHASH.RMM_EVENTS.ord_1.1.99.12.17.3.rand");
  REQUIRE(v2);
  CHECK(v2->stream_seq == 99);
  CHECK(v2->stream_time == 17);
  CHECK(v2->pending == 3);
  CHECK(v2->consumer_seq == 12);
  auto v2_short = parse_delivery_reply("$JS.ACK.hub.ACCHASH.RMM_EVENTS.ord_1.1.7.12.17.0");
  REQUIRE(v2_short);
  CHECK(v2_short->stream_seq == 7);
  CHECK_FALSE(parse_delivery_reply(""));
  CHECK_FALSE(parse_delivery_reply("_INBOX.abc"));
  CHECK_FALSE(parse_delivery_reply("$JS.ACK.RMM_EVENTS.ord_1.1.x12.12.1.5"));
  CHECK_FALSE(parse_delivery_reply("$JS.ACK.RMM_EVENTS.ord_1.1.12"));
  CHECK_FALSE(parse_delivery_reply("$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m.n"));
}

TEST_CASE("a start time whose fraction nats.c would mangle goes out as its whole second") {
  constexpr std::int64_t kSecond = 1'000'000'000;
  CHECK(wire_start_time(5 * kSecond + 87'942'658) == 5 * kSecond);
  CHECK(wire_start_time(5 * kSecond + 1) == 5 * kSecond);
  CHECK(wire_start_time(5 * kSecond) == 5 * kSecond);
  CHECK(wire_start_time(5 * kSecond + 100'000'000) == 5 * kSecond + 100'000'000);
  CHECK(wire_start_time(5 * kSecond + 987'654'321) == 5 * kSecond + 987'654'321);
}
