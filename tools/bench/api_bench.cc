// rmm-bench-api: the agents list at scale. A throwaway PostgreSQL 15 and nats-server (test
// fixtures), 10,000 agents over 20 clients x 5 sites with latest metrics and alerts, rmm-api
// in-process; then pages of 100 through HTTP for an owner and for a user scoped to one client,
// sorted by hostname / -cpu / -last_seen, first pages and deep pages (cursors). Prints p50/p99 per
// scenario as Markdown rows for docs/benchmarks.md.
//
//   build/bin/rmm-bench-api [--agents 10000] [--requests 300]
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tests/fixtures/http_client.h"
#include "tools/bench/api_bench_setup.h"

namespace {

using rmm::test::http_request;

struct Stats {
  double p50_ms, p99_ms, max_ms;
  std::size_t items;
};

// `requests` GETs of `target` (with `deep`, each one follows the previous page's cursor, wrapping
// to the first page at the end).
Stats measure(int port, const std::string& token, const std::string& target, int requests,
              bool deep) {
  std::vector<double> ms;
  std::string cursor;
  std::size_t items = 0;
  const std::map<std::string, std::string> headers{{"authorization", "Bearer " + token}};
  for (int i = 0; i < requests; ++i) {
    std::string t = target + (cursor.empty() ? "" : "&cursor=" + cursor);
    auto start = std::chrono::steady_clock::now();
    auto res = http_request(port, "GET", t, {}, headers);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (res.status != 200) throw std::runtime_error("GET " + t + ": " + res.body);
    auto body = boost::json::parse(res.body).as_object();
    items = body.at("items").as_array().size();
    cursor = deep && !body.at("next_cursor").is_null()
                 ? std::string(body.at("next_cursor").as_string())
                 : std::string();
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  return Stats{at(0.5), at(0.99), ms.back(), items};
}

}  // namespace

int main(int argc, char** argv) {
  int agents = 10'000;
  int requests = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--agents") == 0) agents = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
  }
  try {
    rmm::bench::ApiBenchStack stack(agents, [](rmm::api::ApiConfig& c) { c.pg_pool_size = 4; });
    const int port = stack.port();
    const std::string owner = stack.login("owner");
    const std::string tech = stack.login("tech");

    struct Scenario {
      const char* name;
      const std::string* token;
      std::string target;
      bool deep;
    };
    const std::vector<Scenario> scenarios = {
        {"owner, sort=hostname, first page", &owner, "/api/v1/agents?limit=100", false},
        {"owner, sort=hostname, paging through", &owner, "/api/v1/agents?limit=100", true},
        {"owner, sort=-cpu, first page", &owner, "/api/v1/agents?limit=100&sort=-cpu", false},
        {"owner, sort=-cpu, paging through", &owner, "/api/v1/agents?limit=100&sort=-cpu", true},
        {"owner, sort=-last_seen, status=online", &owner,
         "/api/v1/agents?limit=100&sort=-last_seen&status=online", false},
        {"owner, q=host-ab (text search)", &owner, "/api/v1/agents?limit=100&q=host-ab", false},
        {"client-scoped user (500 agents), first page", &tech, "/api/v1/agents?limit=100", false},
    };
    for (const auto& s : scenarios) measure(port, *s.token, s.target, 20, s.deep);  // warm up
    std::printf("| scenario (%d agents, page of 100, %d requests) | p50 ms | p99 ms | max ms |\n",
                agents, requests);
    std::printf("|---|---|---|---|\n");
    for (const auto& s : scenarios) {
      auto st = measure(port, *s.token, s.target, requests, s.deep);
      std::printf("| %s | %.2f | %.2f | %.2f |\n", s.name, st.p50_ms, st.p99_ms, st.max_ms);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-api: %s\n", e.what());
    return 1;
  }
  return 0;
}
