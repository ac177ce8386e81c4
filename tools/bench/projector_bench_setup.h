// rmm-bench-projector's arguments, generated events and report (see projector_bench.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/nats_connection.h"

namespace rmm::bench {

struct Args {
  std::string nats_url, nats_creds, pg_url;
  std::size_t events = 200'000;
  int agents = 1000;
  std::string shape = "typical";  // core: v1 fields only; typical: lists of a small server
  int batch_size = 512;
  // 0: one sample per agent-minute ending now. D: each agent's samples spread evenly over the
  // last D days (a long history, most of it past raw-metrics retention).
  int days = 0;
  // Heartbeats after each sample (a fleet's stream: 2 per sample at 30 s / 60 s intervals).
  int heartbeats = 0;
  std::string projector;  // rmm-projector binary
  // 0: the single projection (one rmm-projector). N: N rmm-projector --partitions=16 processes
  // sharing the units (docs/architecture.md, "Partitioned projection").
  int processes = 0;
  // Also rebuild with the units in parallel (rmm-projector rebuild --rebuild-parallel=on).
  bool rebuild_parallel = false;
};

// Exits with usage on bad arguments.
Args parse_args(int argc, char** argv);

struct Event {
  std::string subject;         // what an agent publishes to (rmm.evt.<agent>.metrics)
  std::string stream_subject;  // as stored after the server's mapping (for decoding offline)
  std::string msg_id;
  std::vector<std::uint8_t> bytes;
};

// `events` MetricsSamples round-robin over `agents` agents, one per agent-minute (or spread over
// `days`), ending now.
std::vector<Event> make_events(const Args& a);

// `url` (libpq URI or key=value string) pointing at database `name` instead.
std::string with_database(const std::string& url, const std::string& name);

std::uint64_t stream_last_seq(nats::Connection& conn);

// One `rmm-projector rebuild`.
struct Rebuilt {
  std::uint64_t messages = 0;  // the rebuilt checkpoint
  double seconds = 0;          // fold and index build, as it logs them
  double wall_seconds = 0;     // the whole command: schema, fold, indexes, swap
  double cpu_seconds = 0;      // the rmm-projector process's user + system time
  double pg_cpu_seconds = 0;   // PostgreSQL's over the same time (0: not on this machine)
  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  double cpu_ms_per_1000() const { return per_1000(cpu_seconds); }
  double pg_cpu_ms_per_1000() const { return per_1000(pg_cpu_seconds); }
  double per_1000(double s) const {
    return messages > 0 ? s * 1e6 / static_cast<double>(messages) : 0;
  }
};

struct Report {
  std::size_t events = 0;
  double rows_per_event = 0;
  double publish_rate = 0;
  double fetch_rate = 0;
  double copy_rows_rate = 0;
  double fold_rate = 0;
  double fold_cpu_ms_per_1000 = 0;  // the projector processes' CPU time per 1,000 events folded
  Rebuilt rebuild;                  // serial: rmm-projector rebuild --rebuild-parallel=off
  std::optional<Rebuilt> parallel_rebuild;  // --rebuild-parallel=on
};

// A Markdown table on stdout.
void print_report(const Args& a, const Report& r);

}  // namespace rmm::bench
