#include "tools/bench/projector_bench_setup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/event_codec.h"

namespace rmm::bench {
namespace {

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s --nats-url URL --nats-creds FILE --pg-url URL [--events N | --quick]\n"
      "          [--agents A] [--shape core|typical] [--heartbeats K] [--days D]\n"
      "          [--batch-size B] [--projector PATH] [--processes N] [--rebuild-parallel]\n",
      argv0);
  std::exit(2);
}

codec::MetricsInfo typical_sample(std::uint64_t seq, int agent) {
  codec::MetricsInfo m;
  m.cpu_percent = static_cast<float>((seq * 7 + static_cast<std::uint64_t>(agent)) % 100);
  m.memory_total_bytes = 8ull << 30;
  m.memory_used_bytes = (2ull << 30) + seq * 4096;
  m.memory_available_bytes = m.memory_total_bytes - m.memory_used_bytes;
  m.load1 = 0.5f;
  m.load5 = 0.4f;
  m.load15 = 0.3f;
  m.cpu_interval_ms = 60'000;
  m.cpu_core_percent = std::vector<float>{10, 20, 30, 40};
  m.memory_cached_bytes = 1ull << 30;
  m.swap_total_bytes = 1ull << 30;
  m.filesystems = std::vector<codec::FilesystemInfo>{
      {"/", "ext4", "/dev/vda1", 20ull << 30, 40ull << 30, 300'000, 2'600'000},
      {"/var/lib/postgresql", "xfs", "/dev/vdb", 80ull << 30, 200ull << 30, 5'000, 100'000}};
  m.disks =
      std::vector<codec::DiskIoInfo>{{"vda", seq * 10, seq * 20, seq * 4096, seq * 8192, seq}};
  m.network = std::vector<codec::NetIoInfo>{
      {"lo", seq * 100, seq, 0, 0, seq * 100, seq, 0, 0},
      {"eth0", seq * 5000, seq * 10, 0, 0, seq * 3000, seq * 8, 0, 0}};
  m.temperatures = std::vector<codec::TemperatureInfo>{{"coretemp", "Package id 0", 45.0f},
                                                       {"nvme", "Composite", 38.5f}};
  m.uptime_s = 86'400 + seq * 60;
  m.process_count = 180;
  m.logged_in_users = 1;
  std::vector<codec::ProcessInfo> procs;
  for (std::uint32_t i = 0; i < 10; ++i) {
    procs.push_back({1000 + i, "worker", "app", 1.5f * static_cast<float>(i), 50'000'000,
                     "/usr/bin/worker --queue default"});
  }
  m.top_processes = std::move(procs);
  return m;
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quick") {
      a.events = 20'000;
      continue;
    }
    if (k == "--rebuild-parallel") {
      a.rebuild_parallel = true;
      continue;
    }
    if (i + 1 >= argc) usage(argv[0]);
    const std::string v = argv[++i];
    if (k == "--nats-url") {
      a.nats_url = v;
    } else if (k == "--nats-creds") {
      a.nats_creds = v;
    } else if (k == "--pg-url") {
      a.pg_url = v;
    } else if (k == "--events") {
      a.events = std::strtoull(v.c_str(), nullptr, 10);
    } else if (k == "--agents") {
      a.agents = std::atoi(v.c_str());
    } else if (k == "--shape") {
      a.shape = v;
    } else if (k == "--heartbeats") {
      a.heartbeats = std::atoi(v.c_str());
    } else if (k == "--days") {
      a.days = std::atoi(v.c_str());
    } else if (k == "--batch-size") {
      a.batch_size = std::atoi(v.c_str());
    } else if (k == "--projector") {
      a.projector = v;
    } else if (k == "--processes") {
      a.processes = std::atoi(v.c_str());
    } else {
      usage(argv[0]);
    }
  }
  if (a.nats_url.empty() || a.pg_url.empty() || a.events == 0 || a.events > 5'000'000 ||
      a.agents <= 0 || a.batch_size <= 0 || a.batch_size > 4096 || a.days < 0 || a.days > 3660 ||
      a.heartbeats < 0 || a.heartbeats > 10 || (a.shape != "core" && a.shape != "typical") ||
      a.processes < 0 || a.processes > 17) {
    usage(argv[0]);
  }
  if (a.projector.empty()) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    a.projector = (self.parent_path() / "rmm-projector").string();
  }
  return a;
}

std::vector<Event> make_events(const Args& a) {
  const auto& clock = real_clock();
  std::vector<AgentId> agents;
  for (int i = 0; i < a.agents; ++i) agents.push_back(AgentId::generate(clock));
  // Each slot is one agent's sample plus the heartbeats that follow it within its interval.
  const std::size_t per_slot = 1 + static_cast<std::size_t>(a.heartbeats);
  const std::size_t slots = (a.events + per_slot - 1) / per_slot;
  const std::size_t per_agent = (slots + agents.size() - 1) / agents.size();
  const UnixNanos end = clock.now();
  const UnixNanos step = a.days == 0
                             ? 60'000'000'000
                             : static_cast<UnixNanos>(a.days) * 86'400'000'000'000 /
                                   static_cast<UnixNanos>(std::max<std::size_t>(per_agent, 1));
  std::vector<Event> out;
  out.reserve(a.events);
  for (std::size_t i = 0; out.size() < a.events; ++i) {
    const int ai = static_cast<int>(i % agents.size());
    const std::uint64_t seq = i / agents.size() + 1;
    const auto& agent = agents[static_cast<std::size_t>(ai)];
    const UnixNanos at = end - static_cast<UnixNanos>(per_agent - seq) * step;
    codec::AgentEventHeader h{.event_id = EventId::generate(clock),
                              .agent = agent,
                              .seq = AgentSeq{seq},
                              .occurred_at = at};
    codec::MetricsInfo m = a.shape == "core"
                               ? codec::MetricsInfo{.cpu_percent = 12.5f,
                                                    .memory_total_bytes = 8ull << 30,
                                                    .memory_used_bytes = 2ull << 30,
                                                    .memory_available_bytes = 6ull << 30,
                                                    .load1 = 0.5f,
                                                    .load5 = 0.4f,
                                                    .load15 = 0.3f}
                               : typical_sample(seq, ai);
    out.push_back({codec::agent_event_subject(agent, schema::Payload::MetricsSample),
                   fmt::format("rmm.p.0.evt.{}.metrics", agent.str()),
                   codec::agent_msg_id(agent, AgentSeq{seq}), codec::build_metrics(h, m)});
    for (int k = 1; k <= a.heartbeats && out.size() < a.events; ++k) {
      const std::uint64_t hb_seq = (seq - 1) * static_cast<std::uint64_t>(a.heartbeats) + k;
      codec::AgentEventHeader hh{.event_id = EventId::generate(clock),
                                 .agent = agent,
                                 .seq = AgentSeq{hb_seq},
                                 .occurred_at = at + step * k / (a.heartbeats + 1),
                                 .lane = schema::Lane::Presence};
      out.push_back({codec::agent_event_subject(agent, schema::Payload::Heartbeat),
                     fmt::format("rmm.p.0.evt.{}.heartbeat", agent.str()),
                     fmt::format("{}:hb:{}", agent.str(), hb_seq),
                     codec::build_heartbeat(hh, {"0.1.0-bench", 3600, 0, 0})});
    }
  }
  return out;
}

std::string with_database(const std::string& url, const std::string& name) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (!url.starts_with(scheme)) continue;
    auto path = url.find('/', scheme.size());
    auto query = url.find('?', scheme.size());
    if (path == std::string::npos || (query != std::string::npos && path > query)) {
      // No database in the URI: insert one before the query.
      auto at = query == std::string::npos ? url.size() : query;
      return url.substr(0, at) + "/" + name + url.substr(at);
    }
    auto end = query == std::string::npos ? url.size() : query;
    return url.substr(0, path + 1) + name + url.substr(end);
  }
  return url + " dbname=" + name;  // key=value: the last setting wins
}

std::uint64_t stream_last_seq(nats::Connection& conn) {
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, conn.raw(), nullptr) != NATS_OK) return 0;
  jsStreamInfo* si = nullptr;
  jsErrCode code{};
  std::uint64_t last = 0;
  if (js_GetStreamInfo(&si, js, "RMM_EVENTS", nullptr, &code) == NATS_OK) {
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
  }
  jsCtx_Destroy(js);
  return last;
}

void print_report(const Args& a, const Report& r) {
  const double copy_events = r.copy_rows_rate / r.rows_per_event;
  std::string what = fmt::format("{} MetricsSample events", r.events);
  if (a.heartbeats > 0) {
    what = fmt::format("{} events (each MetricsSample followed by {} Heartbeats)", r.events,
                       a.heartbeats);
  }
  if (a.days > 0) what += fmt::format(", spread over the last {} days", a.days);
  std::printf("\n%s, %d agents, shape %s (%.2f raw rows/event), batch %d\n\n", what.c_str(),
              a.agents, a.shape.c_str(), r.rows_per_event, a.batch_size);
  std::printf("| measure | rate | projector / this |\n|---|---|---|\n");
  std::printf(
      "| JetStream async publish with Nats-Msg-Id (filling the stream) | %.0f msg/s | — |\n",
      r.publish_rate);
  std::printf("| ceiling 1: JetStream pull fetch + AckAll, batch %d | %.0f msg/s | %.2f |\n",
              a.batch_size, r.fetch_rate, r.fold_rate / r.fetch_rate);
  std::printf(
      "| ceiling 2: PostgreSQL COPY of the same rows (scratch table, txn per batch) | %.0f rows/s "
      "= %.0f events/s | %.2f |\n",
      r.copy_rows_rate, copy_events, r.fold_rate / copy_events);
  const std::string folder =
      a.processes == 0
          ? std::string(
                "rmm-projector sustained fold (fetch, decode, fold, COPY + "
                "upserts, commit, ack)")
          : fmt::format("{} rmm-projector --partitions=16 processes, sustained fold", a.processes);
  std::printf("| **%s** | **%.0f events/s** (projector CPU %.1f ms per 1,000 events) | — |\n",
              folder.c_str(), r.fold_rate, r.fold_cpu_ms_per_1000);
  std::printf(
      "| rmm-projector rebuild: ordered-consumer replay of the whole stream (%llu messages) into a "
      "fresh schema | **%.0f events/s** (CPU per 1,000 events: rebuild %.1f ms, PostgreSQL %.1f "
      "ms; command %.1f s) | — |\n",
      static_cast<unsigned long long>(r.rebuild.messages), r.rebuild.rate(),
      r.rebuild.cpu_ms_per_1000(), r.rebuild.pg_cpu_ms_per_1000(), r.rebuild.wall_seconds);
  if (r.parallel_rebuild) {
    const Rebuilt& p = *r.parallel_rebuild;
    std::printf(
        "| rmm-projector rebuild --rebuild-parallel=on: 17 units in parallel (%llu messages) | "
        "**%.0f events/s** (CPU per 1,000 events: rebuild %.1f ms, PostgreSQL %.1f ms; command "
        "%.1f s) | %.2f of the serial rebuild |\n",
        static_cast<unsigned long long>(p.messages), p.rate(), p.cpu_ms_per_1000(),
        p.pg_cpu_ms_per_1000(), p.wall_seconds, p.rate() / r.rebuild.rate());
  }
}

}  // namespace rmm::bench
