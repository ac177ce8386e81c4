#include "tools/bench/http_load.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <vector>

namespace rmm::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxBody = 64u << 20;

double to_ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One run's shared state; every coroutine runs on the one thread of its io_context.
struct Run {
  const LoadSpec& spec;
  http::request<http::empty_body> request;
  Clock::time_point t0;
  Clock::duration period;
  std::size_t next = 0;            // the next request to send
  std::vector<double> latency_ms;  // by request index
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::uint64_t bytes = 0;
  Clock::time_point last_answer;
};

// One keep-alive connection: takes the next due request, waits for its time, sends it, reads
// the answer, until every request was taken. Reconnects after an error.
net::awaitable<void> client(Run& run) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  beast::tcp_stream stream(executor);
  beast::flat_buffer buffer;
  const net::ip::tcp::endpoint server(net::ip::make_address("127.0.0.1"),
                                      static_cast<unsigned short>(run.spec.port));
  bool connected = false;
  auto close = [&] {
    beast::error_code ignored;
    stream.socket().close(ignored);
    buffer.clear();
    connected = false;
  };
  while (run.next < run.latency_ms.size()) {
    const std::size_t i = run.next++;
    const auto due = run.t0 + i * run.period;
    if (Clock::now() < due) {
      timer.expires_at(due);
      co_await timer.async_wait(net::use_awaitable);
    }
    bool good = false;
    if (Clock::now() - due < run.spec.give_up) {
      try {
        stream.expires_at(due + run.spec.give_up);
        if (!connected) {
          co_await stream.async_connect(server, net::use_awaitable);
          connected = true;
        }
        co_await http::async_write(stream, run.request, net::use_awaitable);
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxBody);
        co_await http::async_read(stream, buffer, parser, net::use_awaitable);
        const auto& res = parser.get();
        good = res.result() == http::status::ok;
        run.bytes += res.body().size();
        if (!res.keep_alive()) close();
      } catch (const std::exception&) {
        close();
      }
    }
    const auto now = Clock::now();
    run.latency_ms[i] = good ? to_ms(now - due) : to_ms(run.spec.give_up);
    ++(good ? run.ok : run.failed);
    run.last_answer = std::max(run.last_answer, now);
  }
  close();
}

}  // namespace

LoadResult run_load(const LoadSpec& spec) {
  net::io_context ioc(1);
  Run run{.spec = spec,
          .request = {http::verb::get, spec.target, 11},
          .t0 = {},
          .period = std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(1.0 / std::max(spec.rate, 0.001))),
          .latency_ms = {},
          .last_answer = {}};
  run.request.set(http::field::host, "127.0.0.1");
  if (!spec.authorization.empty()) run.request.set(http::field::authorization, spec.authorization);
  run.request.keep_alive(true);
  const auto total = static_cast<std::size_t>(
      std::llround(spec.rate * std::chrono::duration<double>(spec.duration).count()));
  run.latency_ms.assign(std::max<std::size_t>(total, 1), 0);
  // A moment for the connections to open before the first request is due.
  run.t0 = Clock::now() + std::chrono::milliseconds(100);
  run.last_answer = run.t0;
  for (int c = 0; c < std::max(spec.connections, 1); ++c) {
    net::co_spawn(ioc, client(run), net::detached);
  }
  ioc.run();

  LoadResult out;
  out.requests = run.latency_ms.size();
  out.ok = run.ok;
  out.failed = run.failed;
  out.body_bytes = run.bytes;
  out.seconds = std::chrono::duration<double>(run.last_answer - run.t0).count();
  auto& ms = run.latency_ms;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  out.p50_ms = at(0.50);
  out.p99_ms = at(0.99);
  out.max_ms = ms.back();
  return out;
}

}  // namespace rmm::bench
