// rmm-bench-api-rate: rmm-api's throughput (issue 13 §4.6). For each target, the highest request
// rate at which rmm-api answers every request with 200 and the p99 latency stays under 100 ms,
// found by an open-loop load (tools/bench/http_load.h) at a fixed rate per step: doubling from
// --start until a step fails, then bisecting between the best pass and the first failure.
//
// Targets: a static file of the dashboard (its index.html), the ceiling: the same server,
// connections, worker pool and access log, with neither session lookup nor SQL; then, signed in
// as an owner who sees all N agents, /api/v1/auth/me (the session lookup and no other query:
// the floor of every signed-in request) and the agents list with a page of 100 (the API's
// default) and of 500 (the dashboard's page). A rate fails when two runs in a row miss.
// Prints a Markdown table with each rate's ratio to the static file's; every step on stderr.
//
//   build/bin/rmm-bench-api-rate [--agents 2000] [--seconds 3] [--bisect 4] [--connections 64]
//                                [--start 100] [--quick] [--only PATH --fixed RATE]
// --quick: the static file and the page of 100 only, 1 s steps, one bisection (CI smoke run).
// --only PATH --fixed RATE: one step of --seconds at that rate on that target, no search (to
// profile the server under a steady load).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/fixtures/temp_dir.h"
#include "tools/bench/api_bench_setup.h"
#include "tools/bench/http_load.h"

namespace {

namespace fs = std::filesystem;
using rmm::bench::LoadResult;
using rmm::bench::LoadSpec;

constexpr double kP99LimitMs = 100;
constexpr int kMaxDoublings = 12;

struct Step {
  double rate = 0;
  LoadResult result;
  bool pass = false;
};

struct Found {
  std::optional<Step> best;        // the highest passing rate
  std::optional<Step> first_fail;  // the lowest failing rate above it
};

Step run_step(LoadSpec spec, double rate, const char* name) {
  spec.rate = rate;
  Step s{rate, rmm::bench::run_load(spec), false};
  s.pass = s.result.failed == 0 && s.result.p99_ms < kP99LimitMs;
  std::fprintf(stderr, "%-28s %7.0f req/s: %s  ok %zu failed %zu  p50 %.1f p99 %.1f max %.1f ms\n",
               name, rate, s.pass ? "pass" : "FAIL", s.result.ok, s.result.failed, s.result.p50_ms,
               s.result.p99_ms, s.result.max_ms);
  return s;
}

// A rate fails when two runs in a row miss: on a machine shared with other work one stall of a
// few hundred milliseconds is enough to put a single run's p99 over the limit.
Step step(const LoadSpec& spec, double rate, const char* name) {
  Step s = run_step(spec, rate, name);
  return s.pass ? s : run_step(spec, rate, name);
}

Found search(const LoadSpec& spec, double start, int bisect, const char* name) {
  Found f;
  double rate = start;
  for (int i = 0; i < kMaxDoublings; ++i) {
    Step s = step(spec, rate, name);
    if (s.pass) {
      f.best = s;
      if (f.first_fail) break;  // found going down
      rate *= 2;
    } else {
      f.first_fail = s;
      if (f.best) break;  // found going up
      rate /= 2;
    }
  }
  for (int i = 0; i < bisect && f.best && f.first_fail; ++i) {
    Step s = step(spec, std::round(std::sqrt(f.best->rate * f.first_fail->rate)), name);
    (s.pass ? f.best : f.first_fail) = s;
  }
  return f;
}

std::string rate_cell(const std::optional<Step>& s) {
  if (!s) return "none";
  return fmt::format("{:.0f} req/s", s->rate);
}

}  // namespace

int main(int argc, char** argv) {
  int agents = 2000;
  double seconds = 3;
  int bisect = 4;
  int connections = 64;
  double start = 100;
  bool quick = false;
  std::string only;
  double fixed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") {
      quick = true;
      seconds = 1;
      bisect = 1;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "rmm-bench-api-rate: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--agents") {
      agents = std::atoi(v);
    } else if (a == "--seconds") {
      seconds = std::atof(v);
    } else if (a == "--bisect") {
      bisect = std::atoi(v);
    } else if (a == "--connections") {
      connections = std::atoi(v);
    } else if (a == "--start") {
      start = std::atof(v);
    } else if (a == "--only") {
      only = v;
    } else if (a == "--fixed") {
      fixed = std::atof(v);
    } else {
      std::fprintf(stderr, "rmm-bench-api-rate: unknown argument '%s'\n", argv[i - 1]);
      return 2;
    }
  }
  try {
    // The dashboard's page, in a web dir of its own (the same bytes whether or not api/web/dist
    // was built).
    rmm::test::TempDir web;
    const fs::path page = fs::path(RMM_SOURCE_DIR) / "api/web/src/index.html";
    fs::copy_file(page, web.path() / "index.html");
    const auto page_bytes = fs::file_size(page);
    rmm::bench::ApiBenchStack stack(
        agents, [&](rmm::api::ApiConfig& c) { c.web_dir = web.path().string(); });
    const std::string auth = "Bearer " + stack.login("owner");

    struct Target {
      std::string name;
      std::string path;
      bool signed_in;
    };
    std::vector<Target> targets = {
        {fmt::format("static file: the dashboard's index.html ({} bytes)", page_bytes),
         "/index.html", false},
        {"/api/v1/auth/me (the session lookup, and no other query)", "/api/v1/auth/me", true},
        {"agents list, page of 100 (`?limit=100`)", "/api/v1/agents?limit=100", true},
        {"agents list, page of 500 (`?limit=500`)", "/api/v1/agents?limit=500", true},
    };
    if (quick) targets = {targets[0], targets[2]};
    if (!only.empty()) {
      std::erase_if(targets, [&](const Target& t) { return t.path != only; });
      if (targets.empty()) targets.push_back({only, only, only.starts_with("/api/")});
    }

    const auto duration =
        std::chrono::milliseconds(static_cast<long long>(std::max(seconds, 0.2) * 1000));
    std::printf(
        "| target (%d agents, owner; open loop, %d connections, %.0f s per step) | highest rate "
        "with p99 < 100 ms | p50 / p99 there | bytes per answer | lowest failing rate tried | "
        "ratio to the static file |\n|---|---|---|---|---|---|\n",
        agents, connections, seconds);
    std::fflush(stdout);
    double ceiling = 0;
    for (const auto& t : targets) {
      LoadSpec spec{.port = stack.port(),
                    .target = t.path,
                    .authorization = t.signed_in ? auth : "",
                    .rate = start,
                    .duration = std::chrono::milliseconds(500),
                    .connections = connections};
      rmm::bench::run_load(spec);  // warm up: connections, caches, the pool
      spec.duration = duration;
      if (fixed > 0) {
        run_step(spec, fixed, t.path.c_str());
        continue;
      }
      Found f = search(spec, start, bisect, t.path.c_str());
      const double rate = f.best ? f.best->rate : 0;
      if (ceiling == 0) ceiling = rate;
      std::string there =
          f.best ? fmt::format("{:.1f} / {:.1f} ms", f.best->result.p50_ms, f.best->result.p99_ms)
                 : "—";
      std::string bytes = f.best && f.best->result.ok > 0
                              ? fmt::format("{}", f.best->result.body_bytes / f.best->result.ok)
                              : "—";
      std::string failing =
          f.first_fail ? fmt::format("{} (p99 {:.0f} ms, {} failed)", rate_cell(f.first_fail),
                                     f.first_fail->result.p99_ms, f.first_fail->result.failed)
                       : "none up to the last step";
      std::printf("| %s | **%s** | %s | %s | %s | %s |\n", t.name.c_str(),
                  rate_cell(f.best).c_str(), there.c_str(), bytes.c_str(), failing.c_str(),
                  ceiling > 0 ? fmt::format("{:.3f}", rate / ceiling).c_str() : "—");
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-api-rate: %s\n", e.what());
    return 1;
  }
  return 0;
}
