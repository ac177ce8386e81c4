#include "common/pg.h"

#include <algorithm>
#include <pqxx/except>
#include <thread>

#include "common/log.h"

namespace rmm::pg {

std::string redact_url(std::string_view url) {
  // postgresql://user:password@host/... -> postgresql://user:***@host/...
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    auto auth_start = scheme + 3;
    auto at = url.find('@', auth_start);
    auto slash = url.find('/', auth_start);
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
      auto colon = url.find(':', auth_start);
      if (colon != std::string_view::npos && colon < at) {
        return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
      }
    }
    return std::string(url);
  }
  // key=value form: blank out the password value.
  auto pw = url.find("password=");
  if (pw == std::string_view::npos) return std::string(url);
  auto end = url.find(' ', pw);
  std::string out(url.substr(0, pw + 9));
  out += "***";
  if (end != std::string_view::npos) out += url.substr(end);
  return out;
}

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url,
                                                  const RetryPolicy& policy) {
  auto delay = policy.first_delay;
  std::string last_error;
  const int attempts = std::max(1, policy.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const pqxx::broken_connection& e) {
      last_error = e.what();
    } catch (const std::exception& e) {
      // A malformed URL or a rejected login will not get better by retrying.
      return fail(Error::Code::kInvalidInput,
                  fmt::format("connecting to {}: {}", redact_url(url), e.what()));
    }
    if (attempt == attempts) break;
    log::debug("pg.connect.retry", {{"attempt", attempt}, {"delay_ms", delay.count()}});
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, policy.max_delay);
  }
  while (!last_error.empty() && (last_error.back() == '\n' || last_error.back() == ' ')) {
    last_error.pop_back();
  }
  return fail(Error::Code::kTimeout, fmt::format("connecting to {}: {} (after {} attempts)",
                                                 redact_url(url), last_error, attempts));
}

}  // namespace rmm::pg
