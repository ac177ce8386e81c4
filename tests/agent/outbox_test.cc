#include "agent/outbox/outbox.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "agent/outbox/drop_reporter.h"
#include "agent/outbox/record.h"
#include "agent/publisher/msg_id_key.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "tests/agent/outbox_test_util.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using agent::EventClass;
using agent::Outbox;

namespace {

std::unique_ptr<Outbox> open_box(const std::filesystem::path& dir, const Clock& clock,
                                 std::uint64_t budget = 256ull << 20, std::string boot = "boot-a") {
  auto box = Outbox::open(dir, {budget, std::move(boot)}, clock);
  REQUIRE_MESSAGE(box.has_value(), (box ? "" : box.error().message));
  return std::move(*box);
}

std::vector<std::uint64_t> all_seqs(Outbox& box) {
  std::vector<std::uint64_t> out;
  AgentSeq after;
  for (int guard = 0; guard < 100'000; ++guard) {
    auto batch = box.next_unsent(after, 512);
    REQUIRE(batch.has_value());
    if (batch->empty()) break;
    for (const auto& e : *batch) out.push_back(e.seq.value);
    after = batch->back().seq;
  }
  return out;
}

}  // namespace

TEST_CASE("outbox records encode and decode, and reject what they cannot read") {
  const std::vector<std::uint8_t> bytes{1, 2, 3, 4};
  auto v = agent::outbox::encode_record(EventClass::kDroppable, "metrics", 1234, bytes);
  auto r = agent::outbox::decode_record(v);
  REQUIRE(r.has_value());
  CHECK(r->cls == EventClass::kDroppable);
  CHECK(r->subject_token == "metrics");
  CHECK(r->occurred_at == 1234);
  CHECK(std::vector<std::uint8_t>(r->bytes.begin(), r->bytes.end()) == bytes);
  CHECK_FALSE(agent::outbox::decode_record(v.substr(0, 5)).has_value());
  auto bad = v;
  bad[0] = 9;
  CHECK_FALSE(agent::outbox::decode_record(bad).has_value());
  // Keys sort in sequence order.
  auto k1 = agent::outbox::seq_key(255), k2 = agent::outbox::seq_key(256);
  CHECK(std::string_view(k1.data(), 8) < std::string_view(k2.data(), 8));
  CHECK(agent::outbox::seq_from_key(std::string_view(k2.data(), 8)) == 256u);
}

TEST_CASE("append, read oldest first, remove acked") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto box = open_box(dir / "outbox", clock);
  CHECK(box->depth() == 0);
  CHECK(box->oldest_unsent_age().count() == 0);

  auto s1 = test::append_event(*box, agent_id, clock, EventClass::kDurable);
  clock.advance(std::chrono::seconds(5));
  auto s2 = test::append_event(*box, agent_id, clock, EventClass::kDroppable);
  auto s3 = test::append_event(*box, agent_id, clock, EventClass::kDroppable);
  CHECK(s1.value == 1);
  CHECK(s2.value == 2);
  CHECK(s3.value == 3);
  CHECK(box->depth() == 3);
  CHECK(box->oldest_unsent_age() == std::chrono::seconds(5));

  auto batch = box->next_unsent(AgentSeq{}, 2);
  REQUIRE(batch.has_value());
  REQUIRE(batch->size() == 2);
  CHECK((*batch)[0].seq == s1);
  CHECK((*batch)[0].type == schema::Payload::AgentStarted);
  CHECK((*batch)[0].cls == EventClass::kDurable);
  CHECK((*batch)[1].type == schema::Payload::MetricsSample);
  auto env = codec::verify_event((*batch)[1].bytes);
  REQUIRE(env.has_value());
  CHECK((*env)->seq() == 2);

  auto rest = box->next_unsent((*batch)[1].seq, 10);
  REQUIRE(rest.has_value());
  REQUIRE(rest->size() == 1);
  CHECK(rest->front().seq == s3);

  const std::vector<AgentSeq> acked{s1, s2};
  REQUIRE(box->remove_acked(acked).has_value());
  REQUIRE(box->remove_acked(acked).has_value());  // acked twice: no double counting
  CHECK(box->depth() == 1);
  CHECK(box->oldest_unsent_age().count() == 0);  // s3 was appended "now"
  CHECK(all_seqs(*box) == std::vector<std::uint64_t>{3});
  auto gone = box->get(s1);
  REQUIRE(gone.has_value());
  CHECK_FALSE(gone->has_value());
  const std::vector<AgentSeq> last{s3};
  REQUIRE(box->remove_acked(last).has_value());
  CHECK(box->depth() == 0);
  CHECK(box->stored_bytes() == 0);
}

TEST_CASE("the sequence survives close and reopen and is never reused") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  {
    auto box = open_box(dir / "outbox", clock);
    for (int i = 0; i < 5; ++i) test::append_event(*box, agent_id, clock, EventClass::kDurable);
    auto all = box->next_unsent(AgentSeq{}, 10);
    REQUIRE(all.has_value());
    std::vector<AgentSeq> seqs;
    for (const auto& e : *all) seqs.push_back(e.seq);
    REQUIRE(box->remove_acked(seqs).has_value());  // even with nothing stored, 5 stays used
  }
  {
    auto box = open_box(dir / "outbox", clock);
    CHECK(box->last_seq().value == 5);
    CHECK(box->depth() == 0);
    CHECK(test::append_event(*box, agent_id, clock, EventClass::kDroppable).value == 6);
  }
  // A clean close is trusted even in another boot.
  auto box = open_box(dir / "outbox", clock, 256ull << 20, "boot-b");
  CHECK(test::append_event(*box, agent_id, clock, EventClass::kDurable).value == 7);
  CHECK(all_seqs(*box) == std::vector<std::uint64_t>{6, 7});
}

TEST_CASE("disk budget drops only droppable events, oldest first, and counts them") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  constexpr std::uint64_t kBudget = 64 * 1024;
  std::set<std::uint64_t> durable, droppable;
  {
    auto box = open_box(dir / "outbox", clock, kBudget);
    // Lease the first events as a publisher would: dropping them must not double count.
    for (int i = 0; i < 3000; ++i) {
      const auto cls = i % 20 == 0 ? EventClass::kDurable : EventClass::kDroppable;
      auto seq = test::append_event(*box, agent_id, clock, cls);
      (cls == EventClass::kDurable ? durable : droppable).insert(seq.value);
      if (i == 10) REQUIRE(box->next_unsent(AgentSeq{}, 8).has_value());
      CHECK(box->stored_bytes() <= kBudget);
    }
  }
  auto box = open_box(dir / "outbox", clock, kBudget);  // counters and sizes survive reopen
  CHECK(box->stored_bytes() <= kBudget);
  const auto present = all_seqs(*box);
  const std::set<std::uint64_t> kept(present.begin(), present.end());
  CHECK(box->depth() == kept.size());
  for (auto d : durable) CHECK_MESSAGE(kept.count(d) == 1, "durable event " << d << " missing");
  std::vector<std::uint64_t> dropped;
  for (auto s : droppable) {
    if (kept.count(s) == 0) dropped.push_back(s);
  }
  REQUIRE_FALSE(dropped.empty());
  // Oldest first: every dropped droppable event is older than every kept droppable one.
  const auto oldest_kept =
      *std::find_if(droppable.begin(), droppable.end(), [&](auto s) { return kept.count(s) == 1; });
  CHECK(dropped.back() < oldest_kept);
  CHECK(dropped.front() == *droppable.begin());

  auto report = box->take_drop_report();
  REQUIRE(report.has_value());
  CHECK(report->dropped_events == dropped.size());
  CHECK(report->oldest_dropped_seq.value == dropped.front());
  CHECK(report->newest_dropped_seq.value == dropped.back());
  CHECK(report->dropped_bytes > 0);
  auto again = box->take_drop_report();
  REQUIRE(again.has_value());
  CHECK(again->empty());

  // Stored bytes stay exact: draining everything brings them to zero.
  std::vector<AgentSeq> all;
  for (auto s : present) all.push_back(AgentSeq{s});
  REQUIRE(box->next_unsent(AgentSeq{}, all.size()).has_value());
  REQUIRE(box->remove_acked(all).has_value());
  CHECK(box->stored_bytes() == 0);
  CHECK(box->depth() == 0);
}

TEST_CASE("durable events over the budget are kept and appends still succeed") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto box = open_box(dir / "outbox", clock, 4096);
  for (int i = 0; i < 200; ++i) test::append_event(*box, agent_id, clock, EventClass::kDurable);
  CHECK(box->depth() == 200);
  CHECK(box->stored_bytes() > 4096);
  auto report = box->take_drop_report();
  REQUIRE(report.has_value());
  CHECK(report->empty());
  // A droppable event appended now is the only candidate: dropped at once.
  test::append_event(*box, agent_id, clock, EventClass::kDroppable);
  CHECK(box->depth() == 200);
}

TEST_CASE("presence lane keeps the newest heartbeat with its own counter") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  {
    auto box = open_box(dir / "outbox", clock);
    CHECK_FALSE(box->pending_heartbeat().has_value());
    auto build = [&](std::uint64_t n) { return test::heartbeat_event(agent_id, clock, n); };
    auto n1 = box->put_heartbeat(build);
    auto n2 = box->put_heartbeat(build);
    REQUIRE(n1.has_value());
    REQUIRE(n2.has_value());
    CHECK(*n1 == 1);
    CHECK(*n2 == 2);
    CHECK(box->depth() == 0);  // not part of the ordered lane
    CHECK(box->last_seq().value == 0);
    auto hb = box->pending_heartbeat();
    REQUIRE(hb.has_value());
    CHECK(hb->n == 2);
    auto env = codec::verify_event(hb->bytes);
    REQUIRE(env.has_value());
    CHECK((*env)->seq() == 2);
    REQUIRE(box->clear_heartbeat(1).has_value());  // an older ack does not clear a newer one
    CHECK(box->pending_heartbeat().has_value());
  }
  auto box = open_box(dir / "outbox", clock);
  auto hb = box->pending_heartbeat();
  REQUIRE(hb.has_value());
  CHECK(hb->n == 2);
  REQUIRE(box->clear_heartbeat(2).has_value());
  CHECK_FALSE(box->pending_heartbeat().has_value());
  auto report = box->take_drop_report();
  REQUIRE(report.has_value());
  CHECK(report->replaced_heartbeats == 1);
  auto n3 = box->put_heartbeat(
      [&](std::uint64_t n) { return test::heartbeat_event(agent_id, clock, n); });
  REQUIRE(n3.has_value());
  CHECK(*n3 == 3);
}

TEST_CASE("an append whose builder fails consumes no sequence") {
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto box = open_box(dir / "outbox", clock);
  auto bad = box->append(EventClass::kDurable, schema::Payload::AgentStarted,
                         [](AgentSeq) { return std::vector<std::uint8_t>{}; });
  CHECK_FALSE(bad.has_value());
  auto unknown = box->append(EventClass::kDurable, schema::Payload::NONE,
                             [&](AgentSeq s) { return test::started_event(agent_id, clock, s); });
  CHECK_FALSE(unknown.has_value());
  CHECK(test::append_event(*box, agent_id, clock, EventClass::kDurable).value == 1);
}

TEST_CASE("the msg id key is created once, kept, and replaced only when malformed") {
  test::TempDir dir("msgid-key");
  const auto file = dir / "msg_id_key";
  auto first = agent::load_or_create_msg_id_key(file);
  REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().message));
  CHECK(std::filesystem::file_size(file) == MsgIdKey::kSize);
  CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK_FALSE(std::filesystem::exists(dir / "msg_id_key.tmp"));
  auto again = agent::load_or_create_msg_id_key(file);
  REQUIRE(again.has_value());
  CHECK(again->bytes == first->bytes);  // a restart makes the same ids: re-sends still dedupe

  REQUIRE(files::write_atomic(file, "short").has_value());
  auto replaced = agent::load_or_create_msg_id_key(file);
  REQUIRE(replaced.has_value());
  CHECK(replaced->bytes != first->bytes);
  CHECK(std::filesystem::file_size(file) == MsgIdKey::kSize);

  CHECK_FALSE(agent::load_or_create_msg_id_key(dir / "missing-dir" / "msg_id_key").has_value());
}

namespace {

struct DroppedEvent {
  std::uint64_t metrics = 0, heartbeats = 0;
};

std::vector<DroppedEvent> dropped_events(Outbox& box) {
  std::vector<DroppedEvent> out;
  auto events = box.next_unsent(AgentSeq{}, 100'000);
  REQUIRE(events.has_value());
  for (const auto& e : *events) {
    if (e.type != schema::Payload::OutboxDropped) continue;
    auto env = codec::verify_event(e.bytes);
    REQUIRE(env.has_value());
    const auto* d = (*env)->payload_as_OutboxDropped();
    REQUIRE(d != nullptr);
    out.push_back({d->dropped_metrics(), d->dropped_heartbeats()});
  }
  return out;
}

}  // namespace

TEST_CASE("a day offline costs one OutboxDropped event, with every replaced heartbeat counted") {
  using namespace std::chrono_literals;
  test::TempDir dir("outbox");
  FakeClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto box = open_box(dir / "outbox", clock);
  agent::DropReporter reporter(*box, agent_id, clock);
  auto heartbeat = [&] {
    auto n = box->put_heartbeat(
        [&](std::uint64_t c) { return test::heartbeat_event(agent_id, clock, c); });
    REQUIRE(n.has_value());
    return *n;
  };
  auto tick = [&] {
    auto r = reporter.report_if_due();
    REQUIRE(r.has_value());
    return r->has_value();
  };
  // The agent's loop during a day without the broker: a heartbeat every 30 s, never acked.
  constexpr int kPerDay = 24 * 60 * 2;
  for (int i = 0; i < kPerDay; ++i) {
    heartbeat();
    CHECK_FALSE(tick());
    clock.advance(30s);
  }
  CHECK(dropped_events(*box).empty());
  CHECK(box->drop_counts().replaced_heartbeats == kPerDay - 1);

  // The counts survive a restart; the broker is back and acks the next heartbeat: one report.
  box.reset();
  box = open_box(dir / "outbox", clock);
  agent::DropReporter after_restart(*box, agent_id, clock);
  const auto n = heartbeat();  // replaces the one left pending
  CHECK_FALSE(after_restart.report_if_due()->has_value());
  REQUIRE(box->clear_heartbeat(n).has_value());
  auto reported = after_restart.report_if_due();
  REQUIRE(reported.has_value());
  REQUIRE(reported->has_value());
  CHECK((*reported)->replaced_heartbeats == kPerDay);
  auto events = dropped_events(*box);
  REQUIRE(events.size() == 1);
  CHECK(events[0].heartbeats == kPerDay);
  CHECK(events[0].metrics == 0);
  CHECK(box->drop_counts().empty());  // reset in the same write as the event
  CHECK(box->depth() == 1);

  // A flapping link: heartbeats replaced again within the hour wait for the hour to pass.
  heartbeat();
  REQUIRE(box->clear_heartbeat(heartbeat()).has_value());
  CHECK_FALSE(after_restart.report_if_due()->has_value());
  clock.advance(59min);
  CHECK_FALSE(after_restart.report_if_due()->has_value());
  clock.advance(1min);
  reported = after_restart.report_if_due();
  REQUIRE(reported.has_value());
  REQUIRE(reported->has_value());
  CHECK((*reported)->replaced_heartbeats == 1);

  // Dropped metrics are reported at once, with the heartbeats replaced so far, even offline.
  auto tiny = open_box(dir / "tiny", clock, 2048);
  agent::DropReporter tiny_reporter(*tiny, agent_id, clock);
  for (int i = 0; i < 40; ++i) test::append_event(*tiny, agent_id, clock, EventClass::kDroppable);
  REQUIRE(tiny->put_heartbeat(
                  [&](std::uint64_t c) { return test::heartbeat_event(agent_id, clock, c); })
              .has_value());
  REQUIRE(tiny->put_heartbeat(
                  [&](std::uint64_t c) { return test::heartbeat_event(agent_id, clock, c); })
              .has_value());
  const auto dropped = tiny->drop_counts().dropped_events;
  CHECK(dropped > 0);
  reported = tiny_reporter.report_if_due();
  REQUIRE(reported.has_value());
  REQUIRE(reported->has_value());
  CHECK((*reported)->dropped_events == dropped);
  CHECK((*reported)->replaced_heartbeats == 1);
  events = dropped_events(*tiny);
  REQUIRE(events.size() == 1);
  CHECK(events[0].metrics == dropped);
  CHECK(events[0].heartbeats == 1);
}
