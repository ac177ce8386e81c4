// A blocking HTTP/1.1 client for rmm-api's calls to an OpenID Connect provider (discovery, JWKS,
// token endpoint): Boost.Beast, over OpenSSL for https:// with the peer's certificate verified
// against the system trust store (plus an optional CA file) and its name checked against the
// host. Plain http:// only to a loopback host (parse_provider_url). One connection per request,
// no redirects, no proxies.
//
// Concurrency: thread-safe (each call has its own io_context and TLS context).
// Limitations: the whole exchange (resolve, connect, TLS, request, response) must finish within
// `timeout`; bodies above `max_body` are an error.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "api/auth/oidc/oidc_url.h"
#include "common/result.h"

namespace rmm::api::oidc {

struct FetchOptions {
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_body = 1 << 20;
  std::string ca_file;  // extra trusted CAs (PEM); empty: the system store only
};

struct FetchResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct FetchRequest {
  std::string method = "GET";
  Url url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// kTimeout when the deadline passed; other errors say which step failed (never the body).
Result<FetchResponse> http_fetch(const FetchRequest& request, const FetchOptions& options);

}  // namespace rmm::api::oidc
