#include "projector/db/dead_letters.h"

#include <fmt/format.h>

#include <map>
#include <pqxx/result>
#include <utility>

#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr std::int64_t kMicrosPerHour = 3'600'000'000;

std::int64_t hour_of(UnixNanos stored_at) {
  const auto us = ns_to_micros(stored_at);
  return us - ((us % kMicrosPerHour) + kMicrosPerHour) % kMicrosPerHour;
}

struct HourCount {
  std::int64_t stored = 0, dropped = 0;
  bool changed = false;
};

}  // namespace

DeadLetterCounts DeadLetterBatch::write(pqxx::work& tx, const std::string& projection) const {
  DeadLetterCounts out;
  if (items_.empty()) return out;
  using Key = std::pair<std::string, std::int64_t>;  // source, hour (us)
  std::map<Key, HourCount> hours;
  PgArray sources, hour_list;
  for (const auto& item : items_) {
    auto [it, fresh] = hours.try_emplace(Key{item.dl->source, hour_of(item.dl->stored_at)});
    if (!fresh) continue;
    sources.add_text(it->first.first);
    hour_list.add(it->first.second);
  }
  auto loaded = tx.exec_params(
      "SELECT source, (extract(epoch from hour) * 1000000)::bigint, stored, dropped "
      "FROM dead_letter_hours WHERE projection = $1 AND source = ANY($2::text[]) AND hour = ANY("
      "SELECT timestamptz 'epoch' + h * interval '1 microsecond' FROM unnest($3::bigint[]) h)",
      projection, sources.take(), hour_list.take());
  for (const auto& r : loaded) {
    auto it = hours.find(Key{r[0].as<std::string>(), r[1].as<std::int64_t>()});
    if (it == hours.end()) continue;  // another hour of the same source
    it->second.stored = r[2].as<std::int64_t>();
    it->second.dropped = r[3].as<std::int64_t>();
  }

  PgArray seqs, subjects, reasons, raws, sizes, hashes, row_sources, stored_at;
  for (const auto& item : items_) {
    const auto& dl = *item.dl;
    auto& count = hours.at(Key{dl.source, hour_of(dl.stored_at)});
    count.changed = true;
    if (count.stored >= kDeadLettersPerSourceHour) {
      ++count.dropped;
      ++out.dropped;
      continue;
    }
    ++count.stored;
    ++out.stored;
    seqs.add(static_cast<std::int64_t>(item.stream_seq.value));
    subjects.add_text(dl.subject);
    reasons.add_text(dl.reason);
    raws.add_bytea(dl.raw);
    sizes.add(dl.raw_size);
    hashes.add_bytea(dl.raw_sha256);
    row_sources.add_text(dl.source);
    if (dl.stored_at == 0) {
      stored_at.add_null();
    } else {
      stored_at.add(ns_to_micros(dl.stored_at));
    }
  }
  if (out.stored > 0) {
    tx.exec_params0(
        "INSERT INTO dead_letters (projection, stream_seq, subject, reason, raw, raw_size, "
        "raw_sha256, source, stored_at) "
        "SELECT $1, seq, subject, reason, raw, raw_size, raw_sha256, source, "
        "timestamptz 'epoch' + at_us * interval '1 microsecond' "
        "FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::bigint[], "
        "$7::bytea[], $8::text[], $9::bigint[]) "
        "AS u(seq, subject, reason, raw, raw_size, raw_sha256, source, at_us)",
        projection, seqs.take(), subjects.take(), reasons.take(), raws.take(), sizes.take(),
        hashes.take(), row_sources.take(), stored_at.take());
  }
  PgArray count_sources, count_hours, count_stored, count_dropped;
  for (const auto& [key, count] : hours) {
    if (!count.changed) continue;
    count_sources.add_text(key.first);
    count_hours.add(key.second);
    count_stored.add(count.stored);
    count_dropped.add(count.dropped);
  }
  tx.exec_params0(
      "INSERT INTO dead_letter_hours AS d (projection, source, hour, stored, dropped) "
      "SELECT $1, source, timestamptz 'epoch' + hour_us * interval '1 microsecond', stored, "
      "dropped FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) "
      "AS u(source, hour_us, stored, dropped) "
      "ON CONFLICT (projection, source, hour) DO UPDATE SET stored = EXCLUDED.stored, "
      "dropped = EXCLUDED.dropped",
      projection, count_sources.take(), count_hours.take(), count_stored.take(),
      count_dropped.take());
  return out;
}

Result<std::int64_t> expire_dead_letters(pqxx::connection& conn, UnixNanos now,
                                         std::chrono::milliseconds keep) {
  const std::int64_t cutoff_us = ns_to_micros(now) - keep.count() * 1000;
  try {
    pqxx::work tx(conn);
    constexpr std::string_view kCutoff =
        "timestamptz 'epoch' + $1::bigint * interval '1 microsecond'";
    auto deleted = tx.exec_params(
        fmt::format("DELETE FROM dead_letters WHERE stored_at < {0} OR (stored_at IS NULL AND "
                    "received_at < {0})",
                    kCutoff),
        cutoff_us);
    tx.exec_params(fmt::format("DELETE FROM dead_letter_hours WHERE hour < {}", kCutoff),
                   cutoff_us);
    tx.commit();
    return static_cast<std::int64_t>(deleted.affected_rows());
  } catch (const std::exception& e) {
    return failf("deleting expired dead letters: {}", e.what());
  }
}

}  // namespace rmm::projector::db
