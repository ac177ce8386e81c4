// rmm-bench-projector: the projector's sustained fold rate for MetricsSample events from a filled
// stream, as a ratio of two ceilings measured in the same run on the same events (issue 4 §3):
//   1. JetStream pull fetch + AckAll of those messages (a throwaway durable, the projector's
//   batch);
//   2. PostgreSQL COPY (pqxx::stream_to) of the same rows into a scratch table, one transaction
//      per batch, through the projector's own COPY code.
//
//   rmm-bench-projector --nats-url URL --nats-creds FILE --pg-url URL [--events N | --quick]
//                       [--agents A] [--shape core|typical] [--heartbeats K] [--days D]
//                       [--batch-size B] [--projector PATH] [--processes N]
//                       [--rebuild-parallel]
//
// --processes N runs N `rmm-projector --partitions=16` processes sharing the partitioned
// projection's units instead of one process folding the whole stream; the fold is timed on the
// folded-through position (the units' lowest watermark), and the report adds the projector
// processes' CPU time per 1,000 events.
// --days D spreads each agent's samples over the last D days instead of one a minute: a long
// history, of which a rebuild writes raw rows only for the days metrics retention keeps.
// --heartbeats K follows every sample with K heartbeats of its agent (a fleet's real mix is 2);
// N counts both, and the COPY ceiling copies the samples' rows only.
//
// The caller starts the servers (tools/rmm up, or the test fixtures); the stream RMM_EVENTS must
// exist with the agent subject mapping. The bench publishes N events of A simulated agents, creates
// a fresh database next to --pg-url's (dropped at the end), and runs the rmm-projector binary
// (default: next to this one) on it with its own durable, timing checkpoint progress over the
// bench's events. A stream that already holds events is replayed first (not timed): use a
// throwaway stack. Last, `rmm-projector rebuild` replays the whole stream into a fresh schema of
// that database and swaps it in; its replay rate is reported too. With --rebuild-parallel a
// second rebuild follows with the partitioned projection's units in parallel (`rebuild
// --rebuild-parallel=on`), reported beside the serial one with both processes' CPU. Every phase
// is bounded by a deadline.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/event_codec.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/pg.h"
#include "common/projection_position.h"
#include "projector/db/metrics_writer.h"
#include "projector/db/migrations.h"
#include "projector/folds/decode.h"
#include "tools/bench/projector_bench_setup.h"

extern char** environ;

namespace {

using namespace rmm;
using namespace rmm::bench;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "rmm-bench-projector: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) die(fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

// Publishes every event; returns the highest stream sequence acked.
std::uint64_t publish(nats::Connection& conn, const std::vector<Event>& events, double& rate) {
  std::atomic<std::uint64_t> last{0};
  std::atomic<int> errors{0};
  auto js = must(nats::JetStream::create(
                     conn, {.max_pending = 8192,
                            .on_ack =
                                [&](const std::string&, Result<nats::PubAck> ack) {
                                  if (!ack) {
                                    ++errors;
                                    return;
                                  }
                                  auto cur = last.load();
                                  while (ack->seq.value > cur &&
                                         !last.compare_exchange_weak(cur, ack->seq.value)) {
                                  }
                                }}),
                 "jetstream");
  auto t0 = Steady::now();
  for (const auto& e : events) {
    if (auto st = js->publish_async(e.subject, e.bytes, e.msg_id); !st) {
      die("publish: " + st.error().message);
    }
  }
  if (auto st = js->publish_async_complete(300s); !st) die("publish: " + st.error().message);
  rate = static_cast<double>(events.size()) / seconds_since(t0);
  if (errors.load() > 0) die(fmt::format("{} publishes failed", errors.load()));
  return last.load();
}

// Fetches `count` messages after `after` with a throwaway durable, acking each batch's last.
double fetch_ceiling(nats::Connection& conn, std::uint64_t after, std::size_t count, int batch) {
  auto js = must(nats::JetStream::create(conn, {}), "jetstream");
  const std::string durable = fmt::format("bench-fetch-{}", ::getpid());
  auto sub = must(js->pull_subscribe({.stream = "RMM_EVENTS",
                                      .durable = durable,
                                      .filter_subject = "",
                                      .start_after = StreamSeq{after},
                                      .max_ack_pending = std::max(4 * batch, 1024),
                                      .ack_wait = 30s,
                                      .ack_all = true}),
                  "pull consumer");
  std::size_t got = 0;
  auto t0 = Steady::now();
  auto deadline = t0 + 300s;
  while (got < count && Steady::now() < deadline) {
    auto msgs = sub->fetch(batch, 1s);
    if (!msgs) die("fetch: " + msgs.error().message);
    if (msgs->empty()) continue;
    got += msgs->size();
    (void)msgs->back().ack();  // AckAll; a lost ack only costs a redelivery to a dropped consumer
  }
  double rate = static_cast<double>(got) / seconds_since(t0);
  (void)conn.flush(2s);
  sub.reset();
  jsErrCode code{};
  js_DeleteConsumer(js->raw(), "RMM_EVENTS", durable.c_str(), nullptr, &code);
  if (got < count) die(fmt::format("fetched only {} of {} messages", got, count));
  return rate;
}

// COPY of the events' rows (one per event, as the projector writes them) into a scratch table,
// one transaction per batch; returns rows/s.
double copy_ceiling(pqxx::connection& conn, const std::vector<Event>& events, int batch,
                    std::int64_t& rows) {
  {
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE TABLE scratch_metrics (LIKE metrics)");
  }
  std::vector<projector::Decoded> decoded;
  decoded.reserve(events.size());
  for (const auto& e : events)
    decoded.push_back(projector::decode_message(e.stream_subject, e.bytes));
  rows = 0;
  auto t0 = Steady::now();
  for (std::size_t i = 0; i < decoded.size(); i += static_cast<std::size_t>(batch)) {
    std::vector<projector::db::SampleRef> samples;
    for (std::size_t j = i; j < std::min(decoded.size(), i + batch); ++j) {
      const auto* ev = std::get_if<projector::AgentEvent>(&decoded[j]);
      if (ev == nullptr) die("an event failed to decode");
      if (!std::holds_alternative<projector::MetricsRows>(ev->body)) continue;  // a heartbeat
      samples.push_back({.agent = ev->agent,
                         .seq = static_cast<std::int64_t>(ev->seq.value),
                         .stream_seq = static_cast<std::int64_t>(j + 1),
                         .at = ev->occurred_at,
                         .rows = &std::get<projector::MetricsRows>(ev->body)});
    }
    pqxx::work tx(conn);
    rows += projector::db::copy_metric_rows(tx, samples, "scratch_");
    tx.commit();
  }
  double rate = static_cast<double>(rows) / seconds_since(t0);
  pqxx::nontransaction tx(conn);
  tx.exec("DROP TABLE scratch_metrics");
  return rate;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die(fmt::format("cannot start {}: {}", args[0], std::strerror(rc)));
  return pid;
}

void stop(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// How far the projection folded: the single projection's checkpoint or the partitioned units'
// lowest watermark (common/projection_position.h).
std::int64_t folded_through(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec(std::string(kFoldedThroughSql));
    return r.empty() ? 0 : r[0][0].as<std::int64_t>();
  } catch (const std::exception&) {
    return 0;  // not migrated yet
  }
}

// User + system CPU time of a live child, from /proc/<pid>/stat (fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && (fields >> field); ++i) {
    if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// PostgreSQL's CPU so far when it runs on this machine: its postmaster's user + system time and
// that of its children that ended (the backends of closed connections; fields 14 to 17 of
// /proc/<postmaster>/stat). Read around a command whose connections all end with it.
double postgres_cpu_seconds(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    const auto backend = tx.exec1("SELECT pg_backend_pid()")[0].as<long>();
    std::ifstream in(fmt::format("/proc/{}/stat", backend));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field, ppid;
    fields >> field >> ppid;  // state, ppid
    std::ifstream pin(fmt::format("/proc/{}/stat", ppid));
    std::string pstat((std::istreambuf_iterator<char>(pin)), std::istreambuf_iterator<char>());
    const auto pparen = pstat.rfind(')');
    if (pparen == std::string::npos) return 0;
    std::istringstream pfields(pstat.substr(pparen + 2));
    double ticks = 0;
    for (int i = 3; i <= 17 && (pfields >> field); ++i) {
      if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  } catch (const std::exception&) {
    return 0;
  }
}

struct Fold {
  double rate = 0;             // events/s over the bench's events
  double cpu_ms_per_1000 = 0;  // the projector processes' CPU over the same window
};

// Runs rmm-projector (one process, or a.processes partitioned ones) until the projection folded
// through `last`.
Fold fold_rate(const Args& a, const std::string& db_url, std::uint64_t first, std::uint64_t last) {
  auto conn = must(pg::connect(db_url), "pg-url");
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (int i = 0; i < std::max(a.processes, 1); ++i) {
    logs.push_back(fmt::format("/tmp/rmm-bench-projector-{}-{}.log", ::getpid(), i));
    std::vector<std::string> args{a.projector,
                                  "--nats-url=" + a.nats_url,
                                  "--nats-creds=" + a.nats_creds,
                                  "--pg-url=" + db_url,
                                  fmt::format("--durable=bench-proj-{}", ::getpid()),
                                  fmt::format("--batch-size={}", a.batch_size),
                                  "--log-level=warn",
                                  "--http-port=0",
                                  "--migrations-dir=" RMM_MIGRATIONS_SOURCE_DIR};
    if (a.processes > 0) args.push_back("--partitions=16");
    pids.push_back(spawn(args, logs.back()));
  }
  auto cpu_now = [&] {
    double sum = 0;
    for (pid_t p : pids) sum += cpu_seconds(p);
    return sum;
  };
  std::int64_t cp_start = 0;
  double cpu_start = 0;
  Steady::time_point t_start{};
  auto deadline = Steady::now() + 900s;
  std::int64_t cp = 0;
  double cpu_end = 0;
  while (Steady::now() < deadline) {
    cp = folded_through(*conn);
    if (cp_start == 0 && cp >= static_cast<std::int64_t>(first)) {
      cp_start = cp;
      t_start = Steady::now();
      cpu_start = cpu_now();
    }
    if (cp >= static_cast<std::int64_t>(last)) break;
    for (std::size_t i = 0; i < pids.size(); ++i) {
      if (waitpid(pids[i], nullptr, WNOHANG) == pids[i])
        die("rmm-projector exited; see " + logs[i]);
    }
    std::this_thread::sleep_for(5ms);
  }
  double elapsed = seconds_since(t_start);
  cpu_end = cpu_now();
  for (pid_t p : pids) stop(p);
  if (cp < static_cast<std::int64_t>(last)) die("the projector did not catch up; see " + logs[0]);
  for (const auto& l : logs) std::filesystem::remove(l);
  const double events = static_cast<double>(cp - cp_start);
  return {.rate = events / elapsed,
          .cpu_ms_per_1000 = events > 0 ? (cpu_end - cpu_start) * 1e6 / events : 0};
}

// `rmm-projector rebuild --rebuild-parallel=<mode>` on the bench database: replays the whole
// stream into a fresh schema and swaps it in. Its rate is as it logs it: the messages folded over
// the seconds of the fold (with a parallel rebuild: the archived prefix, the units and the
// catch-up) and the index build; its CPU is the rmm-projector process's, and PostgreSQL's over the
// same command when it runs on this machine.
Rebuilt rebuild(const Args& a, const std::string& db_url, const std::string& mode) {
  const std::string log_path = fmt::format("/tmp/rmm-bench-rebuild-{}.log", ::getpid());
  auto pg = must(pg::connect(db_url), "bench database");
  const double pg_cpu_start = postgres_cpu_seconds(*pg);
  const auto t0 = Steady::now();
  pid_t pid =
      spawn({a.projector, "rebuild", "--rebuild-parallel=" + mode, "--nats-url=" + a.nats_url,
             "--nats-creds=" + a.nats_creds, "--pg-url=" + db_url, "--log-level=info",
             "--migrations-dir=" RMM_MIGRATIONS_SOURCE_DIR},
            log_path);
  int status = 0;
  struct rusage usage {};
  auto deadline = Steady::now() + 900s;
  while (wait4(pid, &status, WNOHANG, &usage) != pid) {
    if (Steady::now() > deadline) {
      stop(pid);
      die("rmm-projector rebuild did not finish; see " + log_path);
    }
    std::this_thread::sleep_for(20ms);
  }
  Rebuilt r;
  r.wall_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("rebuild failed; see " + log_path);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  r.cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  // The command's backends count once they ended and the postmaster reaped them.
  for (int i = 0; i < 200; ++i) {
    pqxx::nontransaction tx(*pg);
    if (tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                 "pid <> pg_backend_pid()")[0]
            .as<int>() == 0) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(200ms);
  r.pg_cpu_seconds = postgres_cpu_seconds(*pg) - pg_cpu_start;
  std::ifstream in(log_path);
  std::string line;
  while (std::getline(in, line)) {
    const bool folded = line.find("msg=rebuild.folded") != std::string::npos;
    // The index build after the load is part of the rebuild's cost.
    const bool indexed = line.find("msg=rebuild.indexed") != std::string::npos;
    if (!folded && !indexed) continue;
    auto field = [&](std::string_view key) {
      auto at = line.find(fmt::format(" {}=", key));
      return at == std::string::npos ? 0.0
                                     : std::strtod(line.c_str() + at + key.size() + 2, nullptr);
    };
    if (folded) r.messages = static_cast<std::uint64_t>(field("checkpoint"));
    r.seconds += field("seconds");
  }
  if (r.messages == 0 || r.seconds <= 0) die("no rebuild.folded line in " + log_path);
  std::filesystem::remove(log_path);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  const Args a = parse_args(argc, argv);
  auto nats_conn =
      must(nats::Connection::connect(
               {.url = a.nats_url, .creds_file = a.nats_creds, .name = "rmm-bench-projector"}),
           "nats-url");
  auto base_pg = must(pg::connect(a.pg_url), "pg-url");
  const std::string db_name = fmt::format("rmm_bench_projector_{}", ::getpid());
  {
    pqxx::nontransaction tx(*base_pg);
    tx.exec("CREATE DATABASE " + db_name);
  }
  const std::string db_url = with_database(a.pg_url, db_name);
  int exit_code = 0;
  try {
    auto events = make_events(a);
    double publish_rate = 0;
    const std::uint64_t before = stream_last_seq(*nats_conn);
    const std::uint64_t last = publish(*nats_conn, events, publish_rate);
    const std::uint64_t first = before + 1;
    const double fetch_rate = fetch_ceiling(*nats_conn, before, events.size(), a.batch_size);

    auto db = must(pg::connect(db_url), "bench database");
    must(projector::db::apply_migrations(*db, RMM_MIGRATIONS_SOURCE_DIR), "migrations");
    std::int64_t rows = 0;
    const double copy_rows_rate = copy_ceiling(*db, events, a.batch_size, rows);
    const double rows_per_event = static_cast<double>(rows) / static_cast<double>(events.size());
    const Fold fold = fold_rate(a, db_url, first, last);
    const Rebuilt serial = rebuild(a, db_url, "off");
    const std::optional<Rebuilt> parallel =
        a.rebuild_parallel ? std::optional(rebuild(a, db_url, "on")) : std::nullopt;
    print_report(a, {.events = events.size(),
                     .rows_per_event = rows_per_event,
                     .publish_rate = publish_rate,
                     .fetch_rate = fetch_rate,
                     .copy_rows_rate = copy_rows_rate,
                     .fold_rate = fold.rate,
                     .fold_cpu_ms_per_1000 = fold.cpu_ms_per_1000,
                     .rebuild = serial,
                     .parallel_rebuild = parallel});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-projector: %s\n", e.what());
    exit_code = 1;
  }
  try {
    pqxx::nontransaction tx(*base_pg);
    tx.exec("DROP DATABASE IF EXISTS " + db_name + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-projector: dropping %s: %s\n", db_name.c_str(), e.what());
  }
  return exit_code;
}
