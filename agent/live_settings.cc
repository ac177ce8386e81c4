#include "agent/live_settings.h"

#include <algorithm>

#include "agent/collectors/registry.h"
#include "agent/settings.h"

namespace rmm::agent {

Result<std::set<std::string, std::less<>>> parse_collector_list(std::string_view text) {
  std::set<std::string, std::less<>> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (!collectors::is_known_collector(item)) return failf("unknown collector '{}'", item);
      out.emplace(item);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Status LiveSettings::apply(const codec::KeyValues& settings) {
  Values next = get();
  for (const auto& [name, value] : settings) {
    if (std::find(std::begin(kLiveSettings), std::end(kLiveSettings), name) ==
        std::end(kLiveSettings)) {
      return failf("setting '{}' cannot be changed remotely", name);
    }
    const auto* spec = config::find_setting(agent_settings(), name);
    auto n = config::check_value(*spec, value);
    if (!n) return failf("setting '{}': {}", name, n.error().message);
    if (name == "heartbeat-interval") next.heartbeat_interval = std::chrono::milliseconds(*n);
    if (name == "metrics-interval") next.metrics_interval = std::chrono::milliseconds(*n);
    if (name == "inventory-interval") next.inventory_interval = std::chrono::milliseconds(*n);
    if (name == "disabled-collectors") {
      auto list = parse_collector_list(value);
      if (!list) return failf("setting '{}': {}", name, list.error().message);
      next.disabled_collectors = std::move(*list);
    }
  }
  std::lock_guard lock(mutex_);
  values_ = std::move(next);
  ++generation_;
  return {};
}

LiveSettings::Values LiveSettings::get() const {
  std::lock_guard lock(mutex_);
  return values_;
}

}  // namespace rmm::agent
