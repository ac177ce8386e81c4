#include "projector/settings.h"

#include <fmt/format.h>

#include <array>
#include <limits>
#include <system_error>

#include "common/install_paths.h"
#include "common/nats_tls_settings.h"
#include "common/service_inboxes.h"

namespace rmm::projector {
namespace {

namespace fs = std::filesystem;
using config::Setting;
using config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();

constexpr std::array kSettings{
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    Setting{"nats-creds", Type::kString, "", "services user .creds file", -kAny, kAny, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"pg-url", Type::kString, "", "PostgreSQL URL of the read models", -kAny, kAny, true},
    Setting{"stream", Type::kString, "RMM_EVENTS", "JetStream stream to project"},
    Setting{"durable", Type::kString, "projector", "durable pull consumer name"},
    Setting{"batch-size", Type::kInt, "2048",
            "messages per fetch (a fetch returns early when fewer are there)", 1, 4096},
    Setting{"catch-up-events", Type::kInt, "16384",
            "most messages per transaction when the stream is backlogged (the fetches read ahead "
            "during a write are folded together)",
            1, 65'536},
    Setting{"fetch-timeout", Type::kDuration, "1s",
            "longest wait for a batch (also bounds shutdown latency)", 10, 60'000},
    Setting{"log-level", Type::kString, "info", "debug, info, warn or error"},
    Setting{"metrics-retention", Type::kDuration, "30d",
            "raw metrics kept (whole day partitions are dropped past it)", 86'400'000, kAny},
    Setting{"rollup-retention", Type::kDuration, "400d",
            "hourly metrics rollups kept (whole month partitions are dropped past it)", 86'400'000,
            kAny},
    Setting{"dead-letter-retention", Type::kDuration, "30d",
            "dead letters kept, by the stream time of their message (deleted at partition upkeep)",
            86'400'000, kAny},
    Setting{"partition-upkeep-interval", Type::kDuration, "1h",
            "how often partitions are created ahead and retention is applied", 1'000, 86'400'000},
    Setting{
        "ticker", Type::kBool, "true",
        "publish ClockTick events (offline detection); only the projection owner runs its ticker"},
    Setting{"tick-interval", Type::kDuration, "15s", "time between two ClockTick events", 1'000,
            3'600'000},
    Setting{"partitions", Type::kInt, "0",
            "0: one process folds the whole stream (others wait as standbys); 16: fold the "
            "stream's 16 agent partitions and its control events as separate units, shared by "
            "every rmm-projector started with it (docs/operations.md, Several projectors)",
            0, 16},
    Setting{"lock-poll-interval", Type::kDuration, "1s",
            "standby: how often a projector whose projection another process owns tries to take "
            "it over",
            50, 60'000},
    Setting{"stream-check-interval", Type::kDuration, "30s",
            "how often the unfolded part of the stream is compared with the stream's limits", 100,
            3'600'000},
    Setting{"lag-warn-percent", Type::kInt, "50",
            "warn when the unfolded part of the stream reaches this share of a stream limit "
            "(max_msgs, max_bytes, max_age)",
            1, 100},
    Setting{"http-host", Type::kString, "127.0.0.1",
            "address of the ops endpoint (/metrics, /healthz, /readyz); keep it on loopback or "
            "a monitoring network: it has no authentication"},
    Setting{"http-port", Type::kInt, "8091", "port of the ops endpoint (0: no endpoint)", 0,
            65'535},
    Setting{"control-archive", Type::kString, "RMM_CONTROL",
            "the stream that keeps the control events of `stream`: replays fill the ranges "
            "`stream` no longer holds from it, the live projector a range deleted before it "
            "folded it (empty: none)"},
    Setting{"rebuild-batch-size", Type::kInt, "16384",
            "rebuild and verify: messages per transaction of the replay", 1, 65'536},
    Setting{"rebuild-parallel", Type::kString, "auto",
            "rebuild: fold with the partitioned projection's units in parallel: on, off, or auto "
            "(when the live read models are partitioned)"},
    Setting{"keep-old-schema", Type::kBool, "false",
            "rebuild: keep the replaced read-model schema; verify: keep the scratch schema"},
    Setting{"verify-max-diffs", Type::kInt, "20", "verify: differing rows printed per table", 1,
            100'000},
    Setting{"migrations-dir", Type::kString, install_paths::kMigrationsDir,
            "directory of NNNN_name.sql migrations"},
};

}  // namespace

std::span<const config::Setting> settings() {
  return kSettings;
}

Result<std::unique_ptr<nats::Connection>> connect_nats(const ProjectorOptions& options) {
  nats::ConnectOptions co;
  co.url = options.nats_url;
  co.creds_file = options.nats_creds;
  co.tls_ca_file = options.nats_ca;
  co.tls_server_name = options.nats_tls_name;
  co.name = "rmm-projector";
  co.inbox_prefix = std::string(nats::kProjectorInboxPrefix);
  auto conn = nats::Connection::connect(co);
  if (!conn) return std::unexpected(with_context(conn.error(), "nats-url"));
  return conn;
}

Result<ProjectorOptions> options_from(const config::Values& v) {
  ProjectorOptions o{.nats_url = v.str("nats-url"),
                     .nats_creds = v.str("nats-creds"),
                     .nats_ca = v.str("nats-ca"),
                     .nats_tls_name = v.str("nats-tls-name"),
                     .pg_url = v.str("pg-url"),
                     .stream = v.str("stream"),
                     .durable = v.str("durable"),
                     .batch_size = static_cast<int>(v.integer("batch-size")),
                     .catch_up_events = static_cast<int>(v.integer("catch-up-events")),
                     .fetch_timeout = v.duration("fetch-timeout"),
                     .metrics_retention = v.duration("metrics-retention"),
                     .rollup_retention = v.duration("rollup-retention"),
                     .dead_letter_retention = v.duration("dead-letter-retention"),
                     .partition_upkeep_interval = v.duration("partition-upkeep-interval"),
                     .migrations_dir = v.str("migrations-dir"),
                     .ticker = v.flag("ticker"),
                     .tick_interval = v.duration("tick-interval"),
                     .partitions = static_cast<int>(v.integer("partitions")),
                     .lock_poll_interval = v.duration("lock-poll-interval"),
                     .stream_check_interval = v.duration("stream-check-interval"),
                     .lag_warn_percent = static_cast<int>(v.integer("lag-warn-percent")),
                     .http_host = v.str("http-host"),
                     .http_port = static_cast<int>(v.integer("http-port")),
                     .control_archive = v.str("control-archive"),
                     .rebuild_batch_size = static_cast<int>(v.integer("rebuild-batch-size")),
                     .rebuild_parallel = v.str("rebuild-parallel"),
                     .keep_old_schema = v.flag("keep-old-schema"),
                     .verify_max_diffs = static_cast<int>(v.integer("verify-max-diffs"))};
  if (o.partitions != 0 && o.partitions != kServerPartitions) {
    return failf("partitions: {} is neither 0 nor the server's {} agent partitions", o.partitions,
                 kServerPartitions);
  }
  if (o.rebuild_parallel != "auto" && o.rebuild_parallel != "on" && o.rebuild_parallel != "off") {
    return failf("rebuild-parallel: '{}' is none of auto, on, off", o.rebuild_parallel);
  }
  std::error_code ec;
  if (!fs::is_directory(o.migrations_dir, ec)) {
    return failf("migrations-dir: {} is not a directory", o.migrations_dir.string());
  }
  return o;
}

}  // namespace rmm::projector
