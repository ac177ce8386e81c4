// URLs and encodings of the OpenID Connect exchange: absolute http(s) URLs split for the HTTP
// client, the rule for which of them may be plain HTTP, form and query encoding, base64url.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace rmm::api::oidc {

struct Url {
  bool https = true;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 443;
  std::string target;  // path and query, at least "/"
};

// An absolute http:// or https:// URL without user info or fragment.
Result<Url> parse_url(std::string_view text);

// 127.0.0.0/8, ::1 or "localhost": the only hosts that may be spoken to over plain HTTP.
bool is_loopback_host(std::string_view host);

// parse_url plus the transport rule: HTTPS always, plain HTTP only to a loopback host (a
// provider on the same machine, as in the tests). `what` names the URL in the error.
Result<Url> parse_provider_url(std::string_view text, std::string_view what);

// application/x-www-form-urlencoded (also a query string): every byte outside the unreserved set
// percent-encoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
std::string percent_encode(std::string_view text);

std::string base64url_encode(std::string_view bytes);
// Unpadded base64url (as in JWS); nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace rmm::api::oidc
