// rmm-projector's configuration, declared once (flags, RMM_* environment, defaults, bounds).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "common/config.h"
#include "common/nats_connection.h"
#include "common/result.h"

namespace rmm::projector {

std::span<const config::Setting> settings();

// The partition count of the server's `rmm.evt.*.*` mapping (admin/partition.h): a partitioned
// projector must fold exactly these, or the events of the others would never be folded.
inline constexpr int kServerPartitions = 16;

struct ProjectorOptions {
  std::string nats_url;
  std::string nats_creds;
  std::string nats_ca;        // CA to pin (TLS required); empty: plaintext to loopback only
  std::string nats_tls_name;  // the server certificate's name; empty: the URL's host
  std::string pg_url;
  std::string stream;
  std::string durable;
  int batch_size = 2048;
  int catch_up_events = 16384;
  std::chrono::milliseconds fetch_timeout{1000};
  std::chrono::milliseconds metrics_retention{std::chrono::days(30)};
  std::chrono::milliseconds rollup_retention{std::chrono::days(400)};
  std::chrono::milliseconds dead_letter_retention{std::chrono::days(30)};
  std::chrono::milliseconds partition_upkeep_interval{std::chrono::hours(1)};
  std::filesystem::path migrations_dir;
  bool ticker = true;
  std::chrono::milliseconds tick_interval{15'000};
  int partitions = 0;  // 0: the single "core" projection; else partitioned_runner.h
  std::chrono::milliseconds lock_poll_interval{1'000};
  std::chrono::milliseconds stream_check_interval{30'000};
  int lag_warn_percent = 50;
  // The ops endpoint: /metrics, /healthz, /readyz (ops_http.h); port 0: none.
  std::string http_host = "127.0.0.1";
  int http_port = 8091;
  // rebuild / verify (docs/operations.md)
  std::string control_archive = "RMM_CONTROL";
  int rebuild_batch_size = 16384;
  std::string rebuild_parallel = "auto";  // auto, on, off
  bool keep_old_schema = false;
  int verify_max_diffs = 20;
};

// The projector's NATS connection from its options (services inbox prefix, pinned CA).
Result<std::unique_ptr<nats::Connection>> connect_nats(const ProjectorOptions& options);

// Reads the validated values; resolves migrations-dir (an installed layout is found relative to
// the executable when the compiled-in source path does not exist).
Result<ProjectorOptions> options_from(const config::Values& values);

}  // namespace rmm::projector
