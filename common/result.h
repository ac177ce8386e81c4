// Errors as values: every fallible call on a hot or untrusted path returns Result<T>.
#pragma once

#include <fmt/format.h>

#include <expected>
#include <string>
#include <utility>

namespace rmm {

// What went wrong, with enough context to act on. `code` lets callers branch on a few well-known
// conditions without parsing the message. kFull: a bounded store (a `discard new` stream) refused
// a write; nothing was stored, and only raising its limit helps.
struct Error {
  enum class Code { kGeneric, kNotFound, kTimeout, kInvalidInput, kNotSupported, kConflict, kFull };
  Code code = Code::kGeneric;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error{Error::Code::kGeneric, std::move(message)});
}

inline std::unexpected<Error> fail(Error::Code code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

template <class... Args>
std::unexpected<Error> failf(fmt::format_string<Args...> format, Args&&... args) {
  return fail(fmt::format(format, std::forward<Args>(args)...));
}

// Prepends context to an error on its way up: "loading config: key 'x' ...".
inline Error with_context(Error e, std::string_view context) {
  e.message = fmt::format("{}: {}", context, e.message);
  return e;
}

}  // namespace rmm
