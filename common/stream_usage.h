// How full a JetStream stream is, and what deserves a warning before a limit bites: one reading
// for `rmm-admin stream-usage` (and so `tools/rmm status`) and for the services' periodic checks.
//
// What is worth a warning depends on the discard policy. A `discard old` stream (the telemetry
// log) is meant to fill up and then drop its oldest messages: being full is its steady state,
// so only how far back it still reaches is reported. A `discard new` stream (the control
// archive, commands, releases) refuses a publish that would cross its limit: crossing
// `warn_fraction` of it is a warning, `error_fraction` an error. A stream that sources another and
// is falling behind (its source lags and has been idle) is a warning too: for the control archive
// it means control events could age out of the log before they are archived.
//
// Concurrency: stateless; read_stream_usage makes one JetStream API request on the caller's
// thread.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::nats {

struct StreamUsage {
  struct Source {
    std::string name;
    std::uint64_t lag = 0;      // messages of the origin not yet copied
    std::int64_t idle_ns = -1;  // since the source last received anything; -1 never
  };
  std::string name;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  UnixNanos first_time = 0;     // of the oldest message; 0 when empty
  std::int64_t max_bytes = -1;  // -1: unlimited
  std::int64_t max_msgs = -1;
  std::int64_t max_age_ns = 0;  // 0: unlimited
  bool discard_new = false;
  std::vector<Source> sources;

  // The larger of bytes/max_bytes and messages/max_msgs; 0 when neither is limited.
  double used_fraction() const;
};

Result<StreamUsage> read_stream_usage(jsCtx* js, const std::string& stream);

enum class Severity { kWarning, kError };
struct UsageWarning {
  Severity severity;
  std::string text;
};

struct UsageThresholds {
  double warn_fraction = 0.8;  // of a discard-new stream's limit
  // Past this the next message may not fit (it is refused when it would cross the limit).
  double error_fraction = 0.95;
  // A source counts as behind only when it lags AND has been idle this long (a busy source
  // lags by a few messages all the time).
  std::int64_t source_idle_ns = 60'000'000'000;
};

std::vector<UsageWarning> usage_warnings(const StreamUsage& usage, const UsageThresholds& t = {});

// "12.3 MiB", "4.0 GiB", "512 B".
std::string format_bytes(double bytes);

}  // namespace rmm::nats
