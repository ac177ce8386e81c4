// `rmm-projector rebuild` and `rmm-projector verify` (docs/operations.md).
//
// rebuild: replays the whole stream into a fresh schema while the live projector keeps serving,
// catches up, then swaps it in for `public` atomically (rebuild/read_model_schema.h). In parallel
// (rebuild/parallel_fold.h) it replays the archived control prefix serially, folds the stream's
// messages with the units in parallel, then catches up serially and swaps the same way.
// verify: replays into a scratch schema up to the live checkpoint and compares every table
// (rebuild/verify.h); the scratch schema is dropped afterwards.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace rmm::projector::rebuild {

// rebuild: fold with the partitioned projection's units in parallel (docs/operations.md, Rebuild).
enum class Parallel {
  kAuto,  // when the live read models are partitioned
  kOn,
  kOff,
};

struct CommandOptions {
  std::string nats_url, nats_creds, pg_url, stream;
  std::string nats_ca, nats_tls_name;   // TLS: the CA to pin and the name to check (nats_tls.h)
  std::string archive = "RMM_CONTROL";  // the control events aged out of `stream` (empty: none)
  std::filesystem::path migrations_dir;
  std::size_t batch_size = 8192;
  std::chrono::milliseconds metrics_retention{std::chrono::days(30)};
  std::chrono::milliseconds rollup_retention{std::chrono::days(400)};
  std::chrono::milliseconds dead_letter_retention{std::chrono::days(30)};
  bool keep_old_schema = false;  // rebuild: keep the retired schema; verify: keep the scratch
  std::size_t max_diffs = 20;    // verify: differing rows printed per table
  Parallel parallel = Parallel::kAuto;
  // A parallel rebuild's unit waits this long for a fetch it knows has messages: a shorter fetch
  // can expire before a filtered consumer on a long stream delivers, and the unit then starts its
  // consumer again (nats.c 3.4 crashed on such churn in tests with 100 ms fetches). An idle unit
  // does not fetch: it asks its consumer whether anything is left (unit_runner.h).
  std::chrono::milliseconds unit_fetch_timeout{5000};
  int unit_fetch_batch = 2048;
};

// Exit codes: 0 swapped; 1 failed (the live schema is untouched).
int run_rebuild(const CommandOptions& options, const std::atomic<bool>& stop);
// Exit codes: 0 equal; 1 different (differences on stdout); 2 could not verify.
int run_verify(const CommandOptions& options, const std::atomic<bool>& stop);

}  // namespace rmm::projector::rebuild
