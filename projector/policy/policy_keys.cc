#include "projector/policy/policy_keys.h"

#include <array>
#include <charconv>

namespace rmm::policy {
namespace {

constexpr std::array<std::string_view, 2> kOnOff = {"off", "on"};
constexpr std::array<std::string_view, 3> kSeverities = {"info", "warning", "critical"};

constexpr std::int64_t kDaySeconds = 86'400;

const std::array kKeys = {
    PolicyKey{"alert.cpu.percent",
              ValueType::kInteger,
              "90",
              "percent",
              1,
              100,
              {},
              "CPU alert: raised when CPU use stays above this"},
    PolicyKey{"alert.cpu.minutes",
              ValueType::kInteger,
              "5",
              "minutes",
              0,
              1440,
              {},
              "CPU alert: ... continuously for this long (0: on the first sample)"},
    PolicyKey{"alert.memory.percent",
              ValueType::kInteger,
              "90",
              "percent",
              1,
              100,
              {},
              "memory alert: raised when memory use stays above this"},
    PolicyKey{"alert.memory.minutes",
              ValueType::kInteger,
              "5",
              "minutes",
              0,
              1440,
              {},
              "memory alert: ... continuously for this long (0: on the first sample)"},
    PolicyKey{"alert.disk.percent",
              ValueType::kInteger,
              "90",
              "percent",
              1,
              100,
              {},
              "disk alert: raised per filesystem above this share used"},
    PolicyKey{"alert.temperature.celsius",
              ValueType::kInteger,
              "85",
              "celsius",
              1,
              200,
              {},
              "temperature alert: raised per sensor above this"},
    PolicyKey{"alert.offline.after_s",
              ValueType::kInteger,
              "120",
              "seconds",
              30,
              kDaySeconds,
              {},
              "offline alert: raised when nothing was heard from the agent for this long"},
    PolicyKey{"alert.hysteresis.percent",
              ValueType::kInteger,
              "5",
              "percent",
              0,
              50,
              {},
              "an alert clears only below threshold minus this (percentage points; degrees "
              "Celsius for temperature)"},
    // What each rule raises (issue 18): load is a warning, a full disk, heat or silence critical.
    PolicyKey{"alert.cpu.severity", ValueType::kChoice, "warning", "", 0, 0, kSeverities,
              "CPU alert: its severity"},
    PolicyKey{"alert.memory.severity", ValueType::kChoice, "warning", "", 0, 0, kSeverities,
              "memory alert: its severity"},
    PolicyKey{"alert.disk.severity", ValueType::kChoice, "critical", "", 0, 0, kSeverities,
              "disk alert: its severity"},
    PolicyKey{"alert.temperature.severity", ValueType::kChoice, "critical", "", 0, 0, kSeverities,
              "temperature alert: its severity"},
    PolicyKey{"alert.offline.severity", ValueType::kChoice, "critical", "", 0, 0, kSeverities,
              "offline alert: its severity"},
    PolicyKey{"agent.heartbeat_interval_s",
              ValueType::kInteger,
              "30",
              "seconds",
              5,
              3600,
              {},
              "how often the agent sends a heartbeat"},
    PolicyKey{"agent.metrics_interval_s",
              ValueType::kInteger,
              "60",
              "seconds",
              10,
              3600,
              {},
              "how often the agent sends a metrics sample"},
    PolicyKey{"auto_update", ValueType::kChoice, "off", "", 0, 0, kOnOff,
              "whether rollouts may update the agent without an explicit command"},
};

Error invalid(std::string message) {
  return Error{Error::Code::kInvalidInput, std::move(message)};
}

}  // namespace

std::span<const PolicyKey> policy_keys() {
  return kKeys;
}

const PolicyKey* find_policy_key(std::string_view key) {
  for (const auto& k : kKeys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::optional<std::int64_t> integer_value(std::string_view value) {
  if (value.empty() || value.size() > 19) return std::nullopt;
  std::string_view digits = value;
  if (digits.front() == '+') digits.remove_prefix(1);  // from_chars accepts '-' only
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  return out;
}

Status validate_policy_value(std::string_view key, std::string_view value) {
  const PolicyKey* k = find_policy_key(key);
  if (k == nullptr) return std::unexpected(invalid(fmt::format("unknown policy key '{}'", key)));
  if (k->type == ValueType::kChoice) {
    for (auto c : k->choices) {
      if (c == value) return {};
    }
    std::string list;
    for (auto c : k->choices) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", c);
    return std::unexpected(invalid(fmt::format("{}: '{}' is not one of {}", key, value, list)));
  }
  auto v = integer_value(value);
  if (!v) {
    return std::unexpected(invalid(fmt::format("{}: '{}' is not an integer", key, value)));
  }
  if (*v < k->min || *v > k->max) {
    return std::unexpected(
        invalid(fmt::format("{}: {} is outside [{}, {}] {}", key, *v, k->min, k->max, k->unit)));
  }
  return {};
}

}  // namespace rmm::policy
