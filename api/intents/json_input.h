// Strict reading of an intent's JSON body: an object, only the fields the route knows, each of the
// expected type and within its bounds. Every failure is a kInvalidInput error whose message is
// written for the client (it names the field, never echoes the value).
//
// Concurrency: a Body is used by one request thread.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::api::intents {

inline constexpr std::size_t kMaxTextField = 4096;

class Body {
 public:
  // Parses `text` (an empty body reads as {}) and refuses any field outside `allowed`.
  static Result<Body> parse(std::string_view text, std::initializer_list<std::string_view> allowed);

  bool has(std::string_view key) const;
  // A string of 0..max_bytes bytes without control characters (newline and tab allowed when
  // `multiline`). nullopt when absent or null.
  Result<std::optional<std::string>> text(std::string_view key, std::size_t max_bytes,
                                          bool multiline = false) const;
  // Like text() but the field must be present and non-empty.
  Result<std::string> required_text(std::string_view key, std::size_t max_bytes) const;
  Result<std::optional<std::int64_t>> integer(std::string_view key, std::int64_t min,
                                              std::int64_t max) const;
  Result<std::optional<bool>> boolean(std::string_view key) const;
  Result<std::optional<UuidBytes>> uuid(std::string_view key) const;
  // An array of at most `max_items` strings, each as text() checks it.
  Result<std::optional<std::vector<std::string>>> strings(std::string_view key,
                                                          std::size_t max_items,
                                                          std::size_t max_bytes) const;
  const boost::json::value* raw(std::string_view key) const;

 private:
  boost::json::object object_;
};

// Parses a JSON document strictly: besides malformed JSON (and nesting deeper than `max_depth`),
// refuses an object that names a key twice, which boost::json would resolve silently by keeping
// the last (so a check and a use could read different values). kInvalidInput with a message for
// the client.
Result<boost::json::value> parse_json_strict(std::string_view text, std::size_t max_depth = 16);

// Checks what text() checks, for values that arrive outside a Body (policy values, scope lists).
Status check_text(std::string_view field, std::string_view value, std::size_t max_bytes,
                  bool multiline = false);
// Parses a canonical UUID string; the error names `field`.
Result<UuidBytes> parse_uuid_field(std::string_view field, const boost::json::value& value);

// RFC 3339 UTC ("2026-01-02T03:04:05Z", optional fraction, "Z" or "+00:00") -> Unix nanoseconds.
Result<std::int64_t> parse_rfc3339(std::string_view text);
// Unix nanoseconds -> "2026-01-02T03:04:05.678Z" (milliseconds, UTC).
std::string format_rfc3339(std::int64_t unix_nanos);

}  // namespace rmm::api::intents
