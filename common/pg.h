// PostgreSQL connection helper over libpqxx: connect with a bounded retry, errors as values.
//
// libpqxx throws; everything here catches at this edge and returns rmm::Result, so callers on the
// startup path report "pg-url: connection refused after 10 attempts" instead of an exception.
//
// Concurrency: a pqxx::connection is single-threaded; give each thread its own.
// Limitations: the URL may carry a password; it is never logged (only host/port/db are).
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::pg {

struct RetryPolicy {
  int attempts = 10;
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{2000};
};

// Connects to `url` (a libpq URL or key=value string), retrying with doubling delays on
// connection failures. Returns a kTimeout error naming the redacted URL after the last attempt.
Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url,
                                                  const RetryPolicy& policy = {});

// `url` with any password replaced by "***", safe to log.
std::string redact_url(std::string_view url);

}  // namespace rmm::pg
