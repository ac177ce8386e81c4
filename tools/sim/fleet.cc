#include "tools/sim/fleet.h"

#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <memory>
#include <vector>

#include "admin/identity.h"
#include "tools/replay/schema_json.h"

namespace rmm::sim {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {

double since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

asio::ip::address source_address(std::size_t index, int agents, int per_address) {
  if (per_address <= 0 || agents <= per_address) return {};
  const auto base = asio::ip::make_address_v4("127.0.0.1").to_uint();
  return asio::ip::address_v4(base + static_cast<std::uint32_t>(index / per_address));
}

Result<SimReport> run_fleet(const SimOptions& o) {
  raise_fd_limit();
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (static_cast<rlim_t>(o.agents) + 64 > lim.rlim_cur) {
    return failf(
        "{} agents need {} file descriptors; this process may open {}: run several "
        "rmm-sim processes",
        o.agents, o.agents + 64, static_cast<std::uint64_t>(lim.rlim_cur));
  }
  auto signer = broker::load_agent_signer(o.home);
  if (!signer) return std::unexpected(with_context(signer.error(), "agent signing key"));

  SimReport report;
  report.agents = o.agents;
  auto t0 = Steady::now();
  std::vector<SimIdentity> ids;
  ids.reserve(static_cast<std::size_t>(o.agents));
  RealClock clock;
  for (int i = 0; i < o.agents; ++i) {
    auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
    auto id = AgentId::generate(clock);
    auto jwt =
        broker::mint_agent_jwt(signer->key, signer->account_public_key, id, key.public_key());
    ids.push_back({id, std::move(key), std::move(jwt)});
  }
  report.mint_seconds = since(t0);
  if (!o.ids_file.empty()) {
    std::ofstream f(o.ids_file);
    for (const auto& id : ids) f << id.id.str() << '\n';
  }

  asio::io_context io(1);
  FleetConfig config = o.config;
  boost::system::error_code ec;
  if (o.servers.empty()) return failf("--nats-url names no server");
  for (const auto& s : o.servers) {
    config.servers.emplace_back(asio::ip::make_address(s.host, ec), s.port);
    if (ec) return failf("--nats-url host {}: {}", s.host, ec.message());
  }
  std::vector<std::unique_ptr<SimAgent>> agents;
  agents.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    agents.push_back(std::make_unique<SimAgent>(io, config, report.stats, std::move(ids[i]),
                                                source_address(i, o.agents, o.per_address), i,
                                                o.seed * 1'000'003 + i));
  }

  auto start = Steady::now();
  bool stopping = false;
  auto stop_all = [&]() {
    if (stopping) return;
    stopping = true;
    for (auto& a : agents) a->stop();
    io.stop();
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (!e) stop_all();
  });

  // Ramp: a batch of connects every 10 ms.
  std::size_t next = 0;
  asio::steady_timer ramp(io);
  std::function<void()> ramp_step = [&]() {
    std::size_t batch = std::max<std::size_t>(1, static_cast<std::size_t>(o.connect_rate) / 100);
    for (std::size_t k = 0; k < batch && next < agents.size(); ++k) agents[next++]->start();
    if (next < agents.size()) {
      ramp.expires_after(std::chrono::milliseconds(10));
      ramp.async_wait([&](const boost::system::error_code& e) {
        if (!e) ramp_step();
      });
    }
  };
  ramp_step();

  asio::steady_timer ticker(io);
  auto last_stats = Steady::now();
  std::function<void()> tick = [&]() {
    if (report.ramp_seconds == 0 &&
        report.stats.connected_now == static_cast<std::uint64_t>(o.agents)) {
      report.ramp_seconds = since(start);
    }
    if (o.stats_every.count() > 0 && Steady::now() - last_stats >= o.stats_every) {
      last_stats = Steady::now();
      const auto& s = report.stats;
      std::fprintf(stderr,
                   "rmm-sim: %.0fs connected %llu/%d, published %llu, acked %llu, errors %llu, "
                   "commands %llu%s%s\n",
                   since(start), static_cast<unsigned long long>(s.connected_now), o.agents,
                   static_cast<unsigned long long>(s.published),
                   static_cast<unsigned long long>(s.acked),
                   static_cast<unsigned long long>(s.ack_errors + s.server_errors),
                   static_cast<unsigned long long>(s.commands),
                   s.last_error.empty() ? "" : ", last: ", s.last_error.c_str());
    }
    if (o.duration.count() > 0 && Steady::now() - start >= o.duration) {
      stop_all();
      return;
    }
    ticker.expires_after(std::chrono::milliseconds(100));
    ticker.async_wait([&](const boost::system::error_code& e) {
      if (!e) tick();
    });
  };
  tick();
  io.run();
  report.run_seconds = since(start);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  report.cpu_seconds =
      ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  report.max_rss_kib = static_cast<std::uint64_t>(ru.ru_maxrss);
  return report;
}

std::string report_json(const SimReport& r) {
  const auto& s = r.stats;
  std::string out = "{";
  auto key = [&](const char* k) {
    if (out.size() > 1) out += ",";
    out += "\"";
    out += k;
    out += "\":";
  };
  auto real = [&](const char* k, double v) {
    key(k);
    replay::append_double(v, out);
  };
  auto count = [&](const char* k, std::uint64_t v) {
    key(k);
    replay::append_uint(v, out);
  };
  count("agents", static_cast<std::uint64_t>(r.agents));
  real("mint_seconds", r.mint_seconds);
  real("ramp_seconds", r.ramp_seconds);
  real("run_seconds", r.run_seconds);
  real("cpu_seconds", r.cpu_seconds);
  count("max_rss_kib", r.max_rss_kib);
  count("connects", s.connects);
  count("connect_failures", s.connect_failures);
  count("disconnects", s.disconnects);
  count("offline_periods", s.offline_periods);
  count("published", s.published);
  count("acked", s.acked);
  count("duplicates", s.duplicates);
  count("ack_errors", s.ack_errors);
  count("server_errors", s.server_errors);
  count("commands", s.commands);
  key("last_error");
  replay::append_json_string(s.last_error, out);
  out += "}";
  return out;
}

}  // namespace rmm::sim
