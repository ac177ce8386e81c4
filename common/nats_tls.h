// TLS for NATS clients: the CA a client pins, the name it checks, and the rule that nothing
// leaves the machine unencrypted (plaintext only to a loopback URL).
//
// Concurrency: configure_tls() briefly changes SSL_CERT_FILE and SSL_CERT_DIR in the process
// environment (see nats_tls.cc for why); calls are serialized by a lock, and another thread of the
// process creating an OpenSSL context at that very moment would see the pinned CA as its
// default store. Everything else is pure.
// Limitations: one expected name for the whole URL list (nats.c checks one name per connection).
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::nats {

struct TlsClientOptions {
  // PEM file of the CA to trust (the `nats-ca` setting). Non-empty: TLS is required and the
  // server's chain must lead to this CA alone, never to the system store. Empty: plaintext, and
  // only to loopback URLs.
  std::string ca_file;
  // The name the server's certificate must carry (`nats-tls-name`); empty: the URLs' host.
  std::string server_name;
};

// The host of each URL in a comma-separated NATS URL list ("nats://u:p@host:4222, tls://[::1]").
Result<std::vector<std::string>> url_hosts(std::string_view urls);

// localhost, 127.0.0.0/8 or ::1.
bool is_loopback_host(std::string_view host);

// Applies `tls` to `opts` for a connection to `urls`: with a CA, TLS required, that CA pinned, the
// name checked; without one, nothing, unless a URL is not loopback: then an error, before any
// connection is attempted.
Status configure_tls(natsOptions* opts, std::string_view urls, const TlsClientOptions& tls);

// The message for a failed connect: nats.c's status and detail, with the TLS cause named
// (plaintext server, certificate not from the pinned CA, wrong name, TLS server without nats-ca).
std::string describe_connect_failure(natsStatus status, std::string_view detail,
                                     std::string_view urls, const TlsClientOptions& tls);

}  // namespace rmm::nats
