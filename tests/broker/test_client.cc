#include "tests/broker/test_client.h"

#include <fmt/format.h>

#include "admin/streams.h"

namespace rmm::test {

std::unique_ptr<TestClient> TestClient::connect(const std::string& url,
                                                const std::filesystem::path& creds,
                                                const std::string& inbox_prefix,
                                                natsStatus* status) {
  auto client = std::unique_ptr<TestClient>(new TestClient());
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 3000);
  if (s == NATS_OK && !creds.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts, creds.c_str(), nullptr);
  }
  if (s == NATS_OK && !inbox_prefix.empty()) {
    s = natsOptions_SetCustomInboxPrefix(opts, inbox_prefix.c_str());
  }
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, &TestClient::on_error, client.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, &TestClient::on_closed, client.get());
  // Retried past nats.c's 1-in-256 unsigned CONNECT (see admin/streams.h).
  if (s == NATS_OK) {
    int attempts = creds.empty() ? 1 : broker::kAuthAttempts;
    for (int i = 0; i < attempts; ++i) {
      s = natsConnection_Connect(&client->nc_, opts);
      if (!broker::is_auth_failure(s)) break;
    }
  }
  natsOptions_Destroy(opts);
  if (status != nullptr) *status = s;
  if (s != NATS_OK) return nullptr;
  return client;
}

TestClient::~TestClient() {
  if (nc_ == nullptr) return;
  natsConnection_Close(nc_);
  {
    // No callback may run on a destroyed object: wait for the closed callback (bounded).
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; });
  }
  natsConnection_Destroy(nc_);
}

bool TestClient::wait_for_errors(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return errors_.size() >= n; });
}

std::vector<std::string> TestClient::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void TestClient::on_error(natsConnection* nc, natsSubscription*, natsStatus s, void* closure) {
  auto* self = static_cast<TestClient*>(closure);
  const char* text = nullptr;
  natsConnection_GetLastError(nc, &text);
  std::string entry = fmt::format("{}: {}", natsStatus_GetText(s), text != nullptr ? text : "");
  std::lock_guard lock(self->mutex_);
  self->errors_.push_back(std::move(entry));
  self->cv_.notify_all();
}

void TestClient::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<TestClient*>(closure);
  std::lock_guard lock(self->mutex_);
  self->closed_ = true;
  self->cv_.notify_all();
}

}  // namespace rmm::test
