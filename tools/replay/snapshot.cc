#include "tools/replay/snapshot.h"

#include <array>
#include <cstdio>
#include <string>

#include "common/config.h"
#include "common/install_paths.h"
#include "common/log.h"
#include "common/nats_tls_settings.h"
#include "common/time_text.h"
#include "projector/rebuild/snapshot.h"

namespace rmm::replay {
namespace {

using config::Setting;
using Type = config::Type;

constexpr std::array kSnapshotSettings{
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    Setting{"nats-creds", Type::kString, "", "services user .creds file", 0, 0, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"pg-url", Type::kString, "", "the read models' database", 0, 0, true},
    Setting{"stream", Type::kString, "RMM_EVENTS", "stream to replay"},
    Setting{"control-archive", Type::kString, "RMM_CONTROL",
            "stream that keeps the control events aged out of --stream"},
    Setting{"until", Type::kString, "", "the moment: RFC 3339, YYYY-MM-DD, Unix ns, or an age (7d)",
            0, 0, true},
    Setting{"schema", Type::kString, "", "schema to build the read models in", 0, 0, true},
    Setting{"replace", Type::kBool, "false", "replace an earlier snapshot of that schema"},
    Setting{"migrations-dir", Type::kString, install_paths::kMigrationsDir,
            "directory of the projector's migrations"},
    Setting{"batch-size", Type::kInt, "8192", "messages per transaction of the replay", 1, 65'536},
    Setting{"metrics-retention", Type::kDuration, "30d",
            "raw metrics older than this before --until are left out (as the projector drops "
            "them)",
            3'600'000},
    Setting{"rollup-retention", Type::kDuration, "400d", "the same for metrics_hourly", 3'600'000},
    Setting{"quiet", Type::kBool, "false", "only errors on stderr"},
};

}  // namespace

int run_snapshot_command(int argc, char** argv, const std::atomic<bool>& stop) {
  auto values = config::Values::load(kSnapshotSettings, argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-replay snapshot: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-replay snapshot --until T --schema NAME --pg-url URL "
                             "--nats-creds FILE [--setting=value ...]",
                             "Builds the read models as they stood at T into schema NAME "
                             "(the same replay as rmm-projector rebuild --until).",
                             kSnapshotSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  auto until = parse_time_text(values->str("until"), real_clock().now());
  if (!until) {
    std::fprintf(stderr, "rmm-replay snapshot: --until: %s\n", until.error().message.c_str());
    return 2;
  }
  if (auto st = projector::rebuild::check_snapshot_schema_name(values->str("schema")); !st) {
    std::fprintf(stderr, "rmm-replay snapshot: %s\n", st.error().message.c_str());
    return 2;
  }
  // Progress and refusals are the rebuild's log lines (stderr).
  log::set_level(values->flag("quiet") ? log::Level::kError : log::Level::kInfo);
  projector::rebuild::SnapshotOptions o{
      .base = {.nats_url = values->str("nats-url"),
               .nats_creds = values->str("nats-creds"),
               .pg_url = values->str("pg-url"),
               .stream = values->str("stream"),
               .nats_ca = values->str("nats-ca"),
               .nats_tls_name = values->str("nats-tls-name"),
               .archive = values->str("control-archive"),
               .migrations_dir = values->str("migrations-dir"),
               .batch_size = static_cast<std::size_t>(values->integer("batch-size")),
               .metrics_retention = values->duration("metrics-retention"),
               .rollup_retention = values->duration("rollup-retention")},
      .until = *until,
      .schema = values->str("schema"),
      .replace = values->flag("replace")};
  return projector::rebuild::run_snapshot(o, stop);
}

}  // namespace rmm::replay
