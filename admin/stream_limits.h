// The byte and age limits GuruRMM gives its streams, decided when `rmm-admin apply-streams` runs.
// A definition file (broker-config/streams/*.json) says what a stream is: subjects, storage,
// discard policy. How much of the broker's disk it may use belongs to the installation, so it is
// a setting, and no stream is ever left without a byte limit.
//
// A managed stream's byte limit is, in this order: its explicit setting (`events-max-bytes`...),
// the limit the stream already has, or its share of the storage budget (a new stream, or one
// created before limits existed). The budget is a setting too; left at 0 it is half of what the
// JetStream store's filesystem has available plus what the managed streams already hold, so the
// streams stay clear of nats-server's own store limit (75 % of the free disk by default).
//
// Changing a limit never deletes stored messages silently: a byte, message or age limit below
// what a stream holds now (nats-server would delete the oldest messages at once, whatever the
// discard policy) is refused unless `force` is set.
//
// Limitations: the budget is computed where rmm-admin runs, from `jetstream_dir`: run it on the
// broker's machine or give the budget. Other programs sharing the disk are not accounted for
// beyond what was free when the limits were set.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::broker {

// A stream whose limits are settings, and its share of the budget.
struct ManagedStream {
  std::string_view stream;
  std::string_view bytes_setting;  // "events-max-bytes"
  std::string_view age_setting;    // "" when the age is fixed by the definition file
  int budget_percent;
};

inline constexpr ManagedStream kManagedStreams[] = {
    {"RMM_EVENTS", "events-max-bytes", "events-max-age", 80},
    {"RMM_CONTROL", "control-max-bytes", "", 5},
    {"RMM_COMMANDS", "commands-max-bytes", "commands-max-age", 5},
    {"RMM_RELEASES", "releases-max-bytes", "", 10},
    // On a site's leaf node, alone (broker-config/site-streams/, admin/leaf_config.h).
    {"RMM_SITE_EVENTS", "site-events-max-bytes", "", 80},
};

const ManagedStream* find_managed(std::string_view stream);

struct LimitSettings {
  std::int64_t storage_budget = 0;      // bytes; 0: from jetstream_dir's filesystem
  std::filesystem::path jetstream_dir;  // where the broker stores streams (for the budget)
  std::map<std::string, std::int64_t, std::less<>> max_bytes;   // explicit, by stream
  std::map<std::string, std::int64_t, std::less<>> max_age_ns;  // explicit, by stream
  bool force = false;  // allow limits below what a stream holds (deletes messages now)
};

// The automatic budget: half of (available bytes on jetstream_dir's filesystem + `held`).
Result<std::int64_t> auto_budget(const std::filesystem::path& jetstream_dir, std::int64_t held);

// What one stream holds now, from its STREAM.INFO reply.
struct StoredState {
  std::int64_t max_bytes = -1;  // its current limits: -1 (0 for the age) unlimited
  std::int64_t max_msgs = -1;
  std::int64_t max_age_ns = 0;
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  UnixNanos first_time = 0;  // 0 when empty
};
Result<StoredState> stored_state(const boost::json::object& stream_info);

// Sets max_bytes (and max_age when a setting names it) in `desired`, a definition file's
// object. `current` is the stream as it is (nullopt: it does not exist); `budget` is used only
// when needs_budget() says so. Refuses a definition left without a byte limit.
Result<void> set_limits(boost::json::object& desired, const std::optional<StoredState>& current,
                        const LimitSettings& settings, std::int64_t budget);

// True when the managed stream's byte limit must come from the budget.
bool needs_budget(std::string_view stream, const std::optional<StoredState>& current,
                  const LimitSettings& settings);

// Refuses (unless `force`) a limit lowered below what the stream holds now: nats-server would
// delete the oldest messages at once. A limit that does not change is never refused (messages
// just past max_age wait for the server's next expiry pass, which is not a loss we cause).
Result<void> check_no_loss(const boost::json::object& desired, const StoredState& current,
                           UnixNanos now, bool force);

}  // namespace rmm::broker
