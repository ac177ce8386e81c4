#include "projector/db/batch_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>

#include "projector/db/agent_rows.h"
#include "projector/db/control_plane_batch.h"
#include "projector/db/dead_letters.h"
#include "projector/db/read_model_batch.h"
#include "projector/db/sql_text.h"
#include "projector/db/swap_guard.h"

namespace rmm::projector::db {
namespace {

// What the control archive can hold: a control event, folded or ignored by this build, or one
// that fails to decode (a dead letter of a control subject; a replay dead-letters it too).
bool is_control(const BatchItem& item) {
  if (std::holds_alternative<ControlEvent>(item.decoded)) return true;
  if (std::holds_alternative<Ignored>(item.decoded)) return true;  // only control subjects
  const auto* dl = std::get_if<DeadLetter>(&item.decoded);
  return dl != nullptr && dl->subject.starts_with("rmm.ctl.");
}

}  // namespace

BatchWriter::BatchWriter(pqxx::connection& conn, std::string projection)
    : conn_(conn),
      projection_(std::move(projection)),
      recorded_as_(projection_.substr(0, projection_.find('/'))),
      partitions_(conn) {
  ReadModelBatch::prepare(conn_);
}

void BatchWriter::skip_raw_metrics_before(UnixNanos from) {
  raw_metrics_from_ = from;
  // The lowest time stands for "no limit" (and would overflow the day arithmetic).
  first_raw_day_ = from == std::numeric_limits<UnixNanos>::min()
                       ? std::numeric_limits<std::int64_t>::min()
                       : utc_day(ns_to_micros(from));
}

Result<StreamSeq> BatchWriter::read_checkpoint() {
  try {
    pqxx::work tx(conn_);
    auto r = tx.exec_params("SELECT stream_seq FROM projection_checkpoints WHERE projection = $1",
                            projection_);
    tx.commit();
    if (r.empty()) return StreamSeq{0};
    return StreamSeq{r[0][0].as<std::uint64_t>()};
  } catch (const std::exception& e) {
    return failf("reading checkpoint of projection '{}': {}", projection_, e.what());
  }
}

Result<BatchStats> BatchWriter::write(std::span<const BatchItem> items) {
  return write_checked(items, nullptr);
}

Result<BatchStats> BatchWriter::write(std::span<const BatchItem> items,
                                      const Continuity& continuity) {
  return write_checked(items, &continuity);
}

Result<BatchStats> BatchWriter::write(std::span<const BatchItem> items,
                                      const UnitContinuity& unit) {
  return write_checked(items, nullptr, &unit);
}

namespace {

// The lowest watermark of `peers` in `tx`, 0 while one of them has no row.
std::uint64_t lowest_watermark(pqxx::transaction_base& tx, std::span<const std::string> peers) {
  if (peers.empty()) return std::numeric_limits<std::int64_t>::max();
  auto r = tx.exec_params1(
      "SELECT coalesce(min(watermark), 0), count(*) FROM projection_checkpoints "
      "WHERE projection = ANY(string_to_array($1, ','))",
      fmt::format("{}", fmt::join(peers, ",")));
  if (r[1].as<std::size_t>() < peers.size()) return 0;
  return r[0].as<std::uint64_t>();
}

}  // namespace

Result<StreamSeq> BatchWriter::peer_watermark(std::span<const std::string> peers) {
  try {
    pqxx::read_transaction tx(conn_);
    return StreamSeq{lowest_watermark(tx, peers)};
  } catch (const std::exception& e) {
    return failf("reading the peer watermarks of projection '{}': {}", projection_, e.what());
  }
}

Status BatchWriter::publish_watermark(StreamSeq watermark) {
  try {
    pqxx::work tx(conn_);
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, watermark, updated_at) "
        "VALUES ($1, 0, $2, now()) ON CONFLICT (projection) DO UPDATE "
        "SET watermark = GREATEST(projection_checkpoints.watermark, EXCLUDED.watermark)",
        projection_, static_cast<std::int64_t>(watermark.value));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("publishing the watermark of projection '{}': {}", projection_, e.what());
  }
}

Status BatchWriter::publish_wanted(StreamSeq wanted) {
  try {
    pqxx::work tx(conn_);
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, wanted, updated_at) "
        "VALUES ($1, 0, $2, now()) ON CONFLICT (projection) DO UPDATE "
        "SET wanted = GREATEST(projection_checkpoints.wanted, EXCLUDED.wanted)",
        projection_, static_cast<std::int64_t>(wanted.value));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("publishing what projection '{}' waits for: {}", projection_, e.what());
  }
}

Result<StreamSeq> BatchWriter::peer_wanted(std::span<const std::string> peers) {
  try {
    pqxx::read_transaction tx(conn_);
    auto r = tx.exec_params1(
        "SELECT coalesce(max(wanted), 0) FROM projection_checkpoints "
        "WHERE projection = ANY(string_to_array($1, ','))",
        fmt::format("{}", fmt::join(peers, ",")));
    return StreamSeq{r[0].as<std::uint64_t>()};
  } catch (const std::exception& e) {
    return failf("reading what the peers of projection '{}' wait for: {}", projection_, e.what());
  }
}

Result<BatchStats> BatchWriter::write_checked(std::span<const BatchItem> items,
                                              const Continuity* continuity,
                                              const UnitContinuity* unit) {
  BatchStats stats;
  // Partitions first, each in its own short transaction: creating one is harmless if the batch
  // then fails, and the batch transaction holds no DDL locks.
  if (auto st = partitions_.ensure_days(ReadModelBatch::metric_days(items), first_raw_day_); !st) {
    return std::unexpected(st.error());
  }
  try {
    pqxx::work tx(conn_);
    tx.exec(std::string(kSwapGuardSharedSql));  // first: before any table name is resolved
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, updated_at) "
        "VALUES ($1, 0, now()) ON CONFLICT (projection) DO NOTHING",
        projection_);
    auto cp = tx.exec_params1(
        "SELECT stream_seq FROM projection_checkpoints WHERE projection = $1 FOR UPDATE",
        projection_);
    const std::uint64_t checkpoint = cp[0].as<std::uint64_t>();

    // Stream order, one item per stream sequence: a batch may hold a redelivered message twice.
    std::vector<const BatchItem*> todo;
    std::set<std::uint64_t> seen;
    for (const auto& item : items) {
      if (item.stream_seq.value <= checkpoint || !seen.insert(item.stream_seq.value).second) {
        ++stats.already_checkpointed;
        continue;
      }
      todo.push_back(&item);
    }
    std::sort(todo.begin(), todo.end(),
              [](const BatchItem* a, const BatchItem* b) { return a->stream_seq < b->stream_seq; });
    if (unit != nullptr) {
      if (checkpoint < unit->checkpoint.value) {
        return fail(Error::Code::kConflict,
                    fmt::format("checkpoint of projection '{}' is {}, behind the {} this projector "
                                "committed: the read models were changed under it",
                                projection_, checkpoint, unit->checkpoint.value));
      }
      // Peers only ever raise their watermarks, so one read is enough: what it allows now stays
      // allowed until this transaction commits.
      const std::uint64_t barrier = lowest_watermark(tx, unit->peers);
      if (!todo.empty() && todo.back()->stream_seq.value - 1 > barrier) {
        return fail(Error::Code::kConflict,
                    fmt::format("batch of projection '{}' holds sequence {}, past its peers' "
                                "watermark {}",
                                projection_, todo.back()->stream_seq.value, barrier));
      }
      if (const auto& l = unit->loss) {
        std::vector<std::uint64_t> recovered;
        for (const auto* item : todo) {
          const std::uint64_t seq = item->stream_seq.value;
          if (seq < l->from.value || seq > l->to.value) continue;
          if (!is_control(*item)) {
            return fail(Error::Code::kConflict,
                        fmt::format("batch of projection '{}' holds sequence {}, proven deleted "
                                    "({}-{}), and it is no control event from the archive",
                                    projection_, seq, l->from.value, l->to.value));
          }
          recovered.push_back(seq);
        }
        stats.recovered = recovered.size();
        stats.lost = record_unit_stream_loss(tx, recorded_as_, projection_, *l, recovered);
      }
    }
    std::optional<StreamLoss> loss;
    if (continuity != nullptr) {
      // A checkpoint ahead of the caller's belief is a rebuild's swap (its schema caught up with
      // and passed the live one) or this very batch, committed by an attempt whose outcome was in
      // doubt: the items at or below it were skipped above. One behind it means the read models
      // went back under a running projector.
      if (checkpoint < continuity->checkpoint.value) {
        return fail(Error::Code::kConflict,
                    fmt::format("checkpoint of projection '{}' is {}, behind the {} this projector "
                                "committed: the read models were changed under it",
                                projection_, checkpoint, continuity->checkpoint.value));
      }
      const auto& l = continuity->loss;
      auto proven = [&](std::uint64_t from, std::uint64_t to) {
        return l && l->from.value <= from && to <= l->to.value;
      };
      std::uint64_t next = checkpoint + 1;
      for (const auto* item : todo) {
        const std::uint64_t seq = item->stream_seq.value;
        if (seq != next && !proven(next, seq - 1)) {
          return fail(Error::Code::kConflict,
                      fmt::format("batch of projection '{}' does not continue its checkpoint {}: "
                                  "expected sequence {}, got {}{}",
                                  projection_, checkpoint, next, seq,
                                  l ? fmt::format(" (sequences {}-{} proven deleted)",
                                                  l->from.value, l->to.value)
                                    : ""));
        }
        // The stream no longer holds the proven range: what the batch has of it can only be the
        // control events the archive kept.
        if (proven(seq, seq) && !is_control(*item)) {
          return fail(Error::Code::kConflict,
                      fmt::format("batch of projection '{}' holds sequence {}, proven deleted "
                                  "({}-{}), and it is no control event from the archive",
                                  projection_, seq, l->from.value, l->to.value));
        }
        next = seq + 1;
      }
      // The part of the proven range this batch moves the checkpoint over, less the control
      // events it folds there, is gone. A range the archive filled completely lost nothing.
      if (l && !todo.empty()) {
        const std::uint64_t from = std::max(l->from.value, checkpoint + 1);
        const std::uint64_t to = std::min(l->to.value, todo.back()->stream_seq.value);
        if (from <= to) {
          std::uint64_t recovered = 0;
          for (const auto* item : todo) {
            const std::uint64_t seq = item->stream_seq.value;
            if (seq >= from && seq <= to) ++recovered;
          }
          stats.recovered = recovered;
          if (recovered < to - from + 1) {
            loss = StreamLoss{l->stream, StreamSeq{from}, StreamSeq{to}, l->reason, recovered};
          }
        }
      }
    }

    std::set<AgentId> agent_ids;
    for (const auto* item : todo) {
      if (const auto* ev = std::get_if<AgentEvent>(&item->decoded)) agent_ids.insert(ev->agent);
    }
    std::map<AgentId, AgentRow> rows;
    if (!agent_ids.empty()) load_agent_rows(tx, agent_ids, rows);
    // Ordered events at or below the stored last_seq may fill a gap recorded earlier.
    std::vector<LateEvent> late;
    for (const auto* item : todo) {
      const auto* ev = std::get_if<AgentEvent>(&item->decoded);
      if (ev == nullptr || ev->lane != schema::Lane::Ordered) continue;
      auto row = rows.find(ev->agent);
      const auto seq = static_cast<std::int64_t>(ev->seq.value);
      if (row != rows.end() && row->second.exists && seq <= row->second.last_seq) {
        late.push_back({ev->agent, seq});
      }
    }
    const auto stored_gaps = load_open_gaps(tx, late);
    auto gaps = stored_gaps;

    ControlPlaneBatch control_plane(tx, todo, rows);
    std::set<AgentId> changed;
    ReadModelBatch read_models;
    DeadLetterBatch dead_letters;
    std::uint64_t highest = checkpoint;
    for (const auto* item : todo) {
      highest = std::max(highest, item->stream_seq.value);
      if (const auto* ev = std::get_if<AgentEvent>(&item->decoded)) {
        auto& row = rows[ev->agent];
        auto gap = detect_gap(row, *ev);
        const bool first = !row.exists;
        switch (fold(row, *ev, gaps[ev->agent])) {
          case FoldOutcome::kApplied:
          case FoldOutcome::kSeen:  // a heartbeat: no body
            ++stats.applied;
            changed.insert(ev->agent);
            read_models.add(*ev, item->stream_seq);
            control_plane.on_agent_event(tx, *ev, item->stream_seq, gap, first);
            break;
          case FoldOutcome::kFilled:
            ++stats.applied;
            ++stats.filled;
            changed.insert(ev->agent);
            read_models.add(*ev, item->stream_seq);
            control_plane.on_late_agent_event(*ev, item->stream_seq);
            break;
          case FoldOutcome::kDuplicate:
            ++stats.duplicates;
            break;
        }
      } else if (const auto* ce = std::get_if<ControlEvent>(&item->decoded)) {
        if (auto refused = control_plane.on_control_event(tx, *ce, item->stream_seq)) {
          tx.exec_params0(
              "INSERT INTO dead_letters (projection, stream_seq, subject, reason) "
              "VALUES ($1, $2, $3, $4)",
              recorded_as_, static_cast<std::int64_t>(item->stream_seq.value), refused->subject,
              refused->reason);
          ++stats.dead_letters;
        } else {
          ++stats.applied;
        }
      } else if (const auto* dl = std::get_if<DeadLetter>(&item->decoded)) {
        dead_letters.add(*dl, item->stream_seq);
      } else {
        ++stats.ignored;
      }
    }
    const auto dead = dead_letters.write(tx, recorded_as_);
    stats.dead_letters += dead.stored;  // after the refused control events counted above
    stats.dead_letters_dropped = dead.dropped;
    store_agent_rows(tx, rows, changed);
    store_gap_changes(tx, stored_gaps, gaps);
    read_models.write(tx, raw_metrics_from_);
    control_plane.finish(tx);
    stats.metric_samples = static_cast<int>(read_models.samples());
    if (loss) {
      record_stream_loss(tx, projection_, *loss);
      stats.lost = loss->to.value - loss->from.value + 1 - loss->recovered;
    }
    if (unit != nullptr) {
      // Over a proven-deleted range: the unit has nothing more to fold below its end.
      if (unit->loss) highest = std::max(highest, unit->loss->to.value);
      tx.exec_params0(
          "UPDATE projection_checkpoints SET stream_seq = $2, "
          "watermark = GREATEST(watermark, $2, $3), updated_at = now() WHERE projection = $1",
          projection_, static_cast<std::int64_t>(highest),
          static_cast<std::int64_t>(unit->watermark.value));
    } else if (highest > checkpoint) {
      tx.exec_params0(
          "UPDATE projection_checkpoints SET stream_seq = $2, updated_at = now() "
          "WHERE projection = $1",
          projection_, static_cast<std::int64_t>(highest));
    }
    tx.commit();
    stats.checkpoint = StreamSeq{highest};
    return stats;
  } catch (const std::exception& e) {
    partitions_.forget();  // in case a partition was dropped behind our back
    return failf("writing batch of projection '{}': {}", projection_, e.what());
  }
}

}  // namespace rmm::projector::db
