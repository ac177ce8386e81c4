#include "projector/rebuild/parallel_fold.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/pg.h"
#include "projector/db/projection_lock.h"
#include "projector/rebuild/ordered_stream.h"
#include "projector/rebuild/read_model_schema.h"
#include "projector/unit_runner.h"

namespace rmm::projector::rebuild {
namespace {

using Steady = std::chrono::steady_clock;

// A connection to the scratch schema, as the serial replay's: a crash loses the schema anyway.
Result<std::unique_ptr<pqxx::connection>> scratch_connection(const ParallelFoldOptions& o) {
  auto conn = pg::connect(o.pg_url, {.attempts = 5});
  if (!conn) return std::unexpected(with_context(conn.error(), "pg-url"));
  if (auto st = use_schema(**conn, o.schema); !st) return std::unexpected(st.error());
  try {
    pqxx::nontransaction tx(**conn);
    tx.exec0("SET synchronous_commit TO off");
  } catch (const std::exception& e) {
    return failf("setting synchronous_commit: {}", e.what());
  }
  return conn;
}

// The units' rows become one "core" checkpoint at `until`, once each unit proved it folded
// exactly its messages up to there.
Status merge_unit_checkpoints(pqxx::connection& conn, StreamSeq until) {
  try {
    pqxx::work tx(conn);
    const auto seq = static_cast<std::int64_t>(until.value);
    auto off = tx.exec_params1(
        "SELECT count(*), string_agg(projection || ' ' || stream_seq || '/' || watermark, ', ') "
        "FROM projection_checkpoints WHERE projection LIKE 'core/%' "
        "AND (GREATEST(stream_seq, watermark) < $1 OR stream_seq > $1)",
        seq);
    if (off[0].as<std::int64_t>() > 0) {
      return failf("the units did not end at sequence {}: {}", until.value,
                   off[1].as<std::string>());
    }
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, updated_at) "
        "VALUES ($1, $2, now()) ON CONFLICT (projection) DO UPDATE SET stream_seq = $2, "
        "updated_at = now()",
        std::string(db::kCoreProjection), seq);
    tx.exec0("DELETE FROM projection_checkpoints WHERE projection LIKE 'core/%'");
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("merging the unit checkpoints: {}", e.what());
  }
}

}  // namespace

Result<ParallelFoldStats> fold_in_parallel(nats::Connection& nats, const ParallelFoldOptions& o,
                                           StreamSeq from, StreamSeq until,
                                           const std::atomic<bool>& stop) {
  const auto t0 = Steady::now();
  auto control = scratch_connection(o);
  if (!control) return std::unexpected(control.error());
  const auto units = partitioned_units(o.partitions);
  std::vector<std::string> names;
  for (const auto& u : units) names.push_back(u.name);
  // Every unit starts at the serial prefix's end (the schema's "core" checkpoint).
  if (auto st = db::seed_unit_checkpoints(**control, names); !st)
    return std::unexpected(st.error());

  ProjectorOptions options;
  options.pg_url = o.pg_url;
  options.stream = o.stream;
  options.durable = o.durable;
  options.batch_size = o.fetch_batch;
  options.fetch_timeout = o.fetch_timeout;
  options.ticker = false;
  const UnitBound bound{.until = until, .skip_raw_metrics_before = o.skip_raw_metrics_before};

  BarrierSignal signal;  // declared before the runners: they use it to the end
  std::vector<std::unique_ptr<UnitRunner>> runners;
  for (const auto& u : units) {
    auto conn = scratch_connection(o);
    if (!conn) return std::unexpected(conn.error());
    auto runner = std::make_unique<UnitRunner>(options, u, nats, "", &signal);
    if (auto st = runner->adopt(std::move(*conn), bound); !st) return std::unexpected(st.error());
    runners.push_back(std::move(runner));
  }
  log::info("rebuild.parallel_started",
            {{"units", runners.size()}, {"from", from.value + 1}, {"until", until.value}});

  // One failed unit ends the others (its peers would wait for it for ever).
  std::atomic<bool> abort{false};
  std::vector<std::optional<Error>> errors(runners.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < runners.size(); ++i) {
    threads.emplace_back([&, i] {
      if (auto st = runners[i]->run(stop, abort); !st) {
        errors[i] = st.error();
        abort = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  ParallelFoldStats stats;
  for (auto& r : runners) {
    stats.messages += r->folded();
    r->delete_consumer();
  }
  runners.clear();  // their connections
  for (const auto& e : errors) {
    if (e) return std::unexpected(*e);
  }
  if (stop.load()) return fail("stopped by a signal");

  // A message the stream deleted before its unit read it was skipped, not folded: the serial
  // replay would have taken its control events from the archive.
  auto state = stream_state(nats, o.stream);
  if (!state) return std::unexpected(state.error());
  if (state->first.value > from.value + 1) {
    return failf(
        "{} deleted messages from sequence {} on while the units were folding them (its first "
        "sequence is now {}): rebuild with --rebuild-parallel=off, which fills such a range from "
        "the control archive",
        o.stream, from.value + 1, state->first.value);
  }
  if (auto st = merge_unit_checkpoints(**control, until); !st) return std::unexpected(st.error());
  stats.elapsed = Steady::now() - t0;
  return stats;
}

}  // namespace rmm::projector::rebuild
