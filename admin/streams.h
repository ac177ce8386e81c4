// Applies JetStream stream definitions (broker-config/streams/*.json, each a JetStream API
// StreamConfig) through the JetStream API: a missing stream is created, a changed one updated,
// an identical one left alone. "Identical" means every field the file sets equals the server's
// value; fields the file omits keep the server's defaults. Byte and age limits come from
// settings (stream_limits.h), never from the files alone.
//
// Concurrency: uses the given connection from the calling thread only.
// Limitations: changes the server refuses (e.g. storage type) are reported as errors, not forced.
#pragma once

#include <nats/nats.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "admin/stream_limits.h"
#include "admin/stream_replicas.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::broker {

enum class StreamAction { kCreated, kUpdated, kUnchanged };
std::string_view to_string(StreamAction action);

struct StreamOutcome {
  std::string name;
  StreamAction action;
};

// One request to the JetStream API; returns the reply object, or an error when the reply holds
// an `error` (its code: kNotFound for 404).
Result<boost::json::object> js_api_request(natsConnection* nc, const std::string& subject,
                                           std::string_view body,
                                           std::chrono::milliseconds timeout);

// Applies every *.json in `dir`, in file-name order, with the limits of `limits` (see
// stream_limits.h) and the replica count of `replicas` (stream_replicas.h). Every limit and
// replica count is decided and checked before the first stream changes.
Result<std::vector<StreamOutcome>> apply_streams(natsConnection* nc,
                                                 const std::filesystem::path& dir,
                                                 std::chrono::milliseconds timeout,
                                                 const LimitSettings& limits,
                                                 const ReplicaSettings& replicas = {});

// nats.c 3.4.1 drops the `sig` field from CONNECT when the nonce signature's first byte is 0
// (1 connect in 256; the server then logs "Signature missing" and refuses). A fresh connect gets
// a fresh nonce, so a connect refused for authentication is retried this many times in all.
inline constexpr int kAuthAttempts = 4;
bool is_auth_failure(natsStatus status);

// Connects to `url` with the `.creds` file `creds` (no reconnect; auth failures retried, see
// kAuthAttempts), over TLS pinned to `tls.ca_file` when set; the caller destroys it.
Result<natsConnection*> connect_with_creds(const std::string& url,
                                           const std::filesystem::path& creds,
                                           const nats::TlsClientOptions& tls = {});

}  // namespace rmm::broker
