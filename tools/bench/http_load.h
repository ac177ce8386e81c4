// An open-loop HTTP load generator for the API benchmarks: GETs of one target at a fixed rate,
// over a bounded set of keep-alive connections, each request timed from when it was due (not
// from when a connection was free to send it), so a server that falls behind is charged for the
// queue it causes instead of slowing the generator down (no coordinated omission).
//
// Concurrency: run_load() runs its own io_context on the calling thread and returns when every
// request was answered or given up.
// Limitations: HTTP/1.1 on 127.0.0.1 only; one target per run; the generator shares the machine
// with the server it measures (its CPU is part of every figure, alike for every target).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rmm::bench {

struct LoadSpec {
  int port = 0;
  std::string target;         // "/api/v1/agents?limit=100"
  std::string authorization;  // the Authorization header's value; empty: none
  double rate = 100;          // requests per second
  std::chrono::milliseconds duration{3000};
  int connections = 64;  // at most this many requests in flight
  // A request not answered this long after it was due is a failure.
  std::chrono::milliseconds give_up{5000};
};

struct LoadResult {
  std::size_t requests = 0;  // scheduled: rate x duration
  std::size_t ok = 0;        // answered 200
  std::size_t failed = 0;    // other statuses, I/O errors, given up
  double p50_ms = 0;         // latency from due to the whole answer read, of every request
  double p99_ms = 0;         // (a failed one counts as the give-up time)
  double max_ms = 0;
  double seconds = 0;  // from the first due time to the last answer
  std::uint64_t body_bytes = 0;
};

LoadResult run_load(const LoadSpec& spec);

}  // namespace rmm::bench
