// Takes MetricsSamples: runs every metrics collector of the registry that is supported here and
// not switched off, and assembles one codec::MetricsInfo for codec::build_metrics.
//
// Rates (CPU % total, per core and per process) are measured between two calls. The first call
// takes a baseline, waits `baseline` (200 ms by default) and then samples, so even the first event
// carries real percentages; later calls measure since the previous call (the metrics interval).
//
// A collector that fails leaves its fields at their defaults (its lists absent) and adds
// "<name>: <reason>" to collection_errors; a sample fails as a whole only when every collector
// failed. Each change of a collector's error is logged once, not every sample.
//
// Concurrency: not thread-safe; one owner (the agent's metrics loop) calls sample().
// Limitations: the baseline wait blocks the caller once, for `baseline`.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "agent/platform/collectors.h"
#include "common/event_codec.h"
#include "common/result.h"

namespace rmm::agent::collectors {

struct MetricsOptions {
  std::chrono::milliseconds baseline{200};
  // Collector names switched off by configuration (apply_config); their fields stay unset and
  // no error is reported for them.
  std::set<std::string, std::less<>> disabled;
};

class MetricsCollector {
 public:
  explicit MetricsCollector(MetricsOptions options = {});

  Result<codec::MetricsInfo> sample();

 private:
  MetricsOptions options_;
  platform::SamplerState state_;
  bool primed_ = false;
  std::map<std::string, std::string, std::less<>> last_errors_;  // collector -> last error
};

}  // namespace rmm::agent::collectors
