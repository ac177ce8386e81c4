// Where a sign-in comes from, and how often each source may try.
//
// The source is the peer's address, or, when the peer is one of the configured trusted proxies,
// the right-most address of X-Forwarded-For that is not itself a trusted proxy (what the proxy
// nearest to rmm-api saw; the entries left of it are the client's word and are not believed).
// IPv6 addresses count by their /64 (one host's whole prefix is one source); an IPv4-mapped IPv6
// address counts as the IPv4 address.
//
// SourceLimiter: a token bucket per source (burst, refill per minute), taken before any work on a
// sign-in and given back when it succeeds, so it bounds the failed attempts of one address over
// every username while many users behind one NAT can still sign in. At most `max_sources` are
// tracked; past that the one idle longest is forgotten (which only ever gives a source a full
// bucket again; the process-wide bucket of AuthRoutes still bounds the total).
//
// Concurrency: SourceLimiter is thread-safe. Limitations: per process, in memory: a restart
// forgets it (the lockout per username and source is in PostgreSQL).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/server/http.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

// Parses a comma-separated list of IP addresses ("" is none); the error names the bad entry.
Result<std::vector<boost::asio::ip::address>> parse_trusted_proxies(std::string_view text);

// The source key of a request from peer address `peer` (RequestContext::remote): "198.51.100.7",
// "2001:db8:1:2::/64"; "unknown" when the peer is not an address.
std::string login_source(std::string_view peer, const Request& req,
                         const std::vector<boost::asio::ip::address>& trusted_proxies);

class SourceLimiter {
 public:
  struct Options {
    double burst = 10;
    double per_minute = 10;
    std::size_t max_sources = 10'000;
  };
  SourceLimiter(const Clock& clock, Options options) : clock_(clock), options_(options) {}

  // Takes one attempt from `source`'s bucket; false when it is empty. `retry_after` is then how
  // long until the next attempt is allowed.
  bool take(const std::string& source, std::chrono::seconds& retry_after);
  // Gives back the attempt of a sign-in that succeeded.
  void give_back(const std::string& source);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void forget_one();

  const Clock& clock_;
  const Options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace rmm::api
