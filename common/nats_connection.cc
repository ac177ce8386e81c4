#include "common/nats_connection.h"

#include "common/log.h"
#include "common/nats_urls.h"

namespace rmm::nats {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

}  // namespace

Result<std::unique_ptr<Connection>> Connection::connect(ConnectOptions options) {
  std::unique_ptr<Connection> c(new Connection());
  c->options_ = std::move(options);
  const ConnectOptions& o = c->options_;

  natsOptions* raw_opts = nullptr;
  if (natsStatus s = natsOptions_Create(&raw_opts); s != NATS_OK) {
    return std::unexpected(to_error(s, "creating NATS options"));
  }
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw_opts);
  auto check = [](natsStatus s, std::string_view what) -> Status {
    if (s != NATS_OK) return std::unexpected(to_error(s, what));
    return {};
  };
  const TlsClientOptions tls{.ca_file = o.tls_ca_file, .server_name = o.tls_server_name};
  Status st = configure_tls(opts.get(), o.url, tls);
  if (st) st = set_server_urls(opts.get(), o.url);
  if (st && !o.creds_file.empty()) {
    st = check(natsOptions_SetUserCredentialsFromFiles(opts.get(), o.creds_file.c_str(), nullptr),
               "loading NATS credentials " + o.creds_file);
  }
  if (st && !o.name.empty()) st = check(natsOptions_SetName(opts.get(), o.name.c_str()), "name");
  if (st && !o.inbox_prefix.empty()) {
    st =
        check(natsOptions_SetCustomInboxPrefix(opts.get(), o.inbox_prefix.c_str()), "inbox prefix");
  }
  if (st) st = check(natsOptions_SetTimeout(opts.get(), o.timeout.count()), "timeout");
  if (st) st = check(natsOptions_SetMaxReconnect(opts.get(), o.max_reconnect), "max reconnect");
  if (st)
    st =
        check(natsOptions_SetReconnectWait(opts.get(), o.reconnect_wait.count()), "reconnect wait");
  if (st)
    st = check(natsOptions_SetErrorHandler(opts.get(), &Connection::on_error, c.get()),
               "error handler");
  if (st) {
    st = check(natsOptions_SetDisconnectedCB(opts.get(), &Connection::on_disconnected, c.get()),
               "disconnected handler");
  }
  if (st) {
    st = check(natsOptions_SetReconnectedCB(opts.get(), &Connection::on_reconnected, c.get()),
               "reconnected handler");
  }
  if (st)
    st = check(natsOptions_SetClosedCB(opts.get(), &Connection::on_closed, c.get()),
               "closed handler");
  if (!st) return std::unexpected(st.error());

  // nats.c 3.4.1 drops the nonce signature from CONNECT when its first byte is 0, so about one
  // connect in 256 is refused as unauthorized. The server draws a fresh nonce per connect: retry.
  // The first attempts are synchronous even in retry mode: a refusal in nats.c's background
  // connect closes the connection for good (see closed()).
  natsStatus s = NATS_OK;
  for (int attempt = 1; attempt <= kAuthAttempts; ++attempt) {
    s = natsConnection_Connect(&c->conn_, opts.get());
    if (s != NATS_CONNECTION_AUTH_FAILED && s != NATS_NOT_PERMITTED) break;
  }
  // A TLS mismatch is a configuration error, not a server still starting: no background retry.
  const bool tls_refused = s == NATS_SSL_ERROR || s == NATS_SECURE_CONNECTION_WANTED;
  if (s != NATS_OK && s != NATS_CONNECTION_AUTH_FAILED && s != NATS_NOT_PERMITTED && !tls_refused &&
      o.retry_on_failed_connect) {
    // The server is not there yet. With a connected callback, connect returns at once and keeps
    // trying in the background (without one, nats.c would retry inside natsConnection_Connect).
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, &Connection::on_connected, c.get());
    if (s == NATS_OK) s = natsConnection_Connect(&c->conn_, opts.get());
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
  }
  if (s != NATS_OK) {
    const char* detail = nats_GetLastError(nullptr);
    c->closed_ = true;  // nothing to wait for: no connection, no callbacks
    Error e{Error::Code::kGeneric,
            describe_connect_failure(s, detail == nullptr ? "" : detail, o.url, tls)};
    if (s == NATS_TIMEOUT) e.code = Error::Code::kTimeout;
    return std::unexpected(std::move(e));
  }
  return c;
}

Connection::~Connection() {
  if (conn_ == nullptr) return;
  natsConnection_Close(conn_);
  {
    // Callbacks run on nats.c's thread in order; once "closed" has run, none is left to run.
    std::unique_lock lock(mutex_);
    closed_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; });
  }
  natsConnection_Destroy(conn_);
}

bool Connection::closed() const {
  return conn_ == nullptr || natsConnection_IsClosed(conn_);
}

bool Connection::connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

Status Connection::publish(const std::string& subject, std::span<const std::uint8_t> data) {
  natsStatus s =
      natsConnection_Publish(conn_, subject.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return std::unexpected(to_error(s, "publish to " + subject));
  return {};
}

Result<Message> Connection::request(const std::string& subject, std::span<const std::uint8_t> data,
                                    std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, conn_, subject.c_str(), data.data(),
                                        static_cast<int>(data.size()), timeout.count());
  if (s != NATS_OK) return std::unexpected(to_error(s, "request to " + subject));
  return Message(reply);
}

Status Connection::flush(std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_FlushTimeout(conn_, timeout.count());
  if (s != NATS_OK) return std::unexpected(to_error(s, "flush"));
  return {};
}

std::string Connection::last_async_error() const {
  std::lock_guard lock(mutex_);
  return last_async_error_;
}

void Connection::on_error(natsConnection* nc, natsSubscription*, natsStatus status, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  const char* text = nullptr;
  natsConnection_GetLastError(nc, &text);
  std::string message = text != nullptr && *text != '\0' ? text : natsStatus_GetText(status);
  {
    std::lock_guard lock(self->mutex_);
    self->last_async_error_ = message;
  }
  self->async_errors_++;
  log::warn("nats.async_error", {{"status", natsStatus_GetText(status)}, {"detail", message}});
}

void Connection::on_disconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  log::warn("nats.disconnected", {{"url", self->options_.url}});
  if (self->options_.on_disconnected) self->options_.on_disconnected();
}

void Connection::on_reconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  log::info("nats.reconnected", {{"url", self->options_.url}});
  if (self->options_.on_reconnected) self->options_.on_reconnected();
}

void Connection::on_connected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  log::info("nats.connected", {{"url", self->options_.url}});
  if (self->options_.on_reconnected) self->options_.on_reconnected();
}

void Connection::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  std::lock_guard lock(self->mutex_);
  self->closed_ = true;
  self->closed_cv_.notify_all();
}

}  // namespace rmm::nats
