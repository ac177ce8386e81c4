// `rmm-admin stream-usage`: one table of how full the GuruRMM streams are and how far back each
// reaches, followed by the warnings of common/stream_usage.h. `tools/rmm status` prints it.
//
// Concurrency: uses the given connection from the calling thread only.
#pragma once

#include <nats/nats.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/stream_usage.h"

namespace rmm::broker {

// The "name" of every *.json definition in `dir`, in file-name order.
Result<std::vector<std::string>> stream_names(const std::filesystem::path& dir);

struct UsageReport {
  std::string text;      // the table, then one line per warning or error
  bool healthy = false;  // no warning and no error
};

// A missing stream is an error line of the report, not a failure of the call.
Result<UsageReport> stream_usage_report(natsConnection* nc, const std::vector<std::string>& names,
                                        const nats::UsageThresholds& thresholds, UnixNanos now);

}  // namespace rmm::broker
