#include "projector/rebuild/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/service_inboxes.h"
#include "projector/db/dead_letters.h"
#include "projector/db/partitions.h"
#include "projector/db/swap_guard.h"
#include "projector/rebuild/parallel_fold.h"
#include "projector/rebuild/read_model_schema.h"
#include "projector/rebuild/replay.h"
#include "projector/rebuild/verify.h"
#include "projector/settings.h"

namespace rmm::projector::rebuild {
namespace {

using Steady = std::chrono::steady_clock;

// Catch-up rounds before the swap: each replays what arrived during the previous one.
constexpr int kMaxCatchUpRounds = 20;
// verify of a partitioned projection: how long it looks for a snapshot whose units stand at one
// position of the log (30 s).
constexpr int kPrefixAttempts = 300;
constexpr auto kPrefixRetry = std::chrono::milliseconds(100);

struct Session {
  std::unique_ptr<pqxx::connection> live;     // search_path as configured: the live schema
  std::unique_ptr<pqxx::connection> scratch;  // search_path: the scratch schema only
  std::unique_ptr<nats::Connection> nats;
  std::string schema;
};

Result<Session> open_session(const CommandOptions& o, std::string_view prefix) {
  Session s;
  auto live = pg::connect(o.pg_url, {.attempts = 5});
  if (!live) return std::unexpected(with_context(live.error(), "pg-url"));
  s.live = std::move(*live);
  auto scratch = pg::connect(o.pg_url, {.attempts = 5});
  if (!scratch) return std::unexpected(with_context(scratch.error(), "pg-url"));
  s.scratch = std::move(*scratch);
  auto conn = nats::Connection::connect({.url = o.nats_url,
                                         .creds_file = o.nats_creds,
                                         .name = "rmm-projector-rebuild",
                                         .inbox_prefix = std::string(nats::kProjectorInboxPrefix),
                                         .tls_ca_file = o.nats_ca,
                                         .tls_server_name = o.nats_tls_name});
  if (!conn) return std::unexpected(with_context(conn.error(), "nats-url"));
  s.nats = std::move(*conn);
  s.schema = scratch_schema_name(prefix);
  if (auto st = create_read_model_schema(*s.scratch, s.schema, o.migrations_dir); !st) {
    (void)drop_schema(*s.live, s.schema);  // best effort: it may be half made
    return std::unexpected(st.error());
  }
  log::info("rebuild.schema_created", {{"schema", s.schema}});
  try {
    // A crash loses the scratch schema anyway; the swap's own commit is synchronous and flushes
    // the WAL written before it.
    pqxx::nontransaction tx(*s.scratch);
    tx.exec0("SET synchronous_commit TO off");
  } catch (const std::exception& e) {
    (void)drop_schema(*s.live, s.schema);
    return failf("setting synchronous_commit: {}", e.what());
  }
  return s;
}

// Raw metric rows in days that retention (as of now) drops right after the replay are skipped.
ReplayOptions replay_options(const CommandOptions& o) {
  return {.stream = o.stream,
          .archive = o.archive,
          .batch_size = o.batch_size,
          .skip_raw_metrics_before =
              db::PartitionManager::first_kept_raw_day(real_clock().now(), o.metrics_retention)};
}

double seconds(Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

void log_replay(std::string_view what, const Replay& r, Steady::duration elapsed) {
  const auto& s = r.stats();
  log::info(what, {{"checkpoint", r.checkpoint().value},
                   {"messages", s.messages},
                   {"from_archive", s.archived},
                   {"complete_from", s.complete_from.value},
                   {"applied", s.applied},
                   {"duplicates", s.duplicates},
                   {"dead_letters", s.dead_letters},
                   {"batches", s.batches},
                   {"seconds", fmt::format("{:.2f}", seconds(elapsed))},
                   {"events_per_s", fmt::format("{:.0f}", static_cast<double>(s.messages) /
                                                              std::max(seconds(elapsed), 1e-9))},
                   {"read_ms", static_cast<std::int64_t>(seconds(s.read) * 1000)},
                   {"decode_ms", static_cast<std::int64_t>(seconds(s.decode) * 1000)},
                   {"write_ms", static_cast<std::int64_t>(seconds(s.write) * 1000)},
                   {"writer_idle_ms", static_cast<std::int64_t>(seconds(s.write_wait) * 1000)}});
}

// The wall-clock upkeep the live projector does hourly, so the two schemas hold the same days.
Status partition_upkeep(pqxx::connection& scratch, const CommandOptions& o) {
  db::PartitionManager partitions(scratch);
  const UnixNanos now = real_clock().now();
  if (auto st = partitions.ensure_around(now); !st) return st;
  auto dropped = partitions.apply_retention(now, o.metrics_retention, o.rollup_retention);
  if (!dropped) return std::unexpected(dropped.error());
  auto expired = db::expire_dead_letters(scratch, now, o.dead_letter_retention);
  if (!expired) return std::unexpected(expired.error());
  return {};
}

// The live projector drops expired partitions by the wall clock, at upkeep times of its own;
// the scratch schema drops nothing. Rows past the retention cutoffs (as of now) are therefore
// left out of the comparison: every partition either side may have dropped lies before them.
RowFilters retention_filters(const CommandOptions& o) {
  const std::int64_t now_us = real_clock().now() / 1000;
  auto since = [&](std::string_view column, std::chrono::milliseconds keep) {
    return fmt::format("{} >= timestamptz 'epoch' + {} * interval '1 microsecond'", column,
                       now_us - keep.count() * 1000);
  };
  RowFilters f;
  f.emplace("metrics", since("ts", o.metrics_retention));
  f.emplace("metrics_hourly", since("hour", o.rollup_retention));
  // Dead letters from before migration 0014 have no stream time and are not compared.
  f.emplace("dead_letters", since("stored_at", o.dead_letter_retention));
  f.emplace("dead_letter_hours", since("hour", o.dead_letter_retention));
  return f;
}

// Replays the stream to its end, again until what arrived meanwhile is less than a batch.
Status catch_up(Replay& replay, nats::Connection& nats, const CommandOptions& o) {
  for (int round = 0; round < kMaxCatchUpRounds; ++round) {
    auto last = stream_last_seq(nats, o.stream);
    if (!last) return std::unexpected(last.error());
    if (last->value <= replay.checkpoint().value + o.batch_size && round > 0) return {};
    if (auto st = replay.run_until(*last); !st) return st;
  }
  return {};
}

// A control event below `complete_from` that the live read models audited but the rebuilt ones
// did not can only be one that the stream lost before the control archive existed (or an archive
// that was recreated): swapping would lose it for good, the live read models being its only
// record. ClockTicks are not audited, and need not be: they only drive telemetry alerts.
Status check_control_kept(pqxx::work& tx, const std::string& rebuilt, StreamSeq complete_from,
                          const CommandOptions& o) {
  auto r = tx.exec_params1(
      fmt::format("SELECT count(*), coalesce(min(l.stream_seq), 0) FROM {}.audit_log l WHERE "
                  "l.stream_seq < $1 AND NOT EXISTS (SELECT 1 FROM {}.audit_log b WHERE "
                  "b.stream_seq = l.stream_seq)",
                  tx.quote_name(std::string(kLiveSchema)), tx.quote_name(rebuilt)),
      static_cast<std::int64_t>(complete_from.value));
  const auto lost = r[0].as<std::int64_t>();
  if (lost == 0) return {};
  return failf(
      "the rebuilt read models lack {} control events that the live ones hold (their "
      "audit_log rows, the first at stream sequence {}): {} no longer holds them and "
      "the control archive {} does not either (was it created after they aged out?); "
      "not swapping, the live read models are their only record",
      lost, r[1].as<std::int64_t>(), o.stream, o.archive);
}

// Under the swap guard: the rebuilt schema catches up with the live checkpoint (the live
// projector is held at its next batch), then the two schemas trade names in one transaction.
Result<std::string> swap(Session& s, Replay& replay, StreamSeq complete_from,
                         const CommandOptions& o) {
  const std::string retired = scratch_schema_name("rmm_retired");
  try {
    pqxx::work tx(*s.live);
    tx.exec_params(std::string(db::kSwapGuardExclusiveSql), std::string(kLiveSchema));
    const auto live_checkpoint = schema_checkpoint(tx, std::string(kLiveSchema));
    if (live_checkpoint > replay.checkpoint()) {
      if (auto st = replay.run_until(live_checkpoint); !st) return std::unexpected(st.error());
    }
    complete_from = std::max(complete_from, replay.stats().complete_from);
    if (complete_from > StreamSeq{1}) {
      if (auto st = check_control_kept(tx, s.schema, complete_from, o); !st) {
        return std::unexpected(st.error());
      }
    }
    if (auto st = carry_unit_checkpoints(tx, std::string(kLiveSchema), s.schema,
                                         std::max(live_checkpoint, replay.checkpoint()));
        !st) {
      return std::unexpected(st.error());
    }
    tx.exec0(fmt::format("ALTER SCHEMA {} RENAME TO {}", tx.quote_name(std::string(kLiveSchema)),
                         tx.quote_name(retired)));
    tx.exec0(fmt::format("ALTER SCHEMA {} RENAME TO {}", tx.quote_name(s.schema),
                         tx.quote_name(std::string(kLiveSchema))));
    // What PostgreSQL grants on a new database's public schema.
    tx.exec0(
        fmt::format("GRANT USAGE ON SCHEMA {} TO PUBLIC", tx.quote_name(std::string(kLiveSchema))));
    tx.commit();
    log::info("rebuild.swapped", {{"live_checkpoint", live_checkpoint.value},
                                  {"rebuilt_checkpoint", replay.checkpoint().value},
                                  {"retired", retired}});
    return retired;
  } catch (const std::exception& e) {
    return failf("swapping schemas: {}", e.what());
  }
}

// Whether to fold with the units in parallel: as asked, or (auto) when the live read models are
// the partitioned projection's.
Result<bool> parallel_wanted(Session& s, const CommandOptions& o) {
  if (o.parallel != Parallel::kAuto) return o.parallel == Parallel::kOn;
  try {
    pqxx::read_transaction tx(*s.live);
    const std::string table = tx.quote_name(std::string(kLiveSchema)) + ".projection_checkpoints";
    if (!tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", table)[0].as<bool>()) return false;
    return tx.exec1("SELECT EXISTS (SELECT 1 FROM " + table + " WHERE projection LIKE 'core/%')")[0]
        .as<bool>();
  } catch (const std::exception& e) {
    return failf("reading the live checkpoints: {}", e.what());
  }
}

// The parallel fold (rebuild/parallel_fold.h): what the stream no longer holds (the control
// events the archive kept) serially, then the stream's messages to its current end with the
// units. Returns the prefix's complete_from. A stream with holes inside is left to the serial
// replay, which fills them from the archive.
Result<StreamSeq> fold_parallel(Session& s, const CommandOptions& o,
                                const std::atomic<bool>& stop) {
  auto state = stream_state(*s.nats, o.stream);
  if (!state) return std::unexpected(state.error());
  if (state->messages == 0 || state->messages != state->last.value + 1 - state->first.value) {
    log::warn("rebuild.parallel_skipped",
              {{"messages", state->messages},
               {"first", state->first.value},
               {"last", state->last.value},
               {"why", state->messages == 0 ? "the stream is empty"
                                            : "the stream has holes inside: replaying serially"}});
    return StreamSeq{1};
  }
  StreamSeq complete_from{1};
  StreamSeq from{state->first.value - 1};
  if (from.value > 0) {
    const auto t0 = Steady::now();
    Replay prefix(*s.scratch, *s.nats, replay_options(o), stop);
    if (auto st = prefix.start(); !st) return std::unexpected(st.error());
    if (auto st = prefix.run_until(from); !st) return std::unexpected(st.error());
    log_replay("rebuild.prefix_replayed", prefix, Steady::now() - t0);
    complete_from = prefix.stats().complete_from;
    from = prefix.checkpoint();
  }
  auto until = stream_last_seq(*s.nats, o.stream);
  if (!until) return std::unexpected(until.error());
  if (*until <= from) return complete_from;
  auto folded =
      fold_in_parallel(*s.nats,
                       {.pg_url = o.pg_url,
                        .schema = s.schema,
                        .stream = o.stream,
                        .durable = s.schema,
                        .partitions = kServerPartitions,
                        .fetch_batch = o.unit_fetch_batch,
                        .fetch_timeout = o.unit_fetch_timeout,
                        .skip_raw_metrics_before = replay_options(o).skip_raw_metrics_before},
                       from, *until, stop);
  if (!folded) return std::unexpected(folded.error());
  const double secs = seconds(folded->elapsed);
  log::info("rebuild.parallel_folded",
            {{"from", from.value + 1},
             {"until", until->value},
             {"messages", folded->messages},
             {"seconds", fmt::format("{:.2f}", secs)},
             {"events_per_s", fmt::format("{:.0f}", static_cast<double>(folded->messages) /
                                                        std::max(secs, 1e-9))}});
  return complete_from;
}

}  // namespace

int run_rebuild(const CommandOptions& o, const std::atomic<bool>& stop) {
  auto session = open_session(o, "rmm_rebuild");
  if (!session) {
    log::error("rebuild.failed", {{"error", session.error().message}});
    return 1;
  }
  auto& s = *session;
  auto failed = [&](const Error& e) {
    log::error("rebuild.failed", {{"error", e.message}, {"schema", s.schema}});
    if (auto st = drop_schema(*s.live, s.schema); !st) {
      log::warn("rebuild.drop_failed", {{"error", st.error().message}});
    }
    return 1;
  };
  Result<std::string> retired = fail("not swapped");
  {
    auto indexes = defer_indexes(*s.scratch, s.schema);
    if (!indexes) return failed(indexes.error());
    auto parallel = parallel_wanted(s, o);
    if (!parallel) return failed(parallel.error());
    const auto t0 = Steady::now();
    StreamSeq prefix_complete_from{1};
    if (*parallel) {
      auto folded = fold_parallel(s, o, stop);
      if (!folded) return failed(folded.error());
      prefix_complete_from = *folded;
    }
    Replay replay(*s.scratch, *s.nats, replay_options(o), stop);
    if (auto st = replay.start(); !st) return failed(st.error());
    if (auto st = catch_up(replay, *s.nats, o); !st) return failed(st.error());
    log_replay("rebuild.replayed", replay, Steady::now() - t0);
    log::info("rebuild.folded", {{"mode", *parallel ? "parallel" : "serial"},
                                 {"checkpoint", replay.checkpoint().value},
                                 {"seconds", fmt::format("{:.2f}", seconds(Steady::now() - t0))}});
    const auto t1 = Steady::now();
    if (auto st = restore_indexes(*s.scratch, *indexes); !st) return failed(st.error());
    log::info("rebuild.indexed", {{"indexes", indexes->size()},
                                  {"seconds", fmt::format("{:.2f}", seconds(Steady::now() - t1))}});
    if (auto st = partition_upkeep(*s.scratch, o); !st) return failed(st.error());
    retired = swap(s, replay, prefix_complete_from, o);
    if (!retired) return failed(retired.error());
  }
  if (o.keep_old_schema) {
    log::info("rebuild.kept_old_schema", {{"schema", *retired}});
  } else if (auto st = drop_schema(*s.live, *retired); !st) {
    log::warn("rebuild.drop_failed", {{"error", st.error().message}, {"schema", *retired}});
  }
  return 0;
}

int run_verify(const CommandOptions& o, const std::atomic<bool>& stop) {
  auto session = open_session(o, "rmm_verify");
  if (!session) {
    log::error("verify.failed", {{"error", session.error().message}});
    return 2;
  }
  auto& s = *session;
  int code = 2;
  try {
    // Nothing reads the scratch schema by index: it is compared whole, then dropped.
    if (auto indexes = defer_indexes(*s.scratch, s.schema); !indexes) {
      throw std::runtime_error(indexes.error().message);
    }
    Replay replay(*s.scratch, *s.nats, replay_options(o), stop);
    auto first_target = schema_checkpoint(*s.live, std::string(kLiveSchema));
    if (!first_target) throw std::runtime_error(first_target.error().message);
    const auto t0 = Steady::now();
    if (auto st = replay.start(); !st) throw std::runtime_error(st.error().message);
    if (auto st = replay.run_until(*first_target); !st)
      throw std::runtime_error(st.error().message);
    // One snapshot of the live schema: its rows and its checkpoint agree (a batch commits both).
    // A partitioned projection's snapshot is comparable once it is the fold of a prefix of the
    // log: between two batches of a busy stream its units stand at different places.
    using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read,
                                       pqxx::readwrite_policy::read_only>;
    auto live = std::make_unique<Snapshot>(*s.live);
    for (int attempt = 1; !folded_as_prefix(*live, std::string(kLiveSchema)); ++attempt) {
      if (attempt >= kPrefixAttempts || stop.load()) {
        throw std::runtime_error(
            "the partitioned projection's units never stood at one position of the log (a busy "
            "stream): verify needs a moment when they have caught up");
      }
      live.reset();
      std::this_thread::sleep_for(kPrefixRetry);
      live = std::make_unique<Snapshot>(*s.live);
    }
    const auto target = schema_checkpoint(*live, std::string(kLiveSchema));
    if (auto st = replay.run_until(target); !st) throw std::runtime_error(st.error().message);
    log_replay("verify.replayed", replay, Steady::now() - t0);
    pqxx::read_transaction rebuilt(*s.scratch);
    auto report = compare_schemas(*live, std::string(kLiveSchema), rebuilt, s.schema, o.max_diffs,
                                  retention_filters(o), replay.stats().complete_from);
    if (!report) throw std::runtime_error(report.error().message);
    std::fputs(
        fmt::format("verify at checkpoint {}: {}", target.value, format_report(*report)).c_str(),
        stdout);
    log::info("verify.done", {{"checkpoint", target.value},
                              {"tables", report->tables.size()},
                              {"not_comparable", report->not_comparable.size()},
                              {"complete_from", report->complete_from.value},
                              {"differ", report->differences.size()}});
    code = report->equal() ? 0 : 1;
  } catch (const std::exception& e) {
    log::error("verify.failed", {{"error", e.what()}, {"schema", s.schema}});
  }
  if (o.keep_old_schema) {
    log::info("verify.kept_scratch_schema", {{"schema", s.schema}});
  } else if (auto st = drop_schema(*s.live, s.schema); !st) {
    log::warn("verify.drop_failed", {{"error", st.error().message}, {"schema", s.schema}});
  }
  return code;
}

}  // namespace rmm::projector::rebuild
