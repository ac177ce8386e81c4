// rmm-bench-stack: a throwaway nats-server (identity, config and streams as in production) and
// PostgreSQL 15 cluster on free 127.0.0.1 ports, from the test fixtures, for the benchmarks.
// Prints shell assignments (RMM_BENCH_NATS_URL, RMM_BENCH_NATS_CREDS, RMM_BENCH_PG_URL) on
// stdout, then runs until SIGINT/SIGTERM or until stdin closes, and removes everything.
//
//   build/bin/rmm-bench-stack [--cluster N] > /tmp/stack.env & sleep 10; . /tmp/stack.env
//
// --cluster N: N nats-servers as one cluster (routes over TLS on loopback), the product's streams
// with N replicas; RMM_BENCH_NATS_URL then names every node.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop.store(true);
}

}  // namespace

int main(int argc, char** argv) {
  int cluster = 0;
  if (argc == 3 && std::string_view(argv[1]) == "--cluster") cluster = std::atoi(argv[2]);
  if ((argc != 1 && cluster == 0) || cluster < 0 || cluster > 5) {
    std::fprintf(stderr, "usage: rmm-bench-stack [--cluster N]\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    rmm::test::PostgresFixture pg;
    auto pg_url = pg.create_database("bench");
    rmm::test::NatsCluster nodes;
    if (cluster > 0) {
      nodes = rmm::test::NatsServerFixture::start_cluster(cluster, {.replicas = cluster});
    } else {
      nodes.push_back(std::make_unique<rmm::test::NatsServerFixture>());
    }
    const std::string url =
        cluster > 0 ? rmm::test::NatsServerFixture::cluster_url(nodes) : nodes.front()->url();
    std::printf("RMM_BENCH_NATS_URL='%s'\nRMM_BENCH_NATS_CREDS='%s'\nRMM_BENCH_PG_URL='%s'\n",
                url.c_str(), nodes.front()->services_creds().c_str(), pg_url.c_str());
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
