#include "admin/stream_limits.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "common/stream_usage.h"
#include "common/time_text.h"

namespace rmm::broker {
namespace {

namespace json = boost::json;

std::int64_t int_field(const json::object& o, std::string_view key, std::int64_t fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

// "400d", "36h", "90s": the largest whole unit.
std::string format_age(std::int64_t ns) {
  constexpr std::int64_t kSecond = 1'000'000'000, kHour = 3600 * kSecond, kDay = 24 * kHour;
  if (ns % kDay == 0) return fmt::format("{}d", ns / kDay);
  if (ns % kHour == 0) return fmt::format("{}h", ns / kHour);
  return fmt::format("{}s", ns / kSecond);
}

std::string bytes_text(std::int64_t b) {
  return nats::format_bytes(static_cast<double>(b));
}

}  // namespace

const ManagedStream* find_managed(std::string_view stream) {
  for (const auto& m : kManagedStreams) {
    if (m.stream == stream) return &m;
  }
  return nullptr;
}

Result<std::int64_t> auto_budget(const std::filesystem::path& jetstream_dir, std::int64_t held) {
  if (jetstream_dir.empty()) {
    return fail(Error::Code::kInvalidInput,
                "storage-budget is 0 (automatic) but no jetstream-dir was given to size it "
                "from: give one of them");
  }
  struct statvfs fs {};
  if (::statvfs(jetstream_dir.c_str(), &fs) != 0) {
    return failf("sizing the storage budget from {}: {}", jetstream_dir.string(),
                 std::strerror(errno));
  }
  const auto available =
      static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
  return (available + held) / 2;
}

Result<StoredState> stored_state(const json::object& info) {
  const json::value* config = info.if_contains("config");
  const json::value* state = info.if_contains("state");
  if (config == nullptr || !config->is_object() || state == nullptr || !state->is_object()) {
    return fail("stream info without config or state");
  }
  StoredState s;
  s.max_bytes = int_field(config->as_object(), "max_bytes", -1);
  s.max_msgs = int_field(config->as_object(), "max_msgs", -1);
  s.max_age_ns = int_field(config->as_object(), "max_age", 0);
  s.bytes = static_cast<std::uint64_t>(int_field(state->as_object(), "bytes", 0));
  s.messages = static_cast<std::uint64_t>(int_field(state->as_object(), "messages", 0));
  if (s.messages > 0) {
    const json::value* first = state->as_object().if_contains("first_ts");
    if (first != nullptr && first->is_string()) {
      auto t = parse_time_text(std::string_view(first->as_string()), 0);
      if (!t) return std::unexpected(with_context(t.error(), "stream first_ts"));
      s.first_time = *t;
    }
  }
  return s;
}

bool needs_budget(std::string_view stream, const std::optional<StoredState>& current,
                  const LimitSettings& settings) {
  if (find_managed(stream) == nullptr) return false;
  if (settings.max_bytes.contains(stream)) return false;
  return !current || current->max_bytes <= 0;
}

Result<void> set_limits(json::object& desired, const std::optional<StoredState>& current,
                        const LimitSettings& settings, std::int64_t budget) {
  const std::string name(desired.at("name").as_string());
  if (const ManagedStream* m = find_managed(name); m != nullptr) {
    std::int64_t bytes = 0;
    if (auto it = settings.max_bytes.find(name); it != settings.max_bytes.end()) {
      bytes = it->second;
    } else if (current && current->max_bytes > 0) {
      bytes = current->max_bytes;  // an existing limit stays unless a setting names another
    } else {
      bytes = budget / 100 * m->budget_percent;
    }
    desired["max_bytes"] = bytes;
    if (auto it = settings.max_age_ns.find(name); it != settings.max_age_ns.end()) {
      desired["max_age"] = it->second;
    }
  }
  if (int_field(desired, "max_bytes", -1) <= 0) {
    return failf("stream {} would have no byte limit: set max_bytes in its definition", name);
  }
  return {};
}

Result<void> check_no_loss(const json::object& desired, const StoredState& current, UnixNanos now,
                           bool force) {
  if (force || current.messages == 0) return {};
  // A limit is lowered when it is set (> 0) and was unlimited or higher before.
  auto lowered = [](std::int64_t want, std::int64_t had) {
    return want > 0 && (had <= 0 || want < had);
  };
  const std::string name(desired.at("name").as_string());
  const std::int64_t max_bytes = int_field(desired, "max_bytes", -1);
  if (lowered(max_bytes, current.max_bytes) &&
      static_cast<std::uint64_t>(max_bytes) < current.bytes) {
    return fail(Error::Code::kConflict,
                fmt::format("{}: a byte limit of {} is below the {} it holds; nats-server would "
                            "delete its oldest messages now (pass --force to accept that)",
                            name, bytes_text(max_bytes),
                            bytes_text(static_cast<std::int64_t>(current.bytes))));
  }
  const std::int64_t max_msgs = int_field(desired, "max_msgs", -1);
  if (lowered(max_msgs, current.max_msgs) &&
      static_cast<std::uint64_t>(max_msgs) < current.messages) {
    return fail(Error::Code::kConflict,
                fmt::format("{}: a limit of {} messages is below the {} it holds (pass --force "
                            "to delete the oldest)",
                            name, max_msgs, current.messages));
  }
  const std::int64_t max_age = int_field(desired, "max_age", 0);
  if (lowered(max_age, current.max_age_ns) && current.first_time > 0 &&
      now - current.first_time > max_age) {
    return fail(Error::Code::kConflict,
                fmt::format("{}: a max_age of {} would delete the messages it holds since {} "
                            "now (pass --force to accept that)",
                            name, format_age(max_age), format_time_utc(current.first_time)));
  }
  return {};
}

}  // namespace rmm::broker
