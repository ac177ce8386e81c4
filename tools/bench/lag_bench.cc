// rmm-bench-lag: projection lag and server footprint while something (rmm-sim) feeds the stream.
// Every --interval it reads the stream's last sequence (JetStream stream info) and the
// projector's position (PostgreSQL; common/projection_position.h, so partitioned units too); the
// lag at that moment is how long ago the stream last held no more than what is now projected (0
// when caught up), so its resolution is the interval. It also samples CPU and resident memory of
// the given processes (and their direct children, so a postmaster counts with its backends) from
// /proc.
//
//   rmm-bench-lag --nats-url URL --nats-creds FILE --pg-url URL --seconds S
//                 [--interval-ms 100] [--watch name=pid,...] [--wait-caught-up S]
//
// --wait-caught-up first waits (up to S seconds) until the projector has folded everything the
// stream held when the wait began (a fleet's connect burst of AgentStarted + Inventory), and
// prints how long that took as burst_drain_s; the measurement starts after it.
// Prints `name=value` lines: lag_p50_ms, lag_p99_ms, lag_max_ms, stream_rate, projected_rate,
// cpu_pct_<name> (share of one core), rss_mib_<name> (peak).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <pqxx/nontransaction>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/nats_connection.h"
#include "common/pg.h"
#include "common/projection_position.h"

namespace {

using namespace rmm;
using Steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "rmm-bench-lag: %s\n", what.c_str());
  std::exit(1);
}

struct ProcSample {
  double cpu_ticks = 0;
  double rss_bytes = 0;
};

// utime + stime and resident bytes of `pid` and its direct children.
ProcSample sample_tree(int pid) {
  ProcSample s;
  auto add = [&](int p) {
    std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto close = text.rfind(')');
    if (close == std::string::npos) return;
    std::istringstream rest(text.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (rest >> tok) f.push_back(tok);
    // After ")": state(0) ppid(1) ... utime(11) stime(12) ... rss(21) in pages.
    if (f.size() < 22) return;
    s.cpu_ticks += std::stod(f[11]) + std::stod(f[12]);
    s.rss_bytes += std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  };
  add(pid);
  DIR* d = opendir("/proc");
  if (d == nullptr) return s;
  while (auto* e = readdir(d)) {
    int child = std::atoi(e->d_name);
    if (child <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 4 >= text.size()) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid) add(child);
  }
  closedir(d);
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string nats_url, nats_creds, pg_url, watch;
  double seconds = 60;
  double wait_caught_up = 0;
  int interval_ms = 100;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) die("missing value for " + k);
    std::string v = argv[++i];
    if (k == "--nats-url")
      nats_url = v;
    else if (k == "--nats-creds")
      nats_creds = v;
    else if (k == "--pg-url")
      pg_url = v;
    else if (k == "--seconds")
      seconds = std::stod(v);
    else if (k == "--interval-ms")
      interval_ms = std::stoi(v);
    else if (k == "--watch")
      watch = v;
    else if (k == "--wait-caught-up")
      wait_caught_up = std::stod(v);
    else
      die("unknown argument " + k);
  }
  std::map<std::string, int> pids;
  std::stringstream ws(watch);
  for (std::string item; std::getline(ws, item, ',');) {
    auto eq = item.find('=');
    if (eq != std::string::npos) pids[item.substr(0, eq)] = std::stoi(item.substr(eq + 1));
  }
  auto conn = nats::Connection::connect(
      {.url = nats_url, .creds_file = nats_creds, .name = "rmm-bench-lag"});
  if (!conn) die(conn.error().message);
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, (*conn)->raw(), nullptr) != NATS_OK) die("jetstream");
  auto pg = pg::connect(pg_url, {.attempts = 5});
  if (!pg) die(pg.error().message);

  auto stream_last = [&]() -> std::uint64_t {
    jsStreamInfo* si = nullptr;
    jsErrCode code{};
    std::uint64_t last = 0;
    if (js_GetStreamInfo(&si, js, "RMM_EVENTS", nullptr, &code) == NATS_OK) {
      last = si->State.LastSeq;
      jsStreamInfo_Destroy(si);
    }
    return last;
  };
  auto checkpoint = [&]() -> std::uint64_t {
    try {
      pqxx::nontransaction tx(**pg);
      // The single projection's checkpoint or the partitioned units' common watermark.
      auto r = tx.exec(std::string(kFoldedThroughSql));
      return r[0][0].as<std::uint64_t>();
    } catch (const std::exception&) {
      return 0;
    }
  };

  if (wait_caught_up > 0) {
    auto w0 = Steady::now();
    auto target = stream_last();
    while (checkpoint() < target &&
           Steady::now() - w0 < std::chrono::duration<double>(wait_caught_up)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::printf("burst_drain_s=%.1f\nburst_events=%llu\n",
                std::chrono::duration<double>(Steady::now() - w0).count(),
                static_cast<unsigned long long>(target));
  }

  std::map<std::string, ProcSample> first;
  std::map<std::string, double> peak_rss;
  for (const auto& [name, pid] : pids) first[name] = sample_tree(pid);
  std::deque<std::pair<Steady::time_point, std::uint64_t>> history;
  std::vector<double> lags;
  auto t0 = Steady::now();
  auto s0 = stream_last();
  auto c0 = checkpoint();
  std::uint64_t s_end = s0, c_end = c0;
  int polls = 0;
  while (Steady::now() - t0 < std::chrono::duration<double>(seconds)) {
    auto now = Steady::now();
    auto s = stream_last();
    auto c = checkpoint();
    history.emplace_back(now, s);
    double lag = 0;
    if (c < s) {
      // The latest moment at which the stream held no more than `c`.
      auto it = std::find_if(history.rbegin(), history.rend(),
                             [&](const auto& h) { return h.second <= c; });
      auto when = it == history.rend() ? history.front().first : it->first;
      lag = std::chrono::duration<double, std::milli>(now - when).count();
    }
    lags.push_back(lag);
    s_end = s;
    c_end = c;
    if (++polls % 10 == 0) {
      for (const auto& [name, pid] : pids) {
        peak_rss[name] = std::max(peak_rss[name], sample_tree(pid).rss_bytes);
      }
    }
    // Keep ~10 minutes of history.
    while (history.size() > 6000) history.pop_front();
    std::this_thread::sleep_until(now + std::chrono::milliseconds(interval_ms));
  }
  double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("lag_p50_ms=%.0f\nlag_p99_ms=%.0f\nlag_max_ms=%.0f\n", percentile(lags, 0.5),
              percentile(lags, 0.99), percentile(lags, 1.0));
  std::printf("stream_rate=%.1f\nprojected_rate=%.1f\npolls=%zu\n", (s_end - s0) / elapsed,
              (c_end - c0) / elapsed, lags.size());
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& [name, pid] : pids) {
    auto last = sample_tree(pid);
    std::printf("cpu_pct_%s=%.1f\n", name.c_str(),
                100.0 * (last.cpu_ticks - first[name].cpu_ticks) / ticks / elapsed);
    std::printf("rss_mib_%s=%.1f\n", name.c_str(),
                std::max(peak_rss[name], last.rss_bytes) / (1024.0 * 1024.0));
  }
  jsCtx_Destroy(js);
  return 0;
}
