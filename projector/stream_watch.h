// Warns in the projector's log, before a limit bites, about what `rmm-admin stream-usage` would
// flag (common/stream_usage.h): a `discard new` stream (control archive, commands, releases)
// filling up, the control archive falling behind the log, a stream left without a byte limit.
// The projector runs all the time, so its log is where an operator's alerting looks.
//
// Concurrency: one owner thread (the runner's, every stream-check-interval); check() makes one
// JetStream API request per stream on it, a few milliseconds each.
// Limitations: logs only; `tools/rmm status` shows the same readings on demand.
#pragma once

#include <nats/nats.h>

#include <string>
#include <vector>

namespace rmm::projector {

class StreamWatch {
 public:
  StreamWatch(jsCtx* js, std::vector<std::string> streams);

  // Reads every stream's usage and logs its warnings; returns how many were logged.
  int check();

 private:
  jsCtx* js_;
  std::vector<std::string> streams_;
};

}  // namespace rmm::projector
