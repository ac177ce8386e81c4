#include "agent/collectors/metrics_collector.h"

#include <thread>

#include "agent/collectors/collection_errors.h"
#include "agent/collectors/registry.h"
#include "common/log.h"

namespace rmm::agent::collectors {

MetricsCollector::MetricsCollector(MetricsOptions options) : options_(std::move(options)) {}

Result<codec::MetricsInfo> MetricsCollector::sample() {
  if (!primed_) {
    codec::MetricsInfo scratch;
    for (const auto& c : metrics_collectors()) {
      if (c.stateful && supported_here(c.platforms) && !options_.disabled.contains(c.name)) {
        (void)c.collect(state_, scratch);  // baseline only; its errors show in the real sample
      }
    }
    std::this_thread::sleep_for(options_.baseline);
    primed_ = true;
  }

  codec::MetricsInfo out;
  std::size_t ran = 0, failed = 0;
  for (const auto& c : metrics_collectors()) {
    if (options_.disabled.contains(c.name)) continue;
    ++ran;
    Status status = supported_here(c.platforms)
                        ? c.collect(state_, out)
                        : fail(Error::Code::kNotSupported,
                               std::string("not supported on this platform (") +
                                   std::string(platform::os_label(platform::current_os())) + ")");
    std::string message = status ? std::string() : status.error().message;
    auto& last = last_errors_[std::string(c.name)];
    if (message != last) {
      if (message.empty())
        log::info("collector.recovered", {{"collector", c.name}});
      else
        log::warn("collector.failed", {{"collector", c.name}, {"error", message}});
      last = message;
    }
    if (!status) {
      ++failed;
      add_collection_error(out.collection_errors, c.name, status.error());
    }
  }
  if (ran > 0 && failed == ran) {
    return fail(out.collection_errors.empty()
                    ? "every metrics collector failed"
                    : "every metrics collector failed; first: " + out.collection_errors.front());
  }
  return out;
}

}  // namespace rmm::agent::collectors
