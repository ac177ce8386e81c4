// The pieces behind "one owner, no silent jump" (issue 13 §4.1): the batch writer refuses a batch
// that does not continue the checkpoint, the owner lock is exclusive and names its holder, a gap
// is proven deleted only when the stream really lost those sequences, and the lag is measured
// against the stream's limits.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "common/clock.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/db/batch_writer.h"
#include "projector/db/migrations.h"
#include "projector/db/projection_lock.h"
#include "projector/stream_state.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::projector;
using namespace rmm::test;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000c1");

std::unique_ptr<pqxx::connection> migrated_db(std::string_view prefix, std::string* url = nullptr) {
  auto& pg = PostgresFixture::shared();
  auto u = pg.create_database(pg.unique_name(prefix));
  if (url != nullptr) *url = u;
  auto conn = pg::connect(u);
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  REQUIRE(db::apply_migrations(**conn, RMM_MIGRATIONS_SOURCE_DIR).has_value());
  return std::move(*conn);
}

// Heartbeat of the ordered lane whose agent sequence is its stream sequence.
BatchItem item(std::uint64_t seq) {
  FakeClock clock;
  auto bytes = codec::build_heartbeat({.event_id = EventId::generate(clock),
                                       .agent = kAgent,
                                       .seq = AgentSeq{seq},
                                       .occurred_at = static_cast<UnixNanos>(seq) * 1'000'000},
                                      {.agent_version = "2.0"});
  return {StreamSeq{seq},
          decode_message(fmt::format("rmm.p.3.evt.{}.heartbeat", kAgent.str()), bytes)};
}

std::vector<BatchItem> items(std::initializer_list<std::uint64_t> seqs) {
  std::vector<BatchItem> out;
  for (auto s : seqs) out.push_back(item(s));
  return out;
}

// A ClientCreated control event (client `n`) stored under stream sequence `seq`.
BatchItem client_created(std::uint64_t seq, int n) {
  FakeClock clock;
  codec::ControlEventHeader h{
      .event_id = EventId::generate(clock),
      .source = *ControlSourceId::parse("0190a5c2-0000-7000-8000-000000000301"),
      .source_name = "api",
      .seq = seq,
      .occurred_at = static_cast<UnixNanos>(seq) * 1'000'000};
  const auto client = *ClientId::parse(fmt::format("0190a5c2-0000-7000-8000-0000000001{:02}", n));
  return {
      StreamSeq{seq},
      decode_message(codec::control_event_subject(schema::Payload::ClientCreated),
                     codec::build_client_created(h, {client, *PartnerId::parse(kDefaultPartnerId),
                                                     fmt::format("client {}", n), "user:alice"}))};
}

db::Continuity after(std::uint64_t checkpoint) {
  return {.checkpoint = StreamSeq{checkpoint}, .loss = std::nullopt};
}

}  // namespace

TEST_CASE("batch writer: a batch must continue the checkpoint the projector believes in") {
  auto conn = migrated_db("continuity");
  db::BatchWriter writer(*conn);
  auto events = [&] { return scalar(*conn, "SELECT events_applied FROM agents").value_or(0); };

  auto first = writer.write(items({1, 2, 3}), after(0));
  REQUIRE_MESSAGE(first.has_value(), first.error().message);
  CHECK(first->checkpoint.value == 3);

  // A jump over 4, with nothing proven: refused, nothing written.
  auto jump = writer.write(items({5, 6}), after(3));
  REQUIRE_FALSE(jump.has_value());
  CHECK(jump.error().code == Error::Code::kConflict);
  CHECK(jump.error().message.find("expected sequence 4, got 5") != std::string::npos);
  CHECK(writer.read_checkpoint()->value == 3);
  CHECK(events() == 3);

  // A hole inside the batch: refused too.
  auto hole = writer.write(items({4, 6}), after(3));
  REQUIRE_FALSE(hole.has_value());
  CHECK(hole.error().code == Error::Code::kConflict);
  CHECK(hole.error().message.find("expected sequence 5, got 6") != std::string::npos);
  CHECK(events() == 3);

  // A checkpoint row behind what the projector committed: the read models went back under it.
  auto behind = writer.write(items({4}), after(7));
  REQUIRE_FALSE(behind.has_value());
  CHECK(behind.error().code == Error::Code::kConflict);
  CHECK(behind.error().message.find("behind the 7") != std::string::npos);
  CHECK(scalar(*conn, "SELECT count(*) FROM ops.stream_losses") == 0);

  // The jump over 4 once 4 is proven deleted: applied, and the loss recorded with it.
  auto proven = writer.write(
      items({5, 6}),
      db::Continuity{.checkpoint = StreamSeq{3},
                     .loss = db::StreamLoss{"RMM_EVENTS", StreamSeq{4}, StreamSeq{4}, "test"}});
  REQUIRE_MESSAGE(proven.has_value(), proven.error().message);
  CHECK(proven->checkpoint.value == 6);
  CHECK(proven->lost == 1);
  CHECK(events() == 5);
  CHECK(scalar(*conn,
               "SELECT count(*) FROM ops.stream_losses WHERE projection = 'core' AND stream = "
               "'RMM_EVENTS' AND from_seq = 4 AND to_seq = 4 AND count = 1 AND reason = 'test' "
               "AND acknowledged_at IS NULL") == 1);

  // A proof that does not cover the whole jump is no proof.
  auto short_proof = writer.write(
      items({9}),
      db::Continuity{.checkpoint = StreamSeq{6},
                     .loss = db::StreamLoss{"RMM_EVENTS", StreamSeq{7}, StreamSeq{7}, "test"}});
  REQUIRE_FALSE(short_proof.has_value());
  CHECK(short_proof.error().code == Error::Code::kConflict);

  // The same batch again (a retried commit whose outcome was in doubt): skipped, not refused.
  auto next = writer.write(items({7, 8}), after(6));
  REQUIRE(next.has_value());
  auto again = writer.write(items({7, 8}), after(6));
  REQUIRE_MESSAGE(again.has_value(), again.error().message);
  CHECK(again->already_checkpointed == 2);
  CHECK(again->checkpoint.value == 8);
  CHECK(events() == 7);

  // A rebuild states nothing: it folds whatever the stream holds.
  auto replay = writer.write(items({12}));
  REQUIRE(replay.has_value());
  CHECK(replay->checkpoint.value == 12);
  CHECK(scalar(*conn, "SELECT count(*) FROM ops.stream_losses") == 1);
}

TEST_CASE("batch writer: a proven-deleted range may hold only the control events of the archive") {
  auto conn = migrated_db("continuity_archive");
  db::BatchWriter writer(*conn);
  auto clients = [&] { return scalar(*conn, "SELECT count(*) FROM clients").value_or(-1); };
  auto proof = [](std::uint64_t checkpoint, std::uint64_t from, std::uint64_t to) {
    return db::Continuity{
        .checkpoint = StreamSeq{checkpoint},
        .loss = db::StreamLoss{"RMM_EVENTS", StreamSeq{from}, StreamSeq{to}, "test"}};
  };
  REQUIRE(writer.write(items({1, 2}), after(0)).has_value());

  // 3..8 deleted; the archive kept the control events at 4 and 6. Telemetry inside the range
  // cannot come from the archive: refused, nothing written.
  std::vector<BatchItem> forged;
  forged.push_back(client_created(4, 1));
  forged.push_back(item(5));
  forged.push_back(item(9));
  auto refused = writer.write(forged, proof(2, 3, 8));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == Error::Code::kConflict);
  CHECK(refused.error().message.find("holds sequence 5, proven deleted (3-8)") !=
        std::string::npos);
  CHECK(clients() == 0);

  // A control event past the proven range does not make a hole before it proven.
  std::vector<BatchItem> past;
  past.push_back(client_created(4, 1));
  past.push_back(client_created(10, 2));
  auto hole = writer.write(past, proof(2, 3, 8));
  REQUIRE_FALSE(hole.has_value());
  CHECK(hole.error().message.find("expected sequence 5, got 10") != std::string::npos);

  // The control events of the range, each under its own sequence, then the stream's next
  // message: applied, and the loss counts the 4 deleted messages the archive did not have.
  std::vector<BatchItem> batch;
  batch.push_back(client_created(4, 1));
  batch.push_back(client_created(6, 2));
  batch.push_back(item(9));
  auto filled = writer.write(batch, proof(2, 3, 8));
  REQUIRE_MESSAGE(filled.has_value(), filled.error().message);
  CHECK(filled->checkpoint.value == 9);
  CHECK(filled->recovered == 2);
  CHECK(filled->lost == 4);
  CHECK(clients() == 2);
  CHECK(scalar(*conn,
               "SELECT count(*) FROM ops.stream_losses WHERE from_seq = 3 AND to_seq = 8 AND "
               "count = 4 AND recovered = 2") == 1);
  CHECK(scalar(*conn, "SELECT count(*) FROM audit_log WHERE stream_seq IN (4, 6)") == 2);

  // Every deleted message was a control event the archive kept: nothing lost, no row.
  std::vector<BatchItem> whole;
  whole.push_back(client_created(10, 3));
  whole.push_back(client_created(11, 4));
  whole.push_back(item(12));
  auto complete = writer.write(whole, proof(9, 10, 11));
  REQUIRE_MESSAGE(complete.has_value(), complete.error().message);
  CHECK(complete->recovered == 2);
  CHECK(complete->lost == 0);
  CHECK(clients() == 4);
  CHECK(scalar(*conn, "SELECT count(*) FROM ops.stream_losses") == 1);
}

TEST_CASE("projection owner lock: one session at a time, the other learns who holds it") {
  std::string url;
  auto owner = migrated_db("owner_lock", &url);
  auto other = pg::connect(url);
  REQUIRE(other.has_value());
  REQUIRE(db::identify_session(*owner, "rmm-projector pid 1 on test-host").has_value());

  CHECK(db::try_lock_projection(*owner, "core") == true);
  CHECK(db::try_lock_projection(**other, "core") == false);
  CHECK(db::try_lock_projection(**other, "another") == true);  // per projection

  auto holder = db::projection_lock_holder(**other, "core");
  REQUIRE(holder.has_value());
  REQUIRE(holder->has_value());
  CHECK((*holder)->application_name == "rmm-projector pid 1 on test-host");
  CHECK((*holder)->client_addr == "127.0.0.1");
  CHECK_FALSE((*holder)->backend_start.empty());
  CHECK((*holder)->backend_pid == scalar(*owner, "SELECT pg_backend_pid()").value_or(-1));

  // Not the rebuild's swap guard: a batch (which takes that one) still runs beside the owner.
  db::BatchWriter writer(**other);
  CHECK(writer.write(items({1})).has_value());

  // Only a session with the same identity is ended as stale; then the lock can be taken.
  CHECK(db::take_over_stale(**other, "core", "rmm-projector pid 2 on test-host") == false);
  CHECK(db::take_over_stale(**other, "core", "rmm-projector pid 1 on test-host") == true);
  bool taken = wait_until([&] { return db::try_lock_projection(**other, "core") == true; },
                          std::chrono::seconds(5), std::chrono::milliseconds(20));
  CHECK(taken);
}

TEST_CASE("a gap is proven deleted only when the stream no longer holds it") {
  NatsServerFixture nats;
  Publisher pub(nats);
  jsCtx* js = pub.js_->raw();
  // A small stream of its own: 8 messages are kept, the oldest are discarded.
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "GAPS";
  const char* subjects[] = {"gaps.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.MaxMsgs = 8;
  cfg.MaxBytes = 1 << 20;  // the account requires a byte limit on every stream
  cfg.Discard = js_DiscardOld;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  REQUIRE(js_AddStream(&si, js, &cfg, nullptr, &code) == NATS_OK);
  jsStreamInfo_Destroy(si);
  for (int i = 1; i <= 6; ++i)
    pub.sync("gaps.x", {static_cast<std::uint8_t>(i)}, fmt::format("g{}", i));
  REQUIRE(js_DeleteMsg(js, "GAPS", 3, nullptr, &code) == NATS_OK);

  auto verdict = [&](std::uint64_t from, std::uint64_t to) {
    auto v = prove_deleted(js, "GAPS", StreamSeq{from}, StreamSeq{to});
    REQUIRE_MESSAGE(v.has_value(), v.error().message);
    return *v;
  };
  CHECK(verdict(3, 3).deleted);  // deleted on its own
  auto over_existing = verdict(2, 3);
  CHECK_FALSE(over_existing.deleted);
  CHECK(over_existing.reason == "sequence 2 is still in the stream");
  CHECK_FALSE(verdict(3, 4).deleted);

  // Past the limit the oldest go: 1..6 of 14 are below the first sequence.
  for (int i = 7; i <= 14; ++i)
    pub.sync("gaps.x", {static_cast<std::uint8_t>(i)}, fmt::format("g{}", i));
  auto state = nats::read_stream_usage(js, "GAPS");
  REQUIRE(state.has_value());
  CHECK(state->first_seq == 7);
  CHECK(state->max_msgs == 8);
  auto below = verdict(1, 6);
  CHECK(below.deleted);
  CHECK(below.reason.find("below the stream's first sequence 7") != std::string::npos);
  CHECK_FALSE(verdict(5, 7).deleted);  // 7 is still there
  CHECK(stream_message_time(js, "GAPS", StreamSeq{7})->has_value());
  CHECK_FALSE(stream_message_time(js, "GAPS", StreamSeq{6})->has_value());
}

TEST_CASE("lag against the stream's limits") {
  nats::StreamUsage s{.messages = 100,
                      .bytes = 10'000,
                      .first_seq = 101,
                      .last_seq = 200,
                      .max_bytes = 40'000,
                      .max_msgs = 100,
                      .max_age_ns = 1'000};
  auto r = assess_lag(s, StreamSeq{150}, 50, std::nullopt);
  CHECK(r.lag_msgs == 50);
  CHECK(r.lag_bytes == 5'000);
  CHECK(r.msgs_percent == 50);
  CHECK(r.bytes_percent == 12);
  CHECK(r.near_limit);
  CHECK_FALSE(r.lost.has_value());

  CHECK_FALSE(assess_lag(s, StreamSeq{151}, 50, std::nullopt).near_limit);  // 49 %
  CHECK(assess_lag(s, StreamSeq{190}, 50, 600).age_percent == 60);
  CHECK(assess_lag(s, StreamSeq{190}, 50, 600).near_limit);
  CHECK_FALSE(assess_lag(s, StreamSeq{200}, 50, 600).near_limit);  // nothing unfolded

  // The stream already deleted 91..100, past a checkpoint of 90.
  auto lost = assess_lag(s, StreamSeq{90}, 50, std::nullopt);
  REQUIRE(lost.lost.has_value());
  CHECK(lost.lost->first == 91);
  CHECK(lost.lost->second == 100);
  CHECK(lost.lag_msgs == 100);
  CHECK(lost.msgs_percent == 100);

  nats::StreamUsage unlimited{
      .messages = 1'000'000, .bytes = 1, .first_seq = 1, .last_seq = 1'000'000};
  CHECK_FALSE(assess_lag(unlimited, StreamSeq{0}, 50, std::nullopt).near_limit);
}

TEST_CASE("partitioned units: processes counted by name, a fair share each, locks handed back") {
  std::string url;
  auto first = migrated_db("fair_share", &url);
  auto first_again = pg::connect(url);  // a second unit's connection of the same process
  auto second = pg::connect(url);
  REQUIRE(first_again.has_value());
  REQUIRE(second.has_value());
  REQUIRE(db::identify_session(*first, "rmm-projector pid 1 on host-a").has_value());
  REQUIRE(db::identify_session(**first_again, "rmm-projector pid 1 on host-a").has_value());
  CHECK(db::live_projector_processes(*first) == 1);
  REQUIRE(db::identify_session(**second, "rmm-projector pid 7 on host-b").has_value());
  CHECK(db::live_projector_processes(*first) == 2);

  CHECK(db::fair_share(17, 1) == 17);
  CHECK(db::fair_share(17, 2) == 9);
  CHECK(db::fair_share(17, 4) == 5);
  CHECK(db::fair_share(17, 0) == 17);

  // A unit given back by its holder is free for the other process at once.
  CHECK(db::try_lock_projection(**first_again, "p3") == true);
  CHECK(db::try_lock_projection(**second, "p3") == false);
  CHECK(db::release_projection(**second, "p3") == false);  // not its lock
  CHECK(db::release_projection(**first_again, "p3") == true);
  CHECK(db::try_lock_projection(**second, "p3") == true);

  // A process whose sessions are gone no longer counts.
  second->reset();
  bool gone = wait_until([&] { return db::live_projector_processes(*first) == 1; },
                         std::chrono::seconds(5), std::chrono::milliseconds(20));
  CHECK(gone);
}

TEST_CASE("partitioned units: a batch may not pass its peers' watermark; holes are normal") {
  auto conn = migrated_db("unit_barrier");
  db::BatchWriter p3(*conn, "p3");
  db::BatchWriter ctl(*conn, "ctl");
  const std::vector<std::string> ctl_only{"ctl"};
  auto watermark = [&](std::string_view unit) {
    return scalar(*conn, fmt::format("SELECT watermark FROM projection_checkpoints "
                                     "WHERE projection = '{}'",
                                     unit));
  };

  // ctl has no row yet: nothing past sequence 1 may go.
  auto early = p3.write(items({5}), db::UnitContinuity{.peers = ctl_only});
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == Error::Code::kConflict);
  CHECK(p3.peer_watermark(ctl_only) == StreamSeq{0});

  REQUIRE(ctl.publish_watermark(StreamSeq{10}).has_value());
  REQUIRE(ctl.publish_watermark(StreamSeq{4}).has_value());  // never lowered
  CHECK(watermark("ctl") == 10);
  CHECK(p3.peer_watermark(ctl_only) == StreamSeq{10});

  // Holes are the other units' messages; 11 is one past ctl's watermark, so it may go.
  auto ok = p3.write(items({5, 9, 11}), db::UnitContinuity{.peers = ctl_only});
  REQUIRE_MESSAGE(ok.has_value(), ok.error().message);
  CHECK(ok->checkpoint == StreamSeq{11});
  CHECK(watermark("p3") == 11);

  auto past =
      p3.write(items({12}), db::UnitContinuity{.checkpoint = StreamSeq{11}, .peers = ctl_only});
  REQUIRE_FALSE(past.has_value());
  CHECK(past.error().code == Error::Code::kConflict);

  // A waiting unit raises its watermark beyond its checkpoint; its peer may then go on.
  REQUIRE(p3.publish_watermark(StreamSeq{20}).has_value());
  auto ctl_batch = ctl.write(std::vector<BatchItem>{client_created(21, 1)},
                             db::UnitContinuity{.peers = {"p3"}, .watermark = StreamSeq{30}});
  REQUIRE_MESSAGE(ctl_batch.has_value(), ctl_batch.error().message);
  CHECK(ctl_batch->applied == 1);
  CHECK(watermark("ctl") == 30);
  CHECK(scalar(*conn, "SELECT stream_seq FROM projection_checkpoints WHERE projection = 'p3'") ==
        11);

  // A checkpoint behind what the caller committed is refused, as for the single projection.
  auto behind =
      p3.write(items({13}), db::UnitContinuity{.checkpoint = StreamSeq{15}, .peers = ctl_only});
  REQUIRE_FALSE(behind.has_value());
  CHECK(behind.error().code == Error::Code::kConflict);
}
