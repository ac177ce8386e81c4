// A raw nats.c client for the broker tests: connects with a .creds file (and optionally an inbox
// prefix), records asynchronous errors such as permission violations.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rmm::test {

class TestClient {
 public:
  // nullptr and `*status` set when the connect fails. Empty `creds`: connect with no credentials.
  static std::unique_ptr<TestClient> connect(const std::string& url,
                                             const std::filesystem::path& creds,
                                             const std::string& inbox_prefix, natsStatus* status);
  ~TestClient();

  natsConnection* nc() const { return nc_; }
  // Waits until at least `n` async errors have arrived (bounded).
  bool wait_for_errors(std::size_t n, std::chrono::milliseconds timeout);
  std::vector<std::string> errors() const;

 private:
  static void on_error(natsConnection* nc, natsSubscription*, natsStatus s, void* closure);
  static void on_closed(natsConnection*, void* closure);

  natsConnection* nc_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> errors_;
  bool closed_ = false;
};

}  // namespace rmm::test
