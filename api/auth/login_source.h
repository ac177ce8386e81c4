// Where a sign-in comes from, and how often each source may try.
//
// The source is the peer's address, or, when the peer is one of the configured trusted proxies,
// the right-most address of X-Forwarded-For that is not itself a trusted proxy (what the proxy
// nearest to rmm-api saw; the entries left of it are the client's word and are not believed).
// IPv6 addresses count by their /64 (one host's whole prefix is one source); an IPv4-mapped IPv6
// address counts as the IPv4 address.
//
// How often one source may try: source_limiter.h.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/server/http.h"
#include "common/result.h"

namespace rmm::api {

// Parses a comma-separated list of IP addresses ("" is none); the error names the bad entry.
Result<std::vector<boost::asio::ip::address>> parse_trusted_proxies(std::string_view text);

// The source key of a request from peer address `peer` (RequestContext::remote): "198.51.100.7",
// "2001:db8:1:2::/64"; "unknown" when the peer is not an address.
std::string login_source(std::string_view peer, const Request& req,
                         const std::vector<boost::asio::ip::address>& trusted_proxies);

}  // namespace rmm::api
