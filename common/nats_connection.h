// A NATS connection (RAII over natsConnection*), authenticated by a .creds file, over TLS with a
// pinned CA when `tls_ca_file` is set (common/nats_tls.h; plaintext only to loopback URLs).
//
// Concurrency: publish/request/flush are safe from any thread (nats.c locks internally). The
// callbacks in ConnectOptions run on nats.c's own threads: they must only record or hand off.
// Limitations: one server URL list and one expected certificate name for all of it.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "common/nats_message.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::nats {

// Connect attempts when the server refuses authentication (see the nats.c bug in connect()).
inline constexpr int kAuthAttempts = 4;

struct ConnectOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string creds_file;    // JWT + seed; empty means no credentials (refused by our servers)
  std::string name;          // shown in the server's monitoring
  std::string inbox_prefix;  // agents: "_INBOX.<agent id>", the only inbox they may subscribe to
  // The CA to pin (`nats-ca`): non-empty means TLS required, verified against this CA only.
  // Empty: plaintext, refused for a non-loopback URL before any connection attempt.
  std::string tls_ca_file;
  std::string tls_server_name;  // `nats-tls-name`: the certificate's name; empty: the URL's host
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds reconnect_wait{250};
  int max_reconnect = -1;                // -1: forever
  bool retry_on_failed_connect = false;  // true: connect() succeeds and keeps trying in background
  std::function<void()> on_disconnected;
  std::function<void()> on_reconnected;  // also called on a first connect made in the background
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> connect(ConnectOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const;
  // Closed for good: nats.c gave up (a background connect or a reconnect refused twice as
  // unauthorized). Owners should rebuild the connection or exit for their supervisor to restart.
  bool closed() const;
  Status publish(const std::string& subject, std::span<const std::uint8_t> data);
  Result<Message> request(const std::string& subject, std::span<const std::uint8_t> data,
                          std::chrono::milliseconds timeout);
  Status flush(std::chrono::milliseconds timeout);
  // The last asynchronous error the server reported (permission violations arrive this way, not
  // as a failed publish). Empty when none.
  std::string last_async_error() const;
  std::uint64_t async_error_count() const { return async_errors_.load(); }

  natsConnection* raw() const { return conn_; }

 private:
  Connection() = default;
  static void on_error(natsConnection*, natsSubscription*, natsStatus, void* closure);
  static void on_disconnected(natsConnection*, void* closure);
  static void on_reconnected(natsConnection*, void* closure);
  static void on_closed(natsConnection*, void* closure);
  static void on_connected(natsConnection*, void* closure);

  ConnectOptions options_;
  natsConnection* conn_ = nullptr;
  mutable std::mutex mutex_;
  std::string last_async_error_;
  std::atomic<std::uint64_t> async_errors_{0};
  // Set by the closed callback: the destructor waits for it so no callback outlives this object.
  bool closed_ = false;
  std::condition_variable closed_cv_;
};

}  // namespace rmm::nats
