// rmm-bench-outbox: the agent outbox's append rate, and its drain rate into JetStream as a ratio
// of raw JetStream async publish with Nats-Msg-Id measured in the same run (issue 3 §6).
//
//   rmm-bench-outbox [--events N] [--payload-bytes B] [--window W] [--dir PATH]
//                    [--nats-url URL --nats-creds FILE [--nats-ca FILE] [--agent-id UUID]]
//
// Without --nats-url only the append rate is measured. With it, against a running server whose
// RMM_EVENTS stream exists (tools/rmm up, or any test server): first N raw async publishes of the
// same envelope bytes (msg ids "<agent>:raw-<i>"), then the outbox filled with N events is drained
// by OutboxPublisher. It starts no server itself. The messages land in RMM_EVENTS as MetricsSample
// events of the bench's agent id (a random one unless --agent-id; an agent credential needs its
// own id): use a throwaway stack. Every phase is bounded by a deadline.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "agent/outbox/outbox.h"
#include "agent/publisher/outbox_publisher.h"
#include "common/event_codec.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/platform/system.h"

namespace {

using namespace rmm;
using Steady = std::chrono::steady_clock;

struct Args {
  std::uint64_t events = 1'000'000;
  std::size_t payload_bytes = 256;
  int window = 1024;
  std::string dir;
  std::string nats_url;
  std::string nats_creds;
  std::string nats_ca;
  std::string agent_id;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--events N] [--payload-bytes B] [--window W] [--dir PATH]\n"
               "          [--nats-url URL --nats-creds FILE [--nats-ca FILE] [--agent-id UUID]]\n",
               argv0);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const std::string v = argv[++i];
    if (k == "--events") {
      a.events = std::stoull(v);
    } else if (k == "--payload-bytes") {
      a.payload_bytes = std::stoul(v);
    } else if (k == "--window") {
      a.window = std::stoi(v);
    } else if (k == "--dir") {
      a.dir = v;
    } else if (k == "--nats-url") {
      a.nats_url = v;
    } else if (k == "--nats-creds") {
      a.nats_creds = v;
    } else if (k == "--nats-ca") {
      a.nats_ca = v;
    } else if (k == "--agent-id") {
      a.agent_id = v;
    } else {
      usage(argv[0]);
    }
  }
  if (a.events == 0 || a.events > 10'000'000) usage(argv[0]);
  return a;
}

// Resident memory in KiB, or -1 where the platform does not say.
long rss_kib() {
  auto bytes = platform::resident_bytes();
  return bytes ? static_cast<long>(*bytes / 1024) : -1;
}

// A MetricsSample envelope of about `bytes` bytes (padded with one collection error string).
std::vector<std::uint8_t> envelope(const AgentId& agent, const rmm::Clock& clock, AgentSeq seq,
                                   std::size_t bytes) {
  codec::MetricsInfo m;
  m.cpu_percent = 12.5f;
  m.memory_total_bytes = 8ull << 30;
  auto base = codec::build_metrics({EventId::generate(clock), agent, seq, clock.now()}, m);
  if (base.size() + 8 < bytes) {
    m.collection_errors.push_back(std::string(bytes - base.size() - 8, 'x'));
    base = codec::build_metrics({EventId::generate(clock), agent, seq, clock.now()}, m);
  }
  return base;
}

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// Raw JetStream async publish with Nats-Msg-Id: the ceiling the drain is compared with.
double raw_publish_rate(nats::Connection& conn, const AgentId& agent,
                        const std::vector<std::uint8_t>& bytes, const Args& a) {
  std::atomic<std::uint64_t> acked{0}, failed{0};
  nats::JetStreamOptions jo;
  jo.max_pending = a.window;
  jo.on_ack = [&](const std::string&, Result<nats::PubAck> ack) { (ack ? acked : failed)++; };
  auto js = nats::JetStream::create(conn, jo);
  if (!js) throw std::runtime_error(js.error().message);
  const auto subject = codec::agent_event_subject(agent, schema::Payload::MetricsSample);
  const auto run = std::to_string(::getpid());
  const auto t0 = Steady::now();
  const auto deadline = t0 + std::chrono::minutes(10);
  for (std::uint64_t i = 0; i < a.events && Steady::now() < deadline; ++i) {
    auto st =
        (*js)->publish_async(subject, bytes, fmt::format("{}:raw-{}-{}", agent.str(), run, i));
    if (!st) throw std::runtime_error(st.error().message);
  }
  if (auto st = (*js)->publish_async_complete(std::chrono::minutes(2)); !st) {
    throw std::runtime_error(st.error().message);
  }
  const double secs = seconds_since(t0);
  fmt::print("raw async publish: {} acked, {} failed in {:.2f} s: {:.0f} msg/s\n", acked.load(),
             failed.load(), secs, static_cast<double>(acked.load()) / secs);
  return static_cast<double>(acked.load()) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  log::set_level(log::Level::kWarn);
  RealClock clock;
  AgentId agent = AgentId::generate(clock);
  if (!a.agent_id.empty()) {
    auto parsed = AgentId::parse(a.agent_id);
    if (!parsed) usage(argv[0]);
    agent = *parsed;
  }
  std::filesystem::path dir = a.dir;
  if (dir.empty()) {
    // Named by the run's random agent id, so it is new (the Windows build has no mkdtemp).
    dir = std::filesystem::temp_directory_path() / ("rmm-bench-outbox-" + agent.str());
    std::error_code ec;
    if (!std::filesystem::create_directory(dir, ec)) {
      std::fprintf(stderr, "rmm-bench-outbox: cannot create %s\n", dir.string().c_str());
      return 1;
    }
  }
  try {
    const long rss_start = rss_kib();
    // A budget far above the run's volume: this measures appends, not drops.
    auto box = agent::Outbox::open(dir / "outbox", {64ull << 30, "bench"}, clock);
    if (!box) throw std::runtime_error(box.error().message);
    const long rss_open = rss_kib();
    const auto sample = envelope(agent, clock, AgentSeq{1}, a.payload_bytes);

    const auto t0 = Steady::now();
    for (std::uint64_t i = 0; i < a.events; ++i) {
      auto seq =
          (*box)->append(agent::EventClass::kDroppable, schema::Payload::MetricsSample,
                         [&](AgentSeq s) { return envelope(agent, clock, s, a.payload_bytes); });
      if (!seq) throw std::runtime_error(seq.error().message);
    }
    const double append_secs = seconds_since(t0);
    fmt::print("append: {} events of {} B in {:.2f} s: {:.0f} events/s (target >= 100000)\n",
               a.events, sample.size(), append_secs, static_cast<double>(a.events) / append_secs);
    fmt::print("rss: {} KiB at start, {} KiB after open, {} KiB after appends; stored {} MiB\n",
               rss_start, rss_open, rss_kib(), (*box)->stored_bytes() >> 20);
    fmt::print("rocksdb: {}\n", (*box)->memory_report());

    if (!a.nats_url.empty()) {
      nats::ConnectOptions co;
      co.url = a.nats_url;
      co.creds_file = a.nats_creds;
      co.tls_ca_file = a.nats_ca;  // a TLS server (tools/rmm up's): its CA
      co.inbox_prefix = "_INBOX." + agent.str();
      co.name = "rmm-bench-outbox";
      auto conn = nats::Connection::connect(co);
      if (!conn) throw std::runtime_error(conn.error().message);
      const double raw = raw_publish_rate(**conn, agent, sample, a);
      fmt::print("rss after raw publish: {} KiB\n", rss_kib());

      agent::PublisherOptions po;
      po.window = a.window;
      auto publisher =
          agent::OutboxPublisher::create(**box, **conn, agent, MsgIdKey::generate(), po);
      if (!publisher) throw std::runtime_error(publisher.error().message);
      const auto t1 = Steady::now();
      if (auto st = (*publisher)->start(); !st) throw std::runtime_error(st.error().message);
      const auto deadline = t1 + std::chrono::minutes(10);
      while ((*box)->depth() > 0 && Steady::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      const double drain_secs = seconds_since(t1);
      (*publisher)->stop();
      const auto stats = (*publisher)->stats();
      const double drain = static_cast<double>(stats.acked) / drain_secs;
      fmt::print("drain: {} acked ({} left, {} re-sent, {} duplicates) in {:.2f} s: {:.0f} msg/s\n",
                 stats.acked, (*box)->depth(), stats.resent, stats.duplicates, drain_secs, drain);
      fmt::print("drain / raw = {:.2f} (aim >= 0.5); rss after drain: {} KiB\n",
                 raw > 0 ? drain / raw : 0.0, rss_kib());
      fmt::print("rocksdb: {}\n", (*box)->memory_report());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-outbox: %s\n", e.what());
    if (a.dir.empty()) std::filesystem::remove_all(dir);
    return 1;
  }
  if (a.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
