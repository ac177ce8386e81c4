#include <doctest/doctest.h>

#include "common/command_codec.h"
#include "common/event_codec.h"
#include "projector/db/migrations.h"
#include "projector/folds/agent_fold.h"
#include "projector/folds/decode.h"
#include "projector/folds/event_time.h"
#include "projector/folds/subject.h"
#include "projector/folds/text.h"

using namespace rmm;
using namespace rmm::projector;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-0000-7000-8000-000000000001");
const AgentId kOther = *AgentId::parse("0190a5c2-0000-7000-8000-000000000002");

codec::AgentEventHeader header(std::uint64_t seq, UnixNanos at, AgentId agent = kAgent) {
  FakeClock clock;
  return {.event_id = EventId::generate(clock),
          .agent = agent,
          .seq = AgentSeq{seq},
          .occurred_at = at};
}

std::string subject(std::string_view token, AgentId agent = kAgent) {
  return fmt::format("rmm.p.7.evt.{}.{}", agent.str(), token);
}

Decoded decode(std::string_view subj, const std::vector<std::uint8_t>& bytes) {
  return decode_message(subj, bytes);
}

}  // namespace

TEST_CASE("subject parsing accepts agent and control subjects and rejects the rest") {
  auto ok = parse_event_subject(subject("heartbeat"));
  REQUIRE(ok.has_value());
  CHECK(ok->kind == SubjectKind::kAgentEvent);
  CHECK(ok->partition == 7);
  CHECK(ok->agent == kAgent);
  CHECK(ok->type_token == "heartbeat");

  auto ctl = parse_event_subject("rmm.ctl.tenant.created");
  REQUIRE(ctl.has_value());
  CHECK(ctl->kind == SubjectKind::kControlEvent);

  for (std::string bad : {std::string("rmm.evt.") + kAgent.str() + ".heartbeat",
                          std::string("rmm.p.x.evt.") + kAgent.str() + ".heartbeat",
                          std::string("rmm.p.1.evt.not-a-uuid.heartbeat"),
                          std::string("rmm.p.1.evt.") + kAgent.str() + ".heartbeat.extra",
                          std::string("rmm.p.1.evt.") + kAgent.str() + ".",
                          std::string("rmm.p.1.cmd.") + kAgent.str() + ".heartbeat",
                          std::string("rmm.p.1.evt.") + kAgent.str() + ".Heart Beat",
                          std::string(""), std::string(600, 'a')}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_event_subject(bad).has_value());
  }
}

TEST_CASE("AgentStarted sets hostname, os, version and first_seen") {
  auto bytes = codec::build_agent_started(
      header(1, 5'000'000'123'456),
      {.hostname = "web-01", .os_name = "Debian", .os_version = "12", .agent_version = "0.1.0"});
  auto d = decode(subject("started"), bytes);
  REQUIRE(std::holds_alternative<AgentEvent>(d));
  const auto& ev = std::get<AgentEvent>(d);
  CHECK(ev.hostname == "web-01");
  CHECK(ev.os == "Debian 12");
  CHECK(ev.version == "0.1.0");

  AgentRow row;
  CHECK(fold(row, ev) == FoldOutcome::kApplied);
  CHECK(row.exists);
  CHECK(row.id == kAgent);
  CHECK(row.hostname == "web-01");
  CHECK(row.first_seen == 5'000'000'123'456);
  CHECK(row.last_seen == 5'000'000'123'456);
  CHECK(row.last_seq == 1);
  CHECK(row.events_applied == 1);
}

TEST_CASE("Heartbeat and MetricsSample move last_seen to event time and keep first_seen") {
  AgentRow row{.id = kAgent,
               .hostname = "h",
               .os = "o",
               .version = "1.0",
               .first_seen = 100,
               .last_seen = 100,
               .last_seq = 3,
               .events_applied = 3,
               .exists = true};
  auto hb = std::get<AgentEvent>(decode(
      subject("heartbeat"), codec::build_heartbeat(header(5, 900), {.agent_version = "1.1"})));
  CHECK(fold(row, hb) == FoldOutcome::kApplied);
  CHECK(row.version == "1.1");
  CHECK(row.first_seen == 100);
  CHECK(row.last_seen == 900);
  CHECK(row.last_seq == 5);  // a gap (4 missing) does not block
  CHECK(row.events_applied == 4);

  auto hb_no_version = std::get<AgentEvent>(
      decode(subject("heartbeat"), codec::build_heartbeat(header(6, 950), {})));
  CHECK_FALSE(hb_no_version.version.has_value());
  CHECK(fold(row, hb_no_version) == FoldOutcome::kApplied);
  CHECK(row.version == "1.1");

  auto m = std::get<AgentEvent>(
      decode(subject("metrics"), codec::build_metrics(header(7, 1000), {.cpu_percent = 12.5f})));
  CHECK(fold(row, m) == FoldOutcome::kApplied);
  CHECK(row.last_seen == 1000);
  CHECK(row.hostname == "h");
  CHECK(row.last_seq == 7);
  CHECK(row.events_applied == 6);
}

TEST_CASE("an event at or below last_seq is a duplicate and changes nothing") {
  AgentRow row;
  auto e1 = std::get<AgentEvent>(
      decode(subject("heartbeat"), codec::build_heartbeat(header(10, 500), {})));
  REQUIRE(fold(row, e1) == FoldOutcome::kApplied);
  AgentRow before = row;
  CHECK(fold(row, e1) == FoldOutcome::kDuplicate);
  auto older = std::get<AgentEvent>(
      decode(subject("heartbeat"), codec::build_heartbeat(header(9, 9999), {})));
  CHECK(fold(row, older) == FoldOutcome::kDuplicate);
  CHECK(row == before);
}

TEST_CASE("event time is the agent's clock clamped around the stream's time") {
  constexpr UnixNanos kStored = 1'800'000'000'000'000'000;
  constexpr UnixNanos kLead = kMaxEventLead.count();
  constexpr UnixNanos kLag = kMaxEventLag.count();
  CHECK(clamp_event_time(kStored - 5, kStored) == kStored - 5);
  CHECK(clamp_event_time(kStored + kLead, kStored) == kStored + kLead);
  CHECK(clamp_event_time(kStored + kLead + 1, kStored) == kStored + kLead);
  CHECK(clamp_event_time(kStored - kLag, kStored) == kStored - kLag);
  CHECK(clamp_event_time(kStored - kLag - 1, kStored) == kStored - kLag);
  constexpr auto kMax = std::numeric_limits<UnixNanos>::max();
  constexpr auto kMin = std::numeric_limits<UnixNanos>::min();
  CHECK(clamp_event_time(kMax, kStored) == kStored + kLead);
  CHECK(clamp_event_time(kMin, kStored) == kStored - kLag);
  CHECK(clamp_event_time(0, kMax) == kMax - kLag);  // saturates instead of overflowing
  CHECK(clamp_event_time(0, kMin) == kMin + kLead);

  // An agent event keeps its own time beside the clamped one.
  constexpr UnixNanos k2262 = 9'222'076'800'000'000'000;
  auto d =
      decode_message(subject("heartbeat"),
                     codec::build_heartbeat(header(4, k2262), {.agent_version = "1.0"}), kStored);
  REQUIRE(std::holds_alternative<AgentEvent>(d));
  const auto& hb = std::get<AgentEvent>(d);
  CHECK(hb.occurred_at == kStored + kLead);
  CHECK(hb.agent_time == k2262);
  CHECK(hb.stored_at == kStored);
  CHECK(hb.clamped());
  AgentRow row;
  REQUIRE(fold(row, hb) == FoldOutcome::kApplied);
  CHECK(row.first_seen == kStored + kLead);
  CHECK(row.last_seen == kStored + kLead);
  CHECK(row.clock_offset_ms == k2262 / 1'000'000 - kStored / 1'000'000);

  // Command lifecycle times are event times too.
  const auto cmd = *CommandId::parse("0190a5c2-0000-7000-8000-0000000000c1");
  auto r = decode_message(
      subject("cmd_received"),
      codec::build_command_received(header(5, kStored - kLag - 9), {cmd, "shell", "user:alice", 1}),
      kStored);
  REQUIRE(std::holds_alternative<AgentEvent>(r));
  const auto& change = std::get<CommandChange>(std::get<AgentEvent>(r).body);
  CHECK(change.received_at == kStored - kLag);
  CHECK(change.updated_at == kStored - kLag);

  // Inside the window nothing changes; without a stream time (tests) nothing is clamped.
  auto in = std::get<AgentEvent>(decode_message(
      subject("heartbeat"), codec::build_heartbeat(header(6, kStored - 7), {}), kStored));
  CHECK(in.occurred_at == kStored - 7);
  CHECK_FALSE(in.clamped());
  auto unstored = std::get<AgentEvent>(
      decode(subject("heartbeat"), codec::build_heartbeat(header(7, k2262), {})));
  CHECK(unstored.occurred_at == k2262);
}

TEST_CASE("bad input becomes a dead letter with a reason and the raw bytes") {
  auto hb = codec::build_heartbeat(header(1, 1), {});
  struct Case {
    std::string subject;
    std::vector<std::uint8_t> bytes;
    std::string reason_part;
  };
  std::vector<Case> cases{
      {subject("heartbeat"), {1, 2, 3, 4, 5, 6, 7, 8, 9}, "file identifier"},
      {subject("heartbeat", kOther), hb, "does not match subject agent"},
      {subject("started"), hb, "does not match subject token"},
      {subject("bogus"), hb, "unknown event type token"},
      {"rmm.weird", hb, "subject"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.subject);
    auto d = decode(c.subject, c.bytes);
    REQUIRE(std::holds_alternative<DeadLetter>(d));
    const auto& dl = std::get<DeadLetter>(d);
    CHECK(dl.reason.find(c.reason_part) != std::string::npos);
    CHECK(dl.raw == c.bytes);
  }
  CHECK(std::holds_alternative<Ignored>(decode("rmm.ctl.user.created", hb)));
}

TEST_CASE("agent-supplied strings are bounded and made valid UTF-8") {
  CHECK(storable_text("plain") == "plain");
  CHECK(storable_text(std::string(1000, 'x')).size() == kMaxAgentTextChars);
  CHECK(storable_text(std::string("a\0b", 3)) == "ab");
  CHECK(storable_text("\xff\xfe") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(storable_text("\xC3") == "\xEF\xBF\xBD");  // truncated sequence
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";  // é
  auto cut = storable_text(accents);
  CHECK(cut.size() == 2 * kMaxAgentTextChars);  // whole code points only

  auto long_host = codec::build_agent_started(header(1, 1), {.hostname = std::string(5000, 'h')});
  auto ev = std::get<AgentEvent>(decode(subject("started"), long_host));
  CHECK(ev.hostname->size() == kMaxAgentTextChars);
}

TEST_CASE("migration checksum ignores CRLF vs LF but not content") {
  std::string lf = "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\n";
  std::string crlf = "CREATE TABLE t (a int);\r\nCREATE INDEX i ON t (a);\r\n";
  std::string cr = "CREATE TABLE t (a int);\rCREATE INDEX i ON t (a);\r";
  CHECK(db::migration_checksum(lf) == db::migration_checksum(crlf));
  CHECK(db::migration_checksum(lf) == db::migration_checksum(cr));
  CHECK(db::migration_checksum(lf) != db::migration_checksum("CREATE TABLE t (b int);\n"));
  CHECK(db::migration_checksum(lf).size() == 64);
  // SHA-256 of the empty string.
  CHECK(db::migration_checksum("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a payload at an odd address decodes like an aligned one") {
  auto bytes = codec::build_heartbeat(header(3, 42), {.agent_version = "9.9"});
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  auto d = decode_message(subject("heartbeat"),
                          std::span<const std::uint8_t>(shifted.data() + 1, bytes.size()));
  REQUIRE(std::holds_alternative<AgentEvent>(d));
  CHECK(std::get<AgentEvent>(d).version == "9.9");
  CHECK(std::get<AgentEvent>(d).seq.value == 3);
}
