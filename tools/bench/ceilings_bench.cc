// rmm-bench-ceilings: the raw rates the product's figures are read against, measured in the same
// run (issue 8 §3): JetStream async publish of 256-byte messages with Nats-Msg-Id, pull fetch +
// ack of each message, PostgreSQL COPY of metric rows, RocksDB puts (WAL on, no sync).
//
//   rmm-bench-ceilings --nats-url URL --nats-creds FILE --pg-url URL [--count N] [--quick]
//                      [--replicas R] [--nats-only]
//
// --replicas R gives the scratch stream R copies (a cluster of at least R nodes: rmm-bench-stack
// --cluster 3); --nats-only skips PostgreSQL and RocksDB, to compare R1 and R3 on one cluster.
//
// Uses a scratch stream BENCH_CEILINGS (subjects bench.ceilings.>) and a scratch table, both
// removed at the end, and a temp RocksDB. Prints `name=value` lines (rates per second) for
// tools/lib/bench.sh.
#include <rocksdb/db.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pqxx/nontransaction>
#include <pqxx/stream_to>
#include <pqxx/transaction>
#include <string>
#include <tuple>

#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/pg.h"

namespace {

using namespace rmm;
using Steady = std::chrono::steady_clock;

constexpr const char* kStream = "BENCH_CEILINGS";

double since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "rmm-bench-ceilings: %s\n", what.c_str());
  std::exit(1);
}

struct Args {
  std::string nats_url, nats_creds, pg_url;
  int count = 200'000;
  int replicas = 1;
  bool nats_only = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--nats-url")
      a.nats_url = value();
    else if (k == "--nats-creds")
      a.nats_creds = value();
    else if (k == "--pg-url")
      a.pg_url = value();
    else if (k == "--count")
      a.count = std::stoi(value());
    else if (k == "--quick")
      a.count = 20'000;
    else if (k == "--replicas")
      a.replicas = std::stoi(value());
    else if (k == "--nats-only")
      a.nats_only = true;
    else
      die("usage: rmm-bench-ceilings --nats-url URL --nats-creds FILE --pg-url URL "
          "[--count N] [--quick] [--replicas R] [--nats-only]");
  }
  if (a.nats_creds.empty() || (a.pg_url.empty() && !a.nats_only)) {
    die("--nats-creds and --pg-url are required");
  }
  if (a.replicas != 1 && a.replicas != 3 && a.replicas != 5) die("--replicas: 1, 3 or 5");
  return a;
}

double js_publish(nats::Connection& conn, jsCtx* js, int count, int replicas) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = kStream;
  const char* subjects[] = {"bench.ceilings.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = replicas;
  cfg.MaxBytes = std::int64_t{1} << 30;  // the RMM account requires a byte limit on every stream
  jsErrCode jerr{};
  js_DeleteStream(js, kStream, nullptr, &jerr);
  if (js_AddStream(nullptr, js, &cfg, nullptr, &jerr) != NATS_OK) die("creating the stream");
  std::atomic<int> acked{0}, failed{0};
  auto pub =
      nats::JetStream::create(conn, {.max_pending = 4096,
                                     .stall_wait = std::chrono::milliseconds(5000),
                                     .on_ack = [&](const std::string&, Result<nats::PubAck> ack) {
                                       (ack ? acked : failed).fetch_add(1);
                                     }});
  if (!pub) die(pub.error().message);
  std::vector<std::uint8_t> payload(256, 'x');
  auto t0 = Steady::now();
  for (int i = 0; i < count; ++i) {
    if (!(*pub)->publish_async("bench.ceilings.m", payload, "ceil:" + std::to_string(i))) {
      die("publish failed");
    }
  }
  if (!(*pub)->publish_async_complete(std::chrono::seconds(120))) die("acks did not arrive");
  double rate = count / since(t0);
  if (failed.load() > 0) die("some publishes failed");
  return rate;
}

double js_fetch_ack(nats::Connection& conn, int count) {
  auto js = nats::JetStream::create(conn, {});
  if (!js) die(js.error().message);
  nats::PullConsumerSettings s{.stream = kStream,
                               .durable = "ceilings",
                               .filter_subject = "bench.ceilings.>",
                               .start_after = {},
                               .max_ack_pending = 20'000};
  auto sub = (*js)->pull_subscribe(s);
  if (!sub) die(sub.error().message);
  int got = 0;
  auto t0 = Steady::now();
  while (got < count) {
    auto batch = (*sub)->fetch(256, std::chrono::seconds(5));
    if (!batch) die(batch.error().message);
    if (batch->empty()) die("fetch stalled");
    for (auto& m : *batch) (void)m.ack();
    got += static_cast<int>(batch->size());
  }
  (void)conn.flush(std::chrono::seconds(10));
  return got / since(t0);
}

double pg_copy(const std::string& url, int count) {
  auto conn = pg::connect(url, {.attempts = 3});
  if (!conn) die(conn.error().message);
  try {
    {
      pqxx::nontransaction tx(**conn);
      tx.exec0("DROP TABLE IF EXISTS bench_ceiling_metrics");
      tx.exec0(
          "CREATE TABLE bench_ceiling_metrics (agent_id uuid, ts timestamptz, seq bigint, "
          "cpu real, mem_used bigint, mem_total bigint, load1 real, load5 real, load15 real)");
    }
    auto t0 = Steady::now();
    const int per_tx = 10'000;
    for (int done = 0; done < count;) {
      pqxx::work tx(**conn);
      pqxx::stream_to out(tx, "bench_ceiling_metrics");
      for (int i = 0; i < per_tx && done < count; ++i, ++done) {
        out << std::make_tuple(
            std::string("01900000-0000-7000-8000-") + std::to_string(100000000000 + done % 1000),
            std::string("2026-11-27 00:00:00+00"), done, 12.5f, std::int64_t{3} << 30,
            std::int64_t{8} << 30, 0.5f, 0.25f, 0.125f);
      }
      out.complete();
      tx.commit();
    }
    double rate = count / since(t0);
    pqxx::nontransaction tx(**conn);
    tx.exec0("DROP TABLE bench_ceiling_metrics");
    return rate;
  } catch (const std::exception& e) {
    die(std::string("COPY: ") + e.what());
  }
}

double rocksdb_puts(int count) {
  auto dir =
      std::filesystem::temp_directory_path() / ("rmm-bench-rocksdb-" + std::to_string(::getpid()));
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) die("opening RocksDB");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  std::string value(256, 'v');
  char key[17];
  auto t0 = Steady::now();
  for (int i = 0; i < count; ++i) {
    std::snprintf(key, sizeof key, "%016d", i);
    if (!db->Put(wo, rocksdb::Slice(key, 16), value).ok()) die("RocksDB put");
  }
  double rate = count / since(t0);
  db.reset();
  std::filesystem::remove_all(dir);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  auto conn = nats::Connection::connect(
      {.url = a.nats_url, .creds_file = a.nats_creds, .name = "rmm-bench-ceilings"});
  if (!conn) die(conn.error().message);
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, (*conn)->raw(), nullptr) != NATS_OK) die("jetstream");
  double publish = js_publish(**conn, js, a.count, a.replicas);
  std::printf("replicas=%d\njs_publish_256=%.0f\n", a.replicas, publish);
  std::fflush(stdout);
  double fetch = js_fetch_ack(**conn, a.count);
  std::printf("js_fetch_ack=%.0f\n", fetch);
  std::fflush(stdout);
  jsErrCode jerr{};
  js_DeleteStream(js, kStream, nullptr, &jerr);
  jsCtx_Destroy(js);
  if (a.nats_only) {
    std::printf("count=%d\n", a.count);
    return 0;
  }
  std::printf("pg_copy_rows=%.0f\n", pg_copy(a.pg_url, a.count));
  std::fflush(stdout);
  std::printf("rocksdb_puts=%.0f\n", rocksdb_puts(a.count));
  std::printf("count=%d\n", a.count);
  return 0;
}
