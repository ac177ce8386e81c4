// The alerting rules (docs/read-models.md, "Alerts"), evaluated from event time only so that a
// rebuild raises and resolves the same alerts, with the same ids, at the same times.
//
// AlertEngine is pure: the batch writer loads the state of the agents a batch touches (active
// alerts, rule conditions, suppressions), feeds it the batch's events in stream order and writes
// back what changed (db/alert_store.h). State that must outlive a batch lives in the tables
// alerts and alert_conditions, so evaluation continues across batches and restarts.
//
// Concurrency: none (one per batch). Limitations: outbox_drops, sequence_gap and watchdog alerts
// have no clearing condition: they stay active until a user resolves them.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/control_plane_events.h"
#include "common/ids.h"
#include "projector/folds/telemetry.h"
#include "projector/policy/policy_merge.h"

namespace rmm::projector::alerts {

inline constexpr std::string_view kCpu = "cpu";
inline constexpr std::string_view kMemory = "memory";
inline constexpr std::string_view kDisk = "disk";
inline constexpr std::string_view kTemperature = "temperature";
inline constexpr std::string_view kOffline = "offline";
inline constexpr std::string_view kOutboxDrops = "outbox_drops";
inline constexpr std::string_view kSequenceGap = "sequence_gap";
inline constexpr std::string_view kWatchdog = "watchdog";

// The alert.* values of an agent's effective policy.
struct Thresholds {
  double cpu_percent = 90;
  std::int64_t cpu_minutes = 5;
  double memory_percent = 90;
  std::int64_t memory_minutes = 5;
  double disk_percent = 90;
  double temperature_celsius = 85;
  std::int64_t offline_after_s = 120;
  double hysteresis = 5;  // percentage points; degrees Celsius for temperature
  // alert.<rule>.severity: what each rule raises (info, warning or critical).
  std::string cpu_severity = "warning";
  std::string memory_severity = "warning";
  std::string disk_severity = "critical";
  std::string temperature_severity = "critical";
  std::string offline_severity = "critical";
};
Thresholds thresholds_from(const policy::EffectivePolicy& policy);

struct AlertKey {
  AgentId agent;
  std::string rule;
  std::string subject;  // mount point, "chip/label", watchdog kind; "" when none
  auto operator<=>(const AlertKey&) const = default;
};

// UUID (version 8 layout) from SHA-256 of agent id, rule, subject and the raising stream_seq.
AlertId alert_id(const AlertKey& key, StreamSeq raised);

// How long a rule's condition has held (an alert_conditions row).
struct Condition {
  UnixNanos since = 0;
  double last_value = 0;
  bool operator==(const Condition&) const = default;
};

struct RaisedAlert {
  AlertId id;
  AlertKey key;
  std::string severity;  // info, warning, critical
  std::string message;
  std::optional<double> value, threshold;
  UnixNanos raised_at = 0;
  StreamSeq stream_seq;
};

// A change to an existing (or just raised) alert row, applied in order after the inserts.
struct AlertUpdate {
  enum class Kind { kResolve, kAcknowledge, kSuppress };
  Kind kind = Kind::kResolve;
  AlertId id;
  UnixNanos at = 0;
  std::string by;  // "auto" for a cleared condition, else the actor
  std::string note;
  UnixNanos until = 0;  // kSuppress
};

class AlertEngine {
 public:
  // State loaded before the batch.
  void load_active(const AlertKey& key, const AlertId& id);
  void load_known(const AlertId& id, const AlertKey& key);  // any alert a control event names
  void load_condition(const AlertKey& key, Condition condition);
  void load_suppression(const AlertKey& key, UnixNanos until);
  // The key's latest alert was resolved by a user (not "auto") at `at`: an alert raised while
  // the condition has held since before then says it came back.
  void load_manual_resolve(const AlertKey& key, UnixNanos at);

  // Agent events, in stream order, after the agent fold applied them.
  void on_metrics(const AgentId& agent, StreamSeq seq, UnixNanos at, const MetricsRows& m,
                  const Thresholds& t);
  void on_presence(const AgentId& agent, UnixNanos at);  // Heartbeat, AgentStarted
  void on_outbox_dropped(const AgentId& agent, StreamSeq seq, UnixNanos at,
                         const OutboxDropRow& drop);
  void on_gap(const AgentId& agent, StreamSeq seq, UnixNanos at, std::int64_t from_seq,
              std::int64_t to_seq);
  void on_watchdog(const AgentId& agent, StreamSeq seq, UnixNanos at, const WatchdogRow& w);
  // One call per live agent for a ClockTick at `tick` (its tick_ns); last_seen nullopt: never
  // heard from (not evaluated).
  void on_tick(const AgentId& agent, StreamSeq seq, UnixNanos tick,
               std::optional<UnixNanos> last_seen, const Thresholds& t);

  // Control events from the API.
  void acknowledge(const codec::AlertAcknowledgedInfo& v, UnixNanos at);
  void resolve(const codec::AlertResolvedInfo& v, UnixNanos at);
  void suppress(const codec::AlertSuppressedInfo& v, UnixNanos at);

  const std::vector<RaisedAlert>& raised() const { return raised_; }
  const std::vector<AlertUpdate>& updates() const { return updates_; }
  // The final state of every condition the batch touched (nullopt: delete the row).
  const std::map<AlertKey, std::optional<Condition>>& condition_changes() const {
    return condition_changes_;
  }
  bool is_active(const AlertKey& key) const { return active_.contains(key); }
  // The agent of an alert the engine knows (loaded, named by a control event, or raised).
  std::optional<AgentId> agent_of(const AlertId& id) const {
    auto it = known_.find(id);
    if (it == known_.end()) return std::nullopt;
    return it->second.agent;
  }

 private:
  // Raises unless an alert for `key` is active or suppressed at `at`. `since`: when the condition
  // began (0: unknown); when that is before a user's resolve of the key's previous alert, the
  // message starts "raised again: <still> after a resolve".
  void raise(const AlertKey& key, StreamSeq seq, UnixNanos at, std::string_view severity,
             std::string message, std::optional<double> value, std::optional<double> threshold,
             UnixNanos since = 0, std::string_view still = {});
  void auto_resolve(const AlertKey& key, UnixNanos at);
  // A threshold rule: raise once `value` stayed above `threshold` for `hold_ns` (0: at once),
  // resolve below threshold - hysteresis. The message reads "<what> <key.subject> <value>...".
  void level_rule(const AlertKey& key, StreamSeq seq, UnixNanos at, double value, double threshold,
                  UnixNanos hold_ns, double hysteresis, std::string_view what,
                  std::string_view unit, std::string_view severity);
  void set_condition(const AlertKey& key, std::optional<Condition> c);

  std::map<AlertKey, AlertId> active_;
  std::map<AlertId, AlertKey> known_;
  std::map<AlertKey, Condition> conditions_;
  std::map<AlertKey, UnixNanos> suppressed_until_;
  std::map<AlertKey, UnixNanos> manually_resolved_;
  std::vector<RaisedAlert> raised_;
  std::vector<AlertUpdate> updates_;
  std::map<AlertKey, std::optional<Condition>> condition_changes_;
};

}  // namespace rmm::projector::alerts
