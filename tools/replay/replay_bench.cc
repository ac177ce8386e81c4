// rmm-bench-replay: fills a stream with the benchmark suite's events and measures the two read
// ceilings rmm-replay's export rate is compared with, on that same stream:
//
//   rmm-bench-replay fill --nats-url URL --nats-creds FILE [--events N] [--shape typical|heartbeat]
//   rmm-bench-replay ceilings --nats-url URL --nats-creds FILE [--stream RMM_EVENTS]
//   rmm-bench-replay print [--events N]   (the JSON printer alone, from memory)
//   rmm-bench-replay export --nats-url URL --nats-creds FILE [--format jsonl|csv] [--output FILE]
//
// fill publishes N events round-robin over 1,000 agents (typical: the MetricsSample of a small
// server that rmm-bench-projector publishes; heartbeat: small heartbeats). ceilings prints
// name=value lines: ordered_rate/ordered_mbps (an ordered push consumer delivering the whole
// stream, nothing done per message: what rmm-replay reads through) and fetch_ack_rate (a durable
// pull consumer, fetch 256 + ack each, deleted afterwards). export runs rmm-replay's export code
// (run_export) and adds the CPU time it cost per message.
#include <fmt/format.h>
#include <nats/nats.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/event_codec.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tools/bench/projector_bench_setup.h"
#include "tools/replay/embedded_schema.h"
#include "tools/replay/ordered_reader.h"
#include "tools/replay/replay.h"
#include "tools/replay/schema_json.h"

namespace {

using namespace rmm;
using Steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "rmm-bench-replay: %s\n", why.c_str());
  std::exit(1);
}

// CPU seconds (user + system) this process used so far.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

struct Args {
  std::string command, nats_url = "nats://127.0.0.1:4222", nats_creds, stream = "RMM_EVENTS";
  std::string shape = "typical";
  std::string format = "jsonl", output = "/dev/null";
  std::size_t events = 200'000;
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) die("usage: rmm-bench-replay fill|ceilings --nats-url URL --nats-creds FILE ...");
  a.command = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--nats-url") {
      a.nats_url = v;
    } else if (k == "--nats-creds") {
      a.nats_creds = v;
    } else if (k == "--stream") {
      a.stream = v;
    } else if (k == "--shape") {
      a.shape = v;
    } else if (k == "--format") {
      a.format = v;
    } else if (k == "--output") {
      a.output = v;
    } else if (k == "--events") {
      a.events = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      die("unknown argument " + k);
    }
  }
  return a;
}

std::unique_ptr<nats::Connection> connect(const Args& a) {
  auto c = nats::Connection::connect(
      {.url = a.nats_url, .creds_file = a.nats_creds, .name = "rmm-bench-replay"});
  if (!c) die(c.error().message);
  return std::move(*c);
}

void fill(const Args& a) {
  std::vector<bench::Event> events;
  if (a.shape == "typical") {
    bench::Args ba;
    ba.events = a.events;
    events = bench::make_events(ba);
  } else if (a.shape == "heartbeat") {
    const auto& clock = real_clock();
    std::vector<AgentId> agents;
    for (int i = 0; i < 1000; ++i) agents.push_back(AgentId::generate(clock));
    for (std::size_t i = 0; i < a.events; ++i) {
      const auto& agent = agents[i % agents.size()];
      AgentSeq seq{i / agents.size() + 1};
      codec::AgentEventHeader h{.event_id = EventId::generate(clock),
                                .agent = agent,
                                .seq = seq,
                                .occurred_at = clock.now()};
      codec::HeartbeatInfo hb{};
      events.push_back({codec::agent_event_subject(agent, schema::Payload::Heartbeat),
                        {},
                        codec::agent_msg_id(agent, seq),
                        codec::build_heartbeat(h, hb)});
    }
  } else {
    die("--shape typical|heartbeat");
  }
  auto conn = connect(a);
  std::atomic<std::uint64_t> failed{0};
  auto js =
      nats::JetStream::create(*conn, {.max_pending = 4096,
                                      .stall_wait = std::chrono::milliseconds(5000),
                                      .on_ack = [&](const std::string&, Result<nats::PubAck> ack) {
                                        if (!ack) failed.fetch_add(1);
                                      }});
  if (!js) die(js.error().message);
  std::size_t bytes = 0;
  auto t0 = Steady::now();
  for (const auto& e : events) {
    if (auto s = (*js)->publish_async(e.subject, e.bytes, e.msg_id); !s) die(s.error().message);
    bytes += e.bytes.size();
  }
  if (auto s = (*js)->publish_async_complete(std::chrono::seconds(300)); !s) {
    die(s.error().message);
  }
  if (failed.load() > 0) die(fmt::format("{} publishes failed", failed.load()));
  std::printf("published=%zu\npublish_rate=%.0f\nmean_payload_bytes=%.0f\n", events.size(),
              events.size() / since(t0), static_cast<double>(bytes) / events.size());
}

void ordered_ceiling(const Args& a) {
  auto conn = connect(a);
  auto reader = replay::OrderedReader::open(*conn, {.stream = a.stream});
  if (!reader) die(reader.error().message);
  std::uint64_t n = 0, bytes = 0;
  std::vector<nats::Message> retired;
  double cpu0 = cpu_seconds();
  auto t0 = Steady::now();
  while (!(*reader)->finished()) {
    auto d = (*reader)->next(std::chrono::milliseconds(500));
    if (!d) die(d.error().message);
    if (!*d) continue;
    ++n;
    bytes += (*d)->message.data().size();
    {  // freed in bursts, as the export does (see export.cc)
      retired.push_back(std::move((*d)->message));
      if (retired.size() >= 256) retired.clear();
    }
  }
  double secs = since(t0);
  std::printf(
      "ordered_messages=%llu\nordered_rate=%.0f\nordered_mbps=%.1f\nordered_client_cpu_us=%.2f\n",
      static_cast<unsigned long long>(n), n / secs, bytes / secs / 1e6,
      (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n));
}

void fetch_ack_ceiling(const Args& a) {
  auto conn = connect(a);
  auto js = nats::JetStream::create(*conn, {});
  if (!js) die(js.error().message);
  nats::PullConsumerSettings s{.stream = a.stream,
                               .durable = "bench-replay-ceiling",
                               .filter_subject = "",
                               .start_after = {},
                               .max_ack_pending = 20'000};
  std::uint64_t n = 0, bytes = 0;
  double secs = 0;
  {
    auto sub = (*js)->pull_subscribe(s);
    if (!sub) die(sub.error().message);
    auto t0 = Steady::now();
    for (;;) {
      auto batch = (*sub)->fetch(256, std::chrono::milliseconds(1000));
      if (!batch) {
        if (batch.error().code == Error::Code::kTimeout) break;
        die(batch.error().message);
      }
      if (batch->empty()) break;
      for (auto& m : *batch) {
        bytes += m.data().size();
        (void)m.ack();
      }
      n += batch->size();
    }
    (void)conn->flush(std::chrono::seconds(10));
    // The final empty fetch waited its timeout: leave it out.
    secs = since(t0) - 1.0;
  }
  jsErrCode jerr{};
  js_DeleteConsumer((*js)->raw(), a.stream.c_str(), s.durable.c_str(), nullptr, &jerr);
  std::printf("fetch_ack_messages=%llu\nfetch_ack_rate=%.0f\nfetch_ack_mbps=%.1f\n",
              static_cast<unsigned long long>(n), n / secs, bytes / secs / 1e6);
}

// The JSON printer alone, from memory: the compiled path and the reference walker, per event.
void print_rate(const Args& a) {
  bench::Args ba;
  ba.events = std::min<std::size_t>(a.events, 50'000);
  auto events = bench::make_events(ba);
  auto schema = replay::SchemaJson::load(replay::events_bfbs());
  if (!schema) die(schema.error().message);
  std::vector<std::vector<std::uint8_t>> aligned;
  for (auto& e : events) aligned.push_back(e.bytes);  // vector storage is suitably aligned
  double v0 = cpu_seconds();
  for (const auto& e : aligned) {
    if (!codec::verify_event(e)) die("an event does not verify");
  }
  std::printf("verify_us=%.2f\n", (cpu_seconds() - v0) * 1e6 / static_cast<double>(aligned.size()));
  // Both printers must agree on every event before either is timed.
  for (const auto& e : aligned) {
    std::string fast, reference;
    schema->append_root(e.data(), fast);
    schema->append_root_reference(e.data(), reference);
    if (fast != reference) die("the compiled printer differs from the reference: " + fast);
  }
  std::string out;
  out.reserve(8 << 20);
  // --format compiled|reference|none: one printer only (for `perf stat`: none is the setup alone).
  std::vector<bool> modes{false, true, false, true};
  if (a.format == "compiled") modes = {false};
  if (a.format == "reference") modes = {true};
  if (a.format == "none") modes = {};
  for (bool reference : modes) {
    std::size_t bytes = 0;
    double cpu0 = cpu_seconds();
    for (const auto& e : aligned) {
      if (reference) {
        schema->append_root_reference(e.data(), out);
      } else {
        schema->append_root(e.data(), out);
      }
      if (out.size() > (4 << 20)) {
        bytes += out.size();
        out.clear();
      }
    }
    bytes += out.size();
    out.clear();
    double secs = cpu_seconds() - cpu0;
    std::printf("%s_print_us=%.2f\n%s_print_mbps=%.0f\n", reference ? "reference" : "compiled",
                secs * 1e6 / static_cast<double>(aligned.size()),
                reference ? "reference" : "compiled", bytes / secs / 1e6);
  }
}

// rmm-replay's export (the same run_export the CLI calls) with the process's CPU time.
void export_rate(const Args& a) {
  replay::ExportOptions o;
  o.nats_url = a.nats_url;
  o.nats_creds = a.nats_creds;
  o.stream = a.stream;
  auto format = replay::parse_format(a.format);
  if (!format) die(format.error().message);
  o.format = *format;
  o.progress = false;
  o.out = std::fopen(a.output.c_str(), "wb");
  if (o.out == nullptr) die("cannot open " + a.output);
  double cpu0 = cpu_seconds();
  auto stats = replay::run_export(o);
  std::fclose(o.out);
  if (!stats) die(stats.error().message);
  std::printf("export_messages=%llu\nexport_rate=%.0f\nexport_client_cpu_us=%.2f\n",
              static_cast<unsigned long long>(stats->delivered), stats->delivered / stats->seconds,
              (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(stats->delivered));
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  if (a.command == "fill") {
    fill(a);
  } else if (a.command == "print") {
    print_rate(a);
  } else if (a.command == "export") {
    export_rate(a);
  } else if (a.command == "ceilings") {
    ordered_ceiling(a);
    fetch_ack_ceiling(a);
  } else {
    die("unknown command " + a.command + " (fill, ceilings, export)");
  }
  return 0;
}
