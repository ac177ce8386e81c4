// rmm-projector rebuild's pieces that need no servers.
#include <doctest/doctest.h>

#include <algorithm>

#include "projector/db/partitions.h"
#include "projector/rebuild/control_archive.h"
#include "projector/rebuild/read_model_schema.h"
#include "projector/rebuild/verify.h"

TEST_CASE("a replay skips raw metric rows only in days that retention drops") {
  using rmm::projector::db::PartitionManager;
  constexpr std::int64_t kDay = 86'400'000'000'000;
  const std::int64_t now = 20'000 * kDay + 5 * 3'600'000'000'000;  // 05:00 on day 20,000
  // 30 days back is 05:00 on day 19,970: that day ends after the cutoff and is kept whole.
  CHECK(PartitionManager::first_kept_raw_day(now, std::chrono::days(30)) == 19'970 * kDay);
  CHECK(PartitionManager::first_kept_raw_day(20'000 * kDay, std::chrono::days(30)) ==
        19'970 * kDay);
  CHECK(PartitionManager::first_kept_raw_day(now, std::chrono::hours(6)) == 19'999 * kDay);
}

TEST_CASE("scratch schema names are distinct per prefix and valid identifiers") {
  auto a = rmm::projector::rebuild::scratch_schema_name("rmm_rebuild");
  auto b = rmm::projector::rebuild::scratch_schema_name("rmm_verify");
  CHECK(a.starts_with("rmm_rebuild_"));
  CHECK(b.starts_with("rmm_verify_"));
  for (char c : a) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
}

TEST_CASE("the verify report lists each difference and the totals") {
  rmm::projector::rebuild::VerifyReport r;
  r.tables = {"agents", "metrics"};
  r.differences.push_back({.table = "agents",
                           .live_rows = 2,
                           .rebuilt_rows = 2,
                           .note = "",
                           .only_live = {"(1,a)"},
                           .only_rebuilt = {"(1,b)"}});
  CHECK_FALSE(r.equal());
  auto text = rmm::projector::rebuild::format_report(r);
  CHECK(text.find("table agents: 2 live rows, 2 rebuilt rows") != std::string::npos);
  CHECK(text.find("only live:    (1,a)") != std::string::npos);
  CHECK(text.find("only rebuilt: (1,b)") != std::string::npos);
  CHECK(text.find("2 tables compared, 1 differ") != std::string::npos);
}

TEST_CASE("a partial log's report names the tables it could not compare and where it is whole") {
  rmm::projector::rebuild::VerifyReport r;
  r.tables = {"clients", "users"};
  r.not_comparable = {"alerts", "metrics"};
  r.complete_from = rmm::StreamSeq{28};
  CHECK(r.equal());
  auto text = rmm::projector::rebuild::format_report(r);
  CHECK(text.find("not comparable (the stream no longer holds the telemetry before sequence 28; "
                  "the control plane was compared): alerts, metrics") != std::string::npos);
  CHECK(text.find("2 tables compared, 2 not comparable, 0 differ") != std::string::npos);
}

TEST_CASE("the control plane of a partial log is the tables the control events alone fill") {
  const auto tables = rmm::projector::rebuild::control_plane_tables();
  CHECK(std::is_sorted(tables.begin(), tables.end()));
  for (const char* t : {"agent_keys", "agents", "audit_log", "clients", "effective_policies",
                        "enrollment_codes", "policies", "sites", "user_scopes", "users"}) {
    CHECK_MESSAGE(std::find(tables.begin(), tables.end(), t) != tables.end(), t);
  }
  for (const char* t : {"metrics", "alerts", "commands", "agent_latest_metrics", "dead_letters"}) {
    CHECK_MESSAGE(std::find(tables.begin(), tables.end(), t) == tables.end(), t);
  }
}

TEST_CASE("an archived message names its origin sequence in Nats-Stream-Source") {
  using rmm::projector::rebuild::origin_seq;
  CHECK(origin_seq("RMM_EVENTS 26", "RMM_EVENTS") == rmm::StreamSeq{26});
  // Later nats-server versions add the filter and transform, and a hash to a filtered source.
  CHECK(origin_seq("RMM_EVENTS 7 rmm.ctl.> >", "RMM_EVENTS") == rmm::StreamSeq{7});
  CHECK(origin_seq("RMM_EVENTS:abcd 9 rmm.ctl.> >", "RMM_EVENTS") == rmm::StreamSeq{9});
  CHECK_FALSE(origin_seq("OTHER 26", "RMM_EVENTS"));
  CHECK_FALSE(origin_seq("RMM_EVENTS2 26", "RMM_EVENTS"));
  CHECK_FALSE(origin_seq("RMM_EVENTS", "RMM_EVENTS"));
  CHECK_FALSE(origin_seq("RMM_EVENTS x", "RMM_EVENTS"));
  CHECK_FALSE(origin_seq("RMM_EVENTS 0", "RMM_EVENTS"));
  CHECK_FALSE(origin_seq("RMM_EVENTS 12a", "RMM_EVENTS"));
}
