#include "api/nats/nats_link.h"

#include "common/log.h"

namespace rmm::api {
namespace {

constexpr int kAuthAttempts = 5;

std::string nats_error(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return fmt::format("{} ({})", natsStatus_GetText(s), last != nullptr ? last : "");
}

void on_disconnected(natsConnection*, void*) {
  log::warn("nats.disconnected");
}
void on_reconnected(natsConnection*, void*) {
  log::info("nats.reconnected");
}
void on_connected(natsConnection*, void*) {
  log::info("nats.connected");
}

}  // namespace

Result<std::unique_ptr<NatsLink>> NatsLink::connect(const std::string& url,
                                                    const std::string& creds) {
  std::unique_ptr<NatsLink> link(new NatsLink());
  natsStatus s = natsOptions_Create(&link->opts_);
  if (s == NATS_OK) s = natsOptions_SetURL(link->opts_, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(link->opts_, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(link->opts_, 1000);
  if (s == NATS_OK) {
    s = natsOptions_SetRetryOnFailedConnect(link->opts_, true, on_connected, nullptr);
  }
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(link->opts_, on_disconnected, nullptr);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(link->opts_, on_reconnected, nullptr);
  if (s == NATS_OK && !creds.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(link->opts_, creds.c_str(), nullptr);
  }
  if (s != NATS_OK) return failf("nats options: {}", nats_error(s));
  // nats.c 3.4.1 sends a bad nonce signature when its first byte is 0 (about one connect in 256),
  // and the server refuses it; each connect gets a fresh nonce, so a few attempts suffice.
  for (int attempt = 1; attempt <= kAuthAttempts; ++attempt) {
    s = natsConnection_Connect(&link->conn_, link->opts_);
    if (s != NATS_CONNECTION_AUTH_FAILED && s != NATS_NOT_PERMITTED) break;
    natsConnection_Destroy(link->conn_);
    link->conn_ = nullptr;
  }
  if (s == NATS_OK) {
    log::info("nats.connected");
  } else if (s == NATS_NOT_YET_CONNECTED) {
    log::warn("nats.not_yet_connected", {{"detail", "retrying in the background"}});
  } else {
    return failf("nats connect: {}", nats_error(s));
  }
  return link;
}

NatsLink::~NatsLink() {
  if (conn_ != nullptr) natsConnection_Destroy(conn_);
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

bool NatsLink::connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace rmm::api
