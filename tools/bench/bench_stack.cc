// rmm-bench-stack: a throwaway nats-server (identity, config and streams as in production) and
// PostgreSQL 15 cluster on free 127.0.0.1 ports, from the test fixtures, for the benchmarks.
// Prints shell assignments (RMM_BENCH_NATS_URL, RMM_BENCH_NATS_CREDS, RMM_BENCH_PG_URL) on
// stdout, then runs until SIGINT/SIGTERM or until stdin closes, and removes everything.
//
//   build/bin/rmm-bench-stack > /tmp/stack.env & sleep 10; . /tmp/stack.env
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop.store(true);
}

}  // namespace

int main() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    rmm::test::PostgresFixture pg;
    auto pg_url = pg.create_database("bench");
    rmm::test::NatsServerFixture nats;
    std::printf("RMM_BENCH_NATS_URL='%s'\nRMM_BENCH_NATS_CREDS='%s'\nRMM_BENCH_PG_URL='%s'\n",
                nats.url().c_str(), nats.services_creds().c_str(), pg_url.c_str());
    std::fflush(stdout);
    while (!g_stop.load()) {
      pollfd p{.fd = 0, .events = POLLIN, .revents = 0};
      int n = poll(&p, 1, 200);
      if (n > 0 && (p.revents & (POLLHUP | POLLERR)) != 0) break;
      if (n > 0 && (p.revents & POLLIN) != 0) {
        char buf[256];
        if (read(0, buf, sizeof buf) <= 0) break;  // EOF
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-stack: %s\n", e.what());
    return 1;
  }
  return 0;
}
