#include "projector/stream_watch.h"

#include "common/log.h"
#include "common/stream_usage.h"

namespace rmm::projector {

StreamWatch::StreamWatch(jsCtx* js, std::vector<std::string> streams)
    : js_(js), streams_(std::move(streams)) {}

int StreamWatch::check() {
  int logged = 0;
  for (const auto& name : streams_) {
    auto usage = nats::read_stream_usage(js_, name);
    if (!usage) {
      log::warn("stream.usage_unknown", {{"stream", name}, {"error", usage.error().message}});
      ++logged;
      continue;
    }
    for (const auto& w : nats::usage_warnings(*usage)) {
      const auto level =
          w.severity == nats::Severity::kError ? log::Level::kError : log::Level::kWarn;
      log::write(level, w.severity == nats::Severity::kError ? "stream.full" : "stream.near_limit",
                 {{"stream", name},
                  {"bytes", usage->bytes},
                  {"max_bytes", usage->max_bytes},
                  {"warning", w.text}});
      ++logged;
    }
  }
  return logged;
}

}  // namespace rmm::projector
