// The alert engine on synthetic events with chosen event times (no wall clock anywhere): CPU for N
// minutes, hysteresis, disk and temperature per subject, offline via ClockTick, suppression,
// event alerts, deterministic ids.
#include "projector/alerts/alert_rules.h"

#include <doctest/doctest.h>

using namespace rmm;
using namespace rmm::projector;
using namespace rmm::projector::alerts;

namespace {

const AgentId kA = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000a1");
const AgentId kB = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000b2");
constexpr UnixNanos kT0 = 1'700'000'000'000'000'000;
constexpr UnixNanos kMin = 60'000'000'000;
constexpr UnixNanos kSec = 1'000'000'000;
const Thresholds kDefaults{};

MetricsRows cpu(float percent) {
  MetricsRows m;
  m.cpu_percent = percent;
  return m;
}

// Feeds one sample per minute (stream seqs from `seq`) and returns the seq after the last.
std::uint64_t feed_cpu(AlertEngine& e, std::uint64_t seq, UnixNanos start,
                       std::initializer_list<float> values, const Thresholds& t = kDefaults) {
  UnixNanos at = start;
  for (float v : values) {
    e.on_metrics(kA, StreamSeq{seq++}, at, cpu(v), t);
    at += kMin;
  }
  return seq;
}

const AlertKey kCpuKey{kA, "cpu", ""};

}  // namespace

TEST_CASE("CPU raises only after staying above the threshold for alert.cpu.minutes") {
  AlertEngine e;
  // 95 % at minutes 0..4: not yet five minutes.
  feed_cpu(e, 1, kT0, {95, 95, 95, 95, 95});
  CHECK(e.raised().empty());
  REQUIRE(e.condition_changes().at(kCpuKey).has_value());
  CHECK(e.condition_changes().at(kCpuKey)->since == kT0);
  // Minute 5: five minutes above.
  e.on_metrics(kA, StreamSeq{6}, kT0 + 5 * kMin, cpu(96), kDefaults);
  REQUIRE(e.raised().size() == 1);
  const auto& a = e.raised()[0];
  CHECK(a.key == kCpuKey);
  CHECK(a.severity == "warning");  // alert.cpu.severity's default
  CHECK(a.raised_at == kT0 + 5 * kMin);
  CHECK(a.stream_seq == StreamSeq{6});
  CHECK(a.value == doctest::Approx(96));
  CHECK(a.threshold == doctest::Approx(90));
  CHECK(a.id == alert_id(kCpuKey, StreamSeq{6}));
  CHECK(a.message.find("for 5 min") != std::string::npos);
  // Still above: one active alert, never a second.
  e.on_metrics(kA, StreamSeq{7}, kT0 + 6 * kMin, cpu(99), kDefaults);
  CHECK(e.raised().size() == 1);
}

TEST_CASE("a dip below the threshold restarts the CPU streak") {
  AlertEngine e;
  auto seq = feed_cpu(e, 1, kT0, {95, 95, 95, 80, 95, 95, 95, 95, 95});
  CHECK(e.raised().empty());  // the dip at minute 3: only 4 minutes since minute 4
  e.on_metrics(kA, StreamSeq{seq}, kT0 + 9 * kMin, cpu(95), kDefaults);
  REQUIRE(e.raised().size() == 1);
  CHECK(e.raised()[0].raised_at == kT0 + 9 * kMin);
}

TEST_CASE("hysteresis: a CPU alert clears only below threshold - hysteresis, then auto-resolves") {
  AlertEngine e;
  auto seq = feed_cpu(e, 1, kT0, {95, 95, 95, 95, 95, 95});
  REQUIRE(e.raised().size() == 1);
  // 88 and 86: below 90 but not below 85: stays active.
  seq = feed_cpu(e, seq, kT0 + 6 * kMin, {88, 86, 85});
  CHECK(e.updates().empty());
  CHECK(e.is_active(kCpuKey));
  CHECK_FALSE(e.condition_changes().at(kCpuKey).has_value());  // the streak ended
  e.on_metrics(kA, StreamSeq{seq}, kT0 + 9 * kMin, cpu(84.9f), kDefaults);
  REQUIRE(e.updates().size() == 1);
  CHECK(e.updates()[0].kind == AlertUpdate::Kind::kResolve);
  CHECK(e.updates()[0].by == "auto");
  CHECK(e.updates()[0].at == kT0 + 9 * kMin);
  CHECK(e.updates()[0].id == e.raised()[0].id);
  CHECK_FALSE(e.is_active(kCpuKey));
}

TEST_CASE("thresholds come from the effective policy") {
  policy::PolicyDoc site{policy::Level::kSite,
                         {},
                         {{"alert.cpu.percent", "50"},
                          {"alert.cpu.minutes", "0"},
                          {"alert.hysteresis.percent", "10"},
                          {"alert.offline.after_s", "300"}}};
  auto t = thresholds_from(policy::merge_policy({&site}));
  CHECK(t.cpu_percent == 50);
  CHECK(t.cpu_minutes == 0);
  CHECK(t.hysteresis == 10);
  CHECK(t.offline_after_s == 300);
  CHECK(t.memory_percent == 90);  // default
  AlertEngine e;
  e.on_metrics(kA, StreamSeq{1}, kT0, cpu(51), t);  // 0 minutes: at once
  REQUIRE(e.raised().size() == 1);
  e.on_metrics(kA, StreamSeq{2}, kT0 + kMin, cpu(41), t);
  CHECK(e.updates().empty());  // 41 is not below 50 - 10
  e.on_metrics(kA, StreamSeq{3}, kT0 + 2 * kMin, cpu(39), t);
  CHECK(e.updates().size() == 1);
}

TEST_CASE("memory uses used/total and its own minutes") {
  Thresholds t;
  t.memory_minutes = 1;
  AlertEngine e;
  MetricsRows m;
  m.mem_total_bytes = 1000;
  m.mem_used_bytes = 950;
  e.on_metrics(kA, StreamSeq{1}, kT0, m, t);
  CHECK(e.raised().empty());
  e.on_metrics(kA, StreamSeq{2}, kT0 + kMin, m, t);
  REQUIRE(e.raised().size() == 1);
  CHECK(e.raised()[0].key.rule == "memory");
  CHECK(e.raised()[0].value == doctest::Approx(95));
}

TEST_CASE("disk alerts per filesystem, temperature per sensor, hysteresis in degrees") {
  AlertEngine e;
  MetricsRows m;
  m.filesystems = std::vector<FilesystemRow>{{"/", "ext4", "sda1", 95, 100, 0, 0},
                                             {"/data", "xfs", "sdb1", 10, 100, 0, 0},
                                             {"/empty", "tmpfs", "", 0, 0, 0, 0}};
  m.temperatures =
      std::vector<TemperatureRow>{{"coretemp", "Package id 0", 90}, {"acpitz", "", 40}};
  e.on_metrics(kA, StreamSeq{1}, kT0, m, kDefaults);
  REQUIRE(e.raised().size() == 2);
  CHECK(e.raised()[0].key == AlertKey{kA, "disk", "/"});
  CHECK(e.raised()[0].value == doctest::Approx(95));
  CHECK(e.raised()[1].key == AlertKey{kA, "temperature", "coretemp/Package id 0"});
  CHECK(e.raised()[1].severity == "critical");
  CHECK(e.raised()[0].id != e.raised()[1].id);
  // The stored messages are part of the read model: a rebuild must write the same text.
  CHECK(e.raised()[0].message == "disk / 95.0% above 90%");
  CHECK(e.raised()[1].message == "temperature coretemp/Package id 0 90.0 °C above 85 °C");

  (*m.temperatures)[0].celsius = 81;  // below 85, not below 80
  (*m.filesystems)[0].used_bytes = 86;
  e.on_metrics(kA, StreamSeq{2}, kT0 + kMin, m, kDefaults);
  CHECK(e.updates().empty());
  (*m.temperatures)[0].celsius = 79.5f;
  (*m.filesystems)[0].used_bytes = 84;
  e.on_metrics(kA, StreamSeq{3}, kT0 + 2 * kMin, m, kDefaults);
  CHECK(e.updates().size() == 2);
  CHECK_FALSE(e.is_active({kA, "disk", "/"}));
  CHECK_FALSE(e.is_active({kA, "temperature", "coretemp/Package id 0"}));
}

TEST_CASE("offline: raised by a ClockTick past alert.offline.after_s, resolved by a heartbeat") {
  AlertEngine e;
  const UnixNanos last = kT0;
  e.on_tick(kA, StreamSeq{10}, last + 120 * kSec, last, kDefaults);  // exactly 120 s: not yet
  e.on_tick(kB, StreamSeq{10}, last + 120 * kSec, std::nullopt, kDefaults);  // never seen
  CHECK(e.raised().empty());
  e.on_tick(kA, StreamSeq{11}, last + 135 * kSec, last, kDefaults);
  REQUIRE(e.raised().size() == 1);
  CHECK(e.raised()[0].key == AlertKey{kA, "offline", ""});
  CHECK(e.raised()[0].raised_at == last + 135 * kSec);
  CHECK(e.raised()[0].value == doctest::Approx(135));
  CHECK(e.raised()[0].threshold == doctest::Approx(120));
  e.on_tick(kA, StreamSeq{12}, last + 150 * kSec, last, kDefaults);
  CHECK(e.raised().size() == 1);
  e.on_presence(kA, last + 160 * kSec);
  REQUIRE(e.updates().size() == 1);
  CHECK(e.updates()[0].by == "auto");
  CHECK(e.updates()[0].at == last + 160 * kSec);
}

TEST_CASE("offline: the same tick twice (two tickers) raises once and resolves once") {
  AlertEngine e;
  const UnixNanos last = kT0;
  e.on_tick(kA, StreamSeq{11}, last + 135 * kSec, last, kDefaults);
  e.on_tick(kA, StreamSeq{12}, last + 135 * kSec, last, kDefaults);
  REQUIRE(e.raised().size() == 1);
  CHECK(e.raised()[0].stream_seq == StreamSeq{11});
  // Heard from again (an event other than a heartbeat), then both tickers' next tick.
  e.on_tick(kA, StreamSeq{20}, last + 300 * kSec, last + 290 * kSec, kDefaults);
  e.on_tick(kA, StreamSeq{21}, last + 300 * kSec, last + 290 * kSec, kDefaults);
  CHECK(e.raised().size() == 1);
  CHECK(e.updates().size() == 1);
}

TEST_CASE("offline also clears on a tick once the agent was heard from (any event)") {
  AlertEngine e;
  e.load_active({kA, "offline", ""}, alert_id({kA, "offline", ""}, StreamSeq{3}));
  e.on_tick(kA, StreamSeq{20}, kT0 + 30 * kSec, kT0, kDefaults);
  REQUIRE(e.updates().size() == 1);
  CHECK(e.updates()[0].at == kT0 + 30 * kSec);
}

TEST_CASE("suppression holds back re-raising the same rule and subject until it ends") {
  AlertEngine e;
  auto seq = feed_cpu(e, 1, kT0, {95, 95, 95, 95, 95, 95});
  REQUIRE(e.raised().size() == 1);
  const AlertId first = e.raised()[0].id;
  e.suppress({first, kT0 + 60 * kMin, {"user:bob", ""}}, kT0 + 6 * kMin);
  REQUIRE(e.updates().size() == 1);
  CHECK(e.updates()[0].kind == AlertUpdate::Kind::kSuppress);
  CHECK(e.updates()[0].until == kT0 + 60 * kMin);
  // Clears, then comes back for 10 minutes within the suppression: nothing new.
  seq = feed_cpu(e, seq, kT0 + 10 * kMin, {10});
  CHECK_FALSE(e.is_active(kCpuKey));
  seq = feed_cpu(e, seq, kT0 + 20 * kMin, {95, 95, 95, 95, 95, 95, 95, 95, 95, 95});
  CHECK(e.raised().size() == 1);
  // The streak continues past the end of the suppression: raised then.
  seq = feed_cpu(e, seq, kT0 + 60 * kMin, {95});
  REQUIRE(e.raised().size() == 2);
  CHECK(e.raised()[1].raised_at == kT0 + 60 * kMin);
  // A suppression loaded from the table works the same; other subjects are not held back.
  AlertEngine f;
  f.load_suppression({kA, "disk", "/"}, kT0 + kMin);
  MetricsRows m;
  m.filesystems =
      std::vector<FilesystemRow>{{"/", "", "", 99, 100, 0, 0}, {"/var", "", "", 99, 100, 0, 0}};
  f.on_metrics(kA, StreamSeq{1}, kT0, m, kDefaults);
  REQUIRE(f.raised().size() == 1);
  CHECK(f.raised()[0].key.subject == "/var");
}

TEST_CASE("a manual resolve ends the active alert; the condition may raise a new one") {
  AlertEngine e;
  Thresholds t;
  t.cpu_minutes = 0;
  e.on_metrics(kA, StreamSeq{1}, kT0, cpu(95), t);
  const AlertId first = e.raised().at(0).id;
  e.resolve({first, "fixed", {"user:bob", ""}}, kT0 + kMin);
  CHECK_FALSE(e.is_active(kCpuKey));
  CHECK(e.updates().at(0).by == "user:bob");
  e.on_metrics(kA, StreamSeq{5}, kT0 + 2 * kMin, cpu(95), t);
  REQUIRE(e.raised().size() == 2);
  CHECK(e.raised()[1].id != first);
  CHECK(e.agent_of(first) == kA);
}

TEST_CASE("outbox drops and sequence gaps raise warnings, watchdog by kind") {
  AlertEngine e;
  e.on_outbox_dropped(kA, StreamSeq{0}, kT0, {0, 120, 3, 9});  // heartbeats only: no alert
  e.on_outbox_dropped(kA, StreamSeq{1}, kT0, {5, 2, 10, 16});
  e.on_outbox_dropped(kA, StreamSeq{2}, kT0 + 1, {1, 0, 17, 17});  // already active
  e.on_gap(kA, StreamSeq{3}, kT0 + 2, 20, 24);
  e.on_watchdog(kA, StreamSeq{4}, kT0 + 3,
                {schema::WatchdogAlertKind::CrashLoop, 5, 300, 0, 0, "exit 1"});
  e.on_watchdog(kA, StreamSeq{5}, kT0 + 4,
                {schema::WatchdogAlertKind::MemoryLimit, 0, 0, 1 << 30, 0, ""});
  e.on_watchdog(kA, StreamSeq{6}, kT0 + 5, {schema::WatchdogAlertKind::Restarted, 1, 0, 0, 0, ""});
  REQUIRE(e.raised().size() == 5);
  CHECK(e.raised()[0].key.rule == "outbox_drops");
  CHECK(e.raised()[0].severity == "warning");
  CHECK(e.raised()[0].value == doctest::Approx(5));  // the metrics lost
  CHECK(e.raised()[1].key.rule == "sequence_gap");
  CHECK(e.raised()[1].severity == "warning");
  CHECK(e.raised()[1].value == doctest::Approx(5));
  CHECK(e.raised()[2].key == AlertKey{kA, "watchdog", "crash_loop"});
  CHECK(e.raised()[2].severity == "critical");
  CHECK(e.raised()[2].message.find("exit 1") != std::string::npos);
  CHECK(e.raised()[3].severity == "warning");
  CHECK(e.raised()[4].severity == "info");
}

TEST_CASE("alert ids are deterministic UUIDs of agent, rule, subject and raising position") {
  const AlertKey k{kA, "disk", "/"};
  const AlertId id = alert_id(k, StreamSeq{42});
  CHECK(id == alert_id(k, StreamSeq{42}));
  CHECK(id != alert_id(k, StreamSeq{43}));
  CHECK(id != alert_id({kB, "disk", "/"}, StreamSeq{42}));
  CHECK(id != alert_id({kA, "disk", "/var"}, StreamSeq{42}));
  CHECK(alert_id({kA, "ab", "c"}, StreamSeq{1}) != alert_id({kA, "a", "bc"}, StreamSeq{1}));
  CHECK((id.bytes()[6] >> 4) == 8);       // version 8
  CHECK((id.bytes()[8] & 0xc0) == 0x80);  // RFC 4122 variant
  CHECK(AlertId::parse(id.str()).value() == id);
}

// --- issue 18: severities from the policy, and why a resolved alert came back ---

TEST_CASE("each level rule raises with its policy's severity") {
  Thresholds t;
  t.cpu_minutes = 0;
  t.cpu_severity = "critical";
  t.disk_severity = "info";
  t.offline_severity = "warning";
  AlertEngine e;
  MetricsRows m = cpu(99);
  m.filesystems = std::vector<FilesystemRow>{{"/", "ext4", "sda1", 95, 100, 0, 0}};
  e.on_metrics(kA, StreamSeq{1}, kT0, m, t);
  e.on_tick(kA, StreamSeq{2}, kT0 + 10 * kMin, kT0, t);
  REQUIRE(e.raised().size() == 3);
  CHECK(e.raised()[0].key.rule == "cpu");
  CHECK(e.raised()[0].severity == "critical");
  CHECK(e.raised()[1].key.rule == "disk");
  CHECK(e.raised()[1].severity == "info");
  CHECK(e.raised()[2].key.rule == "offline");
  CHECK(e.raised()[2].severity == "warning");
}

TEST_CASE("the policy's severity keys, with their defaults when unset") {
  policy::EffectivePolicy p;
  auto t = thresholds_from(p);
  CHECK(t.cpu_severity == "warning");
  CHECK(t.memory_severity == "warning");
  CHECK(t.disk_severity == "critical");
  CHECK(t.temperature_severity == "critical");
  CHECK(t.offline_severity == "critical");
  p["alert.memory.severity"] = policy::EffectiveValue{"info", policy::Level::kSite, std::nullopt};
  CHECK(thresholds_from(p).memory_severity == "info");
}

TEST_CASE("a resolved alert whose condition held through the resolve says why it came back") {
  AlertEngine e;
  Thresholds t;
  t.cpu_minutes = 0;
  e.on_metrics(kA, StreamSeq{1}, kT0, cpu(99), t);
  REQUIRE(e.raised().size() == 1);
  const AlertId first = e.raised()[0].id;
  e.resolve({first, "", {"user:bob", ""}}, kT0 + 30 * kSec);
  e.on_metrics(kA, StreamSeq{3}, kT0 + kMin, cpu(98), t);
  REQUIRE(e.raised().size() == 2);
  CHECK(e.raised()[1].message ==
        "raised again: CPU still above 90% after a resolve; CPU 98.0% above 90%");
  // After a dip to the threshold the streak starts over: a later alert is a plain one.
  e.resolve({e.raised()[1].id, "", {"user:bob", ""}}, kT0 + 90 * kSec);
  e.on_metrics(kA, StreamSeq{5}, kT0 + 2 * kMin, cpu(90), t);
  e.on_metrics(kA, StreamSeq{6}, kT0 + 3 * kMin, cpu(97), t);
  REQUIRE(e.raised().size() == 3);
  CHECK(e.raised()[2].message == "CPU 97.0% above 90%");
}

TEST_CASE("a manual resolve loaded from an earlier batch, and offline that persists") {
  AlertEngine e;
  Thresholds t;
  // The streak since T0 and a user's resolve at T0 + 1 min, as alert_store loads them.
  e.load_condition({kA, "disk", "/data"}, Condition{kT0, 97});
  e.load_manual_resolve({kA, "disk", "/data"}, kT0 + kMin);
  e.load_manual_resolve({kA, "offline", ""}, kT0 + kMin);
  MetricsRows m;
  m.filesystems = std::vector<FilesystemRow>{{"/data", "xfs", "sdb1", 96, 100, 0, 0}};
  e.on_metrics(kA, StreamSeq{10}, kT0 + 2 * kMin, m, t);
  // Silent since T0 (before the resolve), still silent at the tick.
  e.on_tick(kA, StreamSeq{11}, kT0 + 10 * kMin, kT0, t);
  REQUIRE(e.raised().size() == 2);
  CHECK(
      e.raised()[0].message.starts_with("raised again: disk /data still above 90% after a "
                                        "resolve; disk /data 96.0% above 90%"));
  CHECK(e.raised()[1].message ==
        "raised again: still offline after a resolve; no heartbeat or event for 600 s");
  // A resolve the agent has since recovered from (heard from after it): a plain alert.
  AlertEngine f;
  f.load_manual_resolve({kA, "offline", ""}, kT0 + kMin);
  f.on_tick(kA, StreamSeq{12}, kT0 + 10 * kMin, kT0 + 2 * kMin, t);
  REQUIRE(f.raised().size() == 1);
  CHECK(f.raised()[0].message == "no heartbeat or event for 480 s");
}
