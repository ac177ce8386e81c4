// Configuration declared once as data: name, type, default, bounds, description. Values come from
// `--name=value` / `--name value` flags, then `RMM_<NAME>` environment variables, then the default.
// An invalid value is a startup error that names the key. `--help` and the docs reference are
// generated from the same declarations.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::config {

enum class Type { kString, kInt, kDuration, kBool, kSize };

struct Setting {
  std::string_view name;  // lower-case, '-' separated: "heartbeat-interval"
  Type type;
  std::string_view default_value;  // in the same syntax as a flag value; "" = empty / required
  std::string_view description;
  // Bounds for kInt (the value), kDuration (milliseconds) and kSize (bytes).
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  bool required = false;
};

// Checks `value` against `spec`: its numeric form (milliseconds for durations, 0/1 for bools, 0 for
// strings), or why it is invalid.
Result<std::int64_t> check_value(const Setting& spec, std::string_view value);
const Setting* find_setting(std::span<const Setting> specs, std::string_view name);

// "250ms", "30s", "5m", "2h", "400d" -> milliseconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// "4096", "512KiB", "64MiB", "20GiB", "2TiB" -> bytes (binary units only: a disk budget written
// "20GB" is ambiguous, so it is refused rather than guessed).
Result<std::int64_t> parse_size(std::string_view text);
// The environment variable that sets `name`: "heartbeat-interval" -> "RMM_HEARTBEAT_INTERVAL".
std::string env_name(std::string_view name);

class Values {
 public:
  // Parses argv (argv[0] skipped). Arguments not starting with "--" are positional. "--help" and
  // "-h" set help_requested() and skip the required-value checks.
  static Result<Values> load(std::span<const Setting> specs, int argc, const char* const* argv);

  const std::string& str(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  std::chrono::milliseconds duration(std::string_view name) const;
  std::int64_t size(std::string_view name) const;  // bytes
  bool flag(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return help_; }

 private:
  std::map<std::string, std::string, std::less<>> raw_;
  std::map<std::string, std::int64_t, std::less<>> numbers_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// Human help text: usage line, summary, then one line per setting with default and env name.
std::string usage(std::string_view usage_line, std::string_view summary,
                  std::span<const Setting> specs);
// A Markdown table of the settings, for docs/configuration.md.
std::string markdown_reference(std::string_view program, std::span<const Setting> specs);

}  // namespace rmm::config
