#include "projector/alerts/alert_rules.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>

#include "projector/policy/policy_keys.h"

namespace rmm::projector::alerts {
namespace {

constexpr UnixNanos kSecond = 1'000'000'000;

std::string_view watchdog_token(schema::WatchdogAlertKind kind) {
  switch (kind) {
    case schema::WatchdogAlertKind::CrashLoop:
      return "crash_loop";
    case schema::WatchdogAlertKind::Hang:
      return "hang";
    case schema::WatchdogAlertKind::MemoryLimit:
      return "memory_limit";
    case schema::WatchdogAlertKind::CpuLimit:
      return "cpu_limit";
    case schema::WatchdogAlertKind::Restarted:
      return "restarted";
  }
  return "unknown";
}

std::string_view watchdog_severity(schema::WatchdogAlertKind kind) {
  switch (kind) {
    case schema::WatchdogAlertKind::CrashLoop:
    case schema::WatchdogAlertKind::Hang:
      return "critical";
    case schema::WatchdogAlertKind::MemoryLimit:
    case schema::WatchdogAlertKind::CpuLimit:
      return "warning";
    default:
      return "info";
  }
}

}  // namespace

Thresholds thresholds_from(const policy::EffectivePolicy& p) {
  auto d = [&](std::string_view key) { return static_cast<double>(policy::policy_int(p, key)); };
  // A choice key: the effective value, else the key's default (both validated choices).
  auto choice = [&](std::string_view key) {
    if (auto it = p.find(std::string(key)); it != p.end()) return it->second.value;
    const auto* k = policy::find_policy_key(key);
    return k != nullptr ? std::string(k->default_value) : std::string("critical");
  };
  return Thresholds{.cpu_percent = d("alert.cpu.percent"),
                    .cpu_minutes = policy::policy_int(p, "alert.cpu.minutes"),
                    .memory_percent = d("alert.memory.percent"),
                    .memory_minutes = policy::policy_int(p, "alert.memory.minutes"),
                    .disk_percent = d("alert.disk.percent"),
                    .temperature_celsius = d("alert.temperature.celsius"),
                    .offline_after_s = policy::policy_int(p, "alert.offline.after_s"),
                    .hysteresis = d("alert.hysteresis.percent"),
                    .cpu_severity = choice("alert.cpu.severity"),
                    .memory_severity = choice("alert.memory.severity"),
                    .disk_severity = choice("alert.disk.severity"),
                    .temperature_severity = choice("alert.temperature.severity"),
                    .offline_severity = choice("alert.offline.severity")};
}

AlertId alert_id(const AlertKey& key, StreamSeq raised) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  const auto& agent = key.agent.bytes();
  crypto_hash_sha256_update(&st, agent.data(), agent.size());
  const std::uint8_t zero = 0;
  auto add = [&](std::string_view s) {
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    crypto_hash_sha256_update(&st, &zero, 1);  // separator: ("ab","c") != ("a","bc")
  };
  add(key.rule);
  add(key.subject);
  std::array<std::uint8_t, 8> seq{};
  for (int i = 0; i < 8; ++i) seq[7 - i] = static_cast<std::uint8_t>(raised.value >> (8 * i));
  crypto_hash_sha256_update(&st, seq.data(), seq.size());
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&st, digest.data());
  UuidBytes out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  out[6] = static_cast<std::uint8_t>((out[6] & 0x0f) | 0x80);  // version 8: custom
  out[8] = static_cast<std::uint8_t>((out[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return AlertId(out);
}

void AlertEngine::load_active(const AlertKey& key, const AlertId& id) {
  active_[key] = id;
  known_[id] = key;
}

void AlertEngine::load_known(const AlertId& id, const AlertKey& key) {
  known_[id] = key;
}

void AlertEngine::load_condition(const AlertKey& key, Condition condition) {
  conditions_[key] = condition;
}

void AlertEngine::load_suppression(const AlertKey& key, UnixNanos until) {
  auto& u = suppressed_until_[key];
  u = std::max(u, until);
}

void AlertEngine::load_manual_resolve(const AlertKey& key, UnixNanos at) {
  manually_resolved_[key] = at;
}

void AlertEngine::set_condition(const AlertKey& key, std::optional<Condition> c) {
  if (c) {
    conditions_[key] = *c;
  } else {
    conditions_.erase(key);
  }
  condition_changes_[key] = c;
}

void AlertEngine::raise(const AlertKey& key, StreamSeq seq, UnixNanos at, std::string_view severity,
                        std::string message, std::optional<double> value,
                        std::optional<double> threshold, UnixNanos since, std::string_view still) {
  if (active_.contains(key)) return;
  if (auto it = suppressed_until_.find(key); it != suppressed_until_.end() && it->second > at) {
    return;
  }
  if (auto it = manually_resolved_.find(key); it != manually_resolved_.end()) {
    // The condition held through the resolve: the alert came back because nothing changed.
    if (since > 0 && since <= it->second) {
      message = fmt::format("raised again: {} after a resolve; {}", still, message);
    }
    manually_resolved_.erase(it);
  }
  const AlertId id = alert_id(key, seq);
  active_[key] = id;
  known_[id] = key;
  raised_.push_back(RaisedAlert{.id = id,
                                .key = key,
                                .severity = std::string(severity),
                                .message = std::move(message),
                                .value = value,
                                .threshold = threshold,
                                .raised_at = at,
                                .stream_seq = seq});
}

void AlertEngine::auto_resolve(const AlertKey& key, UnixNanos at) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  updates_.push_back(
      AlertUpdate{.kind = AlertUpdate::Kind::kResolve, .id = it->second, .at = at, .by = "auto"});
  active_.erase(it);
}

void AlertEngine::level_rule(const AlertKey& key, StreamSeq seq, UnixNanos at, double value,
                             double threshold, UnixNanos hold_ns, double hysteresis,
                             std::string_view what, std::string_view unit,
                             std::string_view severity) {
  // `what` names the rule; the key's subject (a mount, a sensor) follows it in the message, which
  // is only formatted when an alert is raised (most samples raise nothing).
  if (value > threshold) {
    // Every level rule keeps its streak (alert_conditions), also with no hold: a re-raise after
    // a user's resolve tells from it whether the condition held through the resolve. A sample
    // older than the streak's start (an agent clock step) restarts nothing.
    auto it = conditions_.find(key);
    UnixNanos since = at;
    if (it == conditions_.end()) {
      set_condition(key, Condition{at, value});
    } else {
      since = std::min(it->second.since, at);
      set_condition(key, Condition{since, value});
    }
    if (at - since >= hold_ns) {
      std::string held =
          hold_ns > 0 ? fmt::format(" for {} min", hold_ns / (60 * kSecond)) : std::string();
      raise(key, seq, at, severity,
            fmt::format("{}{}{} {:.1f}{} above {:.0f}{}{}", what, key.subject.empty() ? "" : " ",
                        key.subject, value, unit, threshold, unit, held),
            value, threshold, since,
            fmt::format("{}{}{} still above {:.0f}{}", what, key.subject.empty() ? "" : " ",
                        key.subject, threshold, unit));
    }
    return;
  }
  if (conditions_.contains(key)) set_condition(key, std::nullopt);
  if (value < threshold - hysteresis) auto_resolve(key, at);
}

void AlertEngine::on_metrics(const AgentId& agent, StreamSeq seq, UnixNanos at,
                             const MetricsRows& m, const Thresholds& t) {
  level_rule({agent, std::string(kCpu), ""}, seq, at, m.cpu_percent, t.cpu_percent,
             t.cpu_minutes * 60 * kSecond, t.hysteresis, "CPU", "%", t.cpu_severity);
  if (m.mem_total_bytes > 0) {
    level_rule({agent, std::string(kMemory), ""}, seq, at, m.mem_percent(), t.memory_percent,
               t.memory_minutes * 60 * kSecond, t.hysteresis, "memory", "%", t.memory_severity);
  }
  if (m.filesystems) {
    for (const auto& fs : *m.filesystems) {
      if (fs.total_bytes <= 0) continue;
      const double used =
          100.0 * static_cast<double>(fs.used_bytes) / static_cast<double>(fs.total_bytes);
      level_rule({agent, std::string(kDisk), fs.mount}, seq, at, used, t.disk_percent, 0,
                 t.hysteresis, "disk", "%", t.disk_severity);
    }
  }
  if (m.temperatures) {
    for (const auto& s : *m.temperatures) {
      std::string subject = s.chip;
      if (!s.label.empty()) (subject += '/') += s.label;
      level_rule({agent, std::string(kTemperature), std::move(subject)}, seq, at, s.celsius,
                 t.temperature_celsius, 0, t.hysteresis, "temperature", " °C",
                 t.temperature_severity);
    }
  }
}

void AlertEngine::on_presence(const AgentId& agent, UnixNanos at) {
  auto_resolve({agent, std::string(kOffline), ""}, at);
}

void AlertEngine::on_outbox_dropped(const AgentId& agent, StreamSeq seq, UnixNanos at,
                                    const OutboxDropRow& d) {
  // Only lost metrics are worth a warning: a replaced heartbeat is superseded by a newer one
  // (the outage itself is the `offline` alert), and agents report those counts after every
  // outage.
  if (d.dropped_metrics <= 0) return;
  raise({agent, std::string(kOutboxDrops), ""}, seq, at, "warning",
        fmt::format("the agent's outbox dropped {} metrics (sequences {}..{}) and replaced {} "
                    "heartbeats",
                    d.dropped_metrics, d.oldest_dropped_seq, d.newest_dropped_seq,
                    d.dropped_heartbeats),
        static_cast<double>(d.dropped_metrics), std::nullopt);
}

void AlertEngine::on_gap(const AgentId& agent, StreamSeq seq, UnixNanos at, std::int64_t from_seq,
                         std::int64_t to_seq) {
  raise({agent, std::string(kSequenceGap), ""}, seq, at, "warning",
        fmt::format("events {}..{} of the agent never arrived", from_seq, to_seq),
        static_cast<double>(to_seq - from_seq + 1), std::nullopt);
}

void AlertEngine::on_watchdog(const AgentId& agent, StreamSeq seq, UnixNanos at,
                              const WatchdogRow& w) {
  const auto kind = watchdog_token(w.kind);
  std::string message =
      fmt::format("watchdog: {} ({} restarts in {} s)", kind, w.restarts, w.window_s);
  if (!w.detail.empty()) message += fmt::format(": {}", w.detail);
  raise({agent, std::string(kWatchdog), std::string(kind)}, seq, at, watchdog_severity(w.kind),
        std::move(message), static_cast<double>(w.restarts), std::nullopt);
}

void AlertEngine::on_tick(const AgentId& agent, StreamSeq seq, UnixNanos tick,
                          std::optional<UnixNanos> last_seen, const Thresholds& t) {
  if (!last_seen) return;
  const AlertKey key{agent, std::string(kOffline), ""};
  const UnixNanos silent = tick - *last_seen;
  if (silent > t.offline_after_s * kSecond) {
    raise(key, seq, tick, t.offline_severity,
          fmt::format("no heartbeat or event for {} s", silent / kSecond),
          static_cast<double>(silent / kSecond), static_cast<double>(t.offline_after_s), *last_seen,
          "still offline");
  } else {
    auto_resolve(key, tick);  // heard from again through an event other than a heartbeat
  }
}

void AlertEngine::acknowledge(const codec::AlertAcknowledgedInfo& v, UnixNanos at) {
  updates_.push_back(AlertUpdate{.kind = AlertUpdate::Kind::kAcknowledge,
                                 .id = v.alert,
                                 .at = at,
                                 .by = v.by.actor,
                                 .note = v.note});
}

void AlertEngine::resolve(const codec::AlertResolvedInfo& v, UnixNanos at) {
  updates_.push_back(AlertUpdate{.kind = AlertUpdate::Kind::kResolve,
                                 .id = v.alert,
                                 .at = at,
                                 .by = v.by.actor,
                                 .note = v.note});
  auto it = known_.find(v.alert);
  if (it != known_.end()) {
    auto a = active_.find(it->second);
    if (a != active_.end() && a->second == v.alert) {
      active_.erase(a);
      manually_resolved_[it->second] = at;
    }
  }
}

void AlertEngine::suppress(const codec::AlertSuppressedInfo& v, UnixNanos at) {
  updates_.push_back(AlertUpdate{.kind = AlertUpdate::Kind::kSuppress,
                                 .id = v.alert,
                                 .at = at,
                                 .by = v.by.actor,
                                 .until = v.until});
  auto it = known_.find(v.alert);
  if (it != known_.end()) load_suppression(it->second, v.until);
}

}  // namespace rmm::projector::alerts
