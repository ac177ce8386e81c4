#include "api/intents/json_input.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <ctime>
#include <string>
#include <unordered_set>
#include <vector>

namespace rmm::api::intents {
namespace {

std::unexpected<Error> bad(std::string message) {
  return fail(Error::Code::kInvalidInput, std::move(message));
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// A boost::json::basic_parser handler that keeps nothing but the keys of each open object, and
// stops at the first key an object already has.
class KeyTracker {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  bool duplicate = false;

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) {
    open_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code&) {
    open_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
    key_.append(s.data(), s.size());
    bool fresh = open_.back().insert(std::move(key_)).second;
    key_.clear();
    if (fresh) return true;
    duplicate = true;
    ec = boost::json::make_error_code(boost::json::error::syntax);
    return false;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_bool(bool, boost::json::error_code&) { return true; }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  std::vector<std::unordered_set<std::string>> open_;  // at most max_depth deep
  std::string key_;
};

}  // namespace

Status check_text(std::string_view field, std::string_view value, std::size_t max_bytes,
                  bool multiline) {
  if (value.size() > max_bytes) {
    return bad(fmt::format("'{}' must be at most {} bytes", field, max_bytes));
  }
  for (unsigned char c : value) {
    bool allowed_control = multiline && (c == '\n' || c == '\t' || c == '\r');
    if ((c < 0x20 && !allowed_control) || c == 0x7f) {
      return bad(fmt::format("'{}' must not hold control characters", field));
    }
  }
  return {};
}

Result<UuidBytes> parse_uuid_field(std::string_view field, const boost::json::value& value) {
  if (!value.is_string()) return bad(fmt::format("'{}' must be a UUID string", field));
  auto bytes = uuid_from_string(std::string_view(value.get_string()));
  if (!bytes) return bad(fmt::format("'{}' is not a UUID", field));
  return *bytes;
}

Result<boost::json::value> parse_json_strict(std::string_view text, std::size_t max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = max_depth;
  {
    boost::json::basic_parser<KeyTracker> keys(opts);
    boost::json::error_code ec;
    keys.write_some(false, text.data(), text.size(), ec);
    if (keys.handler().duplicate) return bad("the body names a key twice in one object");
    if (ec) return bad("the body is not valid JSON");
  }
  boost::json::error_code ec;
  auto value = boost::json::parse(text, ec, {}, opts);
  if (ec) return bad("the body is not valid JSON");
  return value;
}

Result<Body> Body::parse(std::string_view text, std::initializer_list<std::string_view> allowed) {
  Body body;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return body;
  auto value = parse_json_strict(text);
  if (!value) return std::unexpected(value.error());
  if (!value->is_object()) return bad("the body must be a JSON object");
  body.object_ = std::move(value->get_object());
  for (const auto& kv : body.object_) {
    std::string_view key = kv.key();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      // The key is client text: name it only when it is short and printable.
      if (key.size() <= 64 && check_text("key", key, 64)) {
        return bad(fmt::format("unknown field '{}'", key));
      }
      return bad("unknown field");
    }
  }
  return body;
}

bool Body::has(std::string_view key) const {
  auto* v = object_.if_contains(key);
  return v != nullptr && !v->is_null();
}

const boost::json::value* Body::raw(std::string_view key) const {
  auto* v = object_.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

Result<std::optional<std::string>> Body::text(std::string_view key, std::size_t max_bytes,
                                              bool multiline) const {
  const auto* v = raw(key);
  if (v == nullptr) return std::optional<std::string>{};
  if (!v->is_string()) return bad(fmt::format("'{}' must be a string", key));
  std::string_view s = v->get_string();
  if (auto st = check_text(key, s, max_bytes, multiline); !st) return std::unexpected(st.error());
  return std::optional<std::string>(std::string(s));
}

Result<std::string> Body::required_text(std::string_view key, std::size_t max_bytes) const {
  auto v = text(key, max_bytes);
  if (!v) return std::unexpected(v.error());
  if (!*v || (*v)->empty()) return bad(fmt::format("'{}' is required", key));
  return std::move(**v);
}

Result<std::optional<std::int64_t>> Body::integer(std::string_view key, std::int64_t min,
                                                  std::int64_t max) const {
  const auto* v = raw(key);
  if (v == nullptr) return std::optional<std::int64_t>{};
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    return bad(fmt::format("'{}' must be an integer between {} and {}", key, min, max));
  } else {
    return bad(fmt::format("'{}' must be an integer", key));
  }
  if (n < min || n > max) {
    return bad(fmt::format("'{}' must be an integer between {} and {}", key, min, max));
  }
  return std::optional<std::int64_t>(n);
}

Result<std::optional<bool>> Body::boolean(std::string_view key) const {
  const auto* v = raw(key);
  if (v == nullptr) return std::optional<bool>{};
  if (!v->is_bool()) return bad(fmt::format("'{}' must be true or false", key));
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<UuidBytes>> Body::uuid(std::string_view key) const {
  const auto* v = raw(key);
  if (v == nullptr) return std::optional<UuidBytes>{};
  auto bytes = parse_uuid_field(key, *v);
  if (!bytes) return std::unexpected(bytes.error());
  return std::optional<UuidBytes>(*bytes);
}

Result<std::optional<std::vector<std::string>>> Body::strings(std::string_view key,
                                                              std::size_t max_items,
                                                              std::size_t max_bytes) const {
  const auto* v = raw(key);
  if (v == nullptr) return std::optional<std::vector<std::string>>{};
  if (!v->is_array()) return bad(fmt::format("'{}' must be an array of strings", key));
  const auto& arr = v->get_array();
  if (arr.size() > max_items) {
    return bad(fmt::format("'{}' holds at most {} items", key, max_items));
  }
  std::vector<std::string> out;
  out.reserve(arr.size());
  for (const auto& item : arr) {
    if (!item.is_string()) return bad(fmt::format("'{}' must be an array of strings", key));
    std::string_view s = item.get_string();
    if (auto st = check_text(key, s, max_bytes); !st) return std::unexpected(st.error());
    out.emplace_back(s);
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::int64_t> parse_rfc3339(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return bad("time must be RFC 3339 UTC, like 2026-01-02T03:04:05Z");
  }
  auto year = t.substr(0, 4), mon = t.substr(5, 2), day = t.substr(8, 2), hour = t.substr(11, 2),
       min = t.substr(14, 2), sec = t.substr(17, 2);
  for (auto part : {year, mon, day, hour, min, sec}) {
    if (!is_digits(part)) return bad("time must be RFC 3339 UTC, like 2026-01-02T03:04:05Z");
  }
  std::string_view rest = t.substr(19);
  std::int64_t frac_ns = 0;
  if (!rest.empty() && rest.front() == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    std::string_view digits = rest.substr(1, n - 1);
    if (digits.empty() || digits.size() > 9) return bad("time fraction must be 1-9 digits");
    frac_ns = to_int(digits);
    for (std::size_t i = digits.size(); i < 9; ++i) frac_ns *= 10;
    rest = rest.substr(n);
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00") return bad("time must be in UTC (Z)");
  // Unix nanoseconds in an int64 end in April 2262.
  constexpr int kMaxYear = 2261;
  std::tm tm{};
  tm.tm_year = to_int(year) - 1900;
  tm.tm_mon = to_int(mon) - 1;
  tm.tm_mday = to_int(day);
  tm.tm_hour = to_int(hour);
  tm.tm_min = to_int(min);
  tm.tm_sec = to_int(sec);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 70 || tm.tm_year > kMaxYear - 1900) {
    return bad("time is out of range");
  }
  std::time_t secs = timegm(&tm);
  return static_cast<std::int64_t>(secs) * 1'000'000'000 + frac_ns;
}

std::string format_rfc3339(std::int64_t unix_nanos) {
  std::int64_t ms = unix_nanos / 1'000'000;
  if (unix_nanos < 0 && unix_nanos % 1'000'000 != 0) --ms;
  std::int64_t secs = ms / 1000;
  if (ms < 0 && ms % 1000 != 0) --secs;
  auto millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace rmm::api::intents
