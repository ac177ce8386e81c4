#include "projector/rebuild/snapshot.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "common/jetstream_reply.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/service_inboxes.h"
#include "common/time_text.h"
#include "projector/db/dead_letters.h"
#include "projector/db/partitions.h"
#include "projector/rebuild/read_model_schema.h"
#include "projector/rebuild/replay.h"

namespace rmm::projector::rebuild {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kScratchPrefix = "rmm_snapshot";
// How long the first message after T may take to arrive once the stream says there is one.
constexpr auto kFirstAfterWait = 10s;

constexpr int kRefused = 2;

bool is_reserved(std::string_view name) {
  constexpr std::array kNames = {std::string_view("public"), std::string_view("auth"),
                                 std::string_view("information_schema")};
  constexpr std::array kPrefixes = {
      std::string_view("pg_"), std::string_view("rmm_rebuild_"), std::string_view("rmm_verify_"),
      std::string_view("rmm_retired_"), std::string_view("rmm_snapshot_")};
  for (auto n : kNames) {
    if (name == n) return true;
  }
  for (auto p : kPrefixes) {
    if (name.starts_with(p)) return true;
  }
  return name == kLiveSchema;
}

// The first stream sequence stored after `t`, by an ordered consumer that starts there (nullopt if
// none arrives in time).
Result<std::optional<std::uint64_t>> first_seq_after(nats::Connection& conn,
                                                     const std::string& stream, UnixNanos t) {
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartTime;
  // Possibly earlier than t + 1 (nats.c's time format): what comes before is skipped below.
  so.Config.OptStartTime = nats::wire_start_time(t + 1);
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, js, ">", nullptr, &so, &code);
  if (s != NATS_OK) {
    jsCtx_Destroy(js);
    return std::unexpected(
        nats::to_error(s, fmt::format("consumer from a start time on {} (JetStream error {})",
                                      stream, static_cast<int>(code))));
  }
  const auto deadline = Steady::now() + kFirstAfterWait;
  std::optional<std::uint64_t> seq;
  std::string bad_reply;
  // Bounded by the deadline: at most a tenth of a second of messages comes before t.
  while (!seq && bad_reply.empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
      s = NATS_TIMEOUT;
      break;
    }
    natsMsg* raw = nullptr;
    s = natsSubscription_NextMsg(&raw, sub, static_cast<std::int64_t>(left.count()) + 1);
    if (s != NATS_OK) break;
    const char* r = natsMsg_GetReply(raw);
    auto info = nats::parse_delivery_reply(r != nullptr ? r : "");
    if (!info) {
      bad_reply = r != nullptr ? r : "none";
    } else if (info->stream_time > t) {
      seq = info->stream_seq;
    }
    natsMsg_Destroy(raw);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  if (!bad_reply.empty())
    return failf("a delivery without a JetStream reply subject ({})", bad_reply);
  if (s == NATS_TIMEOUT) return std::optional<std::uint64_t>{};
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "reading from a start time"));
  return seq;
}

// A moment before the oldest message the stream still holds cannot be rebuilt: the control
// events before it are in the archive, but the telemetry is gone, and the archive's own times
// are when it copied the events (all at once, for events archived when it was created).
Status check_reachable(nats::Connection& conn, const std::string& stream, UnixNanos t) {
  auto st = stream_state(conn, stream);
  if (!st) return std::unexpected(st.error());
  if (st->first <= StreamSeq{1}) return {};
  if (st->messages == 0) {
    return failf("{} no longer holds any message (all {} aged out): no moment can be rebuilt",
                 stream, st->last.value);
  }
  if (st->first_time > t) {
    return failf(
        "{} starts at {} (sequence {}): the events before it aged out, so the read "
        "models as of {} cannot be rebuilt",
        stream, format_time_utc(st->first_time), st->first.value, format_time_utc(t));
  }
  return {};
}

// The schema's COMMENT, or nullopt when there is no such schema.
std::optional<std::string> schema_comment(pqxx::transaction_base& tx, const std::string& name) {
  auto r = tx.exec_params(
      "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace "
      "WHERE nspname = $1",
      name);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

// Why the snapshot may not take `name` now ("" when it may).
std::string refusal(pqxx::transaction_base& tx, const SnapshotOptions& o) {
  auto comment = schema_comment(tx, o.schema);
  if (!comment) return {};
  if (!o.replace) return fmt::format("schema {} exists (--replace replaces a snapshot)", o.schema);
  if (!comment->starts_with(kSnapshotMarker)) {
    return fmt::format("schema {} exists and is not a snapshot: not replacing it", o.schema);
  }
  return {};
}

// The scratch schema becomes `o.schema`, replacing an earlier snapshot when allowed.
Status publish(pqxx::connection& conn, const std::string& scratch, const SnapshotOptions& o,
               StreamSeq bound, std::string& refused) {
  try {
    pqxx::work tx(conn);
    // Serialises runs for the same name between the check and the rename.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                   fmt::format("rmm-snapshot:{}", o.schema));
    refused = refusal(tx, o);
    if (!refused.empty()) return fail(refused);
    if (schema_comment(tx, o.schema)) {
      tx.exec0(fmt::format("DROP SCHEMA {} CASCADE", tx.quote_name(o.schema)));
    }
    tx.exec0(fmt::format("ALTER SCHEMA {} RENAME TO {}", tx.quote_name(scratch),
                         tx.quote_name(o.schema)));
    const auto comment = fmt::format("{} until {} stream {} seq {}", kSnapshotMarker,
                                     format_time_utc(o.until), o.base.stream, bound.value);
    // esc() inside the quotes, not quote(): GCC 12 warns (-Wrestrict, a false positive) at -O3 on
    // the string concatenation quote() inlines.
    tx.exec0(fmt::format("COMMENT ON SCHEMA {} IS '{}'", tx.quote_name(o.schema), tx.esc(comment)));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("renaming {} to {}: {}", scratch, o.schema, e.what());
  }
}

}  // namespace

Status check_snapshot_schema_name(std::string_view name) {
  if (name.empty()) return fail(Error::Code::kInvalidInput, "a snapshot needs --schema NAME");
  if (name.size() > 63) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("schema name {} is longer than 63 bytes", name));
  }
  if (name.front() < 'a' || name.front() > 'z') {
    return fail(Error::Code::kInvalidInput,
                fmt::format("schema name {}: must start with a lower-case letter", name));
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return fail(Error::Code::kInvalidInput,
                  fmt::format("schema name {}: only a-z, 0-9 and _ are allowed", name));
    }
  }
  if (is_reserved(name)) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("schema name {} is reserved (the live read models, the API's or a "
                            "scratch schema)",
                            name));
  }
  return {};
}

Result<StreamSeq> last_seq_at_or_before(nats::Connection& conn, const std::string& stream,
                                        UnixNanos t) {
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &code);
  jsCtx_Destroy(js);
  if (s != NATS_OK)
    return std::unexpected(nats::to_error(s, fmt::format("looking up stream {}", stream)));
  const jsStreamState state = si->State;
  jsStreamInfo_Destroy(si);
  if (state.Msgs == 0 || state.FirstTime > t) return StreamSeq{0};
  if (state.LastTime <= t) return StreamSeq{state.LastSeq};
  // A message after t exists: the first one ends the range.
  auto first_after = first_seq_after(conn, stream, t);
  if (!first_after) return std::unexpected(first_after.error());
  if (!*first_after) {
    return failf("stream {} has messages after {} but none arrived", stream, format_time_utc(t));
  }
  return StreamSeq{**first_after - 1};
}

int run_snapshot(const SnapshotOptions& o, const std::atomic<bool>& stop) {
  if (auto st = check_snapshot_schema_name(o.schema); !st) {
    log::error("snapshot.refused", {{"error", st.error().message}});
    return kRefused;
  }
  auto live = pg::connect(o.base.pg_url, {.attempts = 5});
  if (!live) {
    log::error("snapshot.failed", {{"error", with_context(live.error(), "pg-url").message}});
    return 1;
  }
  try {
    pqxx::read_transaction tx(**live);
    if (auto why = refusal(tx, o); !why.empty()) {
      log::error("snapshot.refused", {{"error", why}});
      return kRefused;
    }
  } catch (const std::exception& e) {
    log::error("snapshot.failed", {{"error", e.what()}});
    return 1;
  }
  auto scratch_conn = pg::connect(o.base.pg_url, {.attempts = 5});
  if (!scratch_conn) {
    log::error("snapshot.failed", {{"error", scratch_conn.error().message}});
    return 1;
  }
  auto nats = nats::Connection::connect({.url = o.base.nats_url,
                                         .creds_file = o.base.nats_creds,
                                         .name = "rmm-snapshot",
                                         .inbox_prefix = std::string(nats::kProjectorInboxPrefix),
                                         .tls_ca_file = o.base.nats_ca,
                                         .tls_server_name = o.base.nats_tls_name});
  if (!nats) {
    log::error("snapshot.failed", {{"error", with_context(nats.error(), "nats-url").message}});
    return 1;
  }
  if (auto st = check_reachable(**nats, o.base.stream, o.until); !st) {
    log::error("snapshot.failed", {{"error", st.error().message}});
    return 1;
  }
  auto bound = last_seq_at_or_before(**nats, o.base.stream, o.until);
  if (!bound) {
    log::error("snapshot.failed", {{"error", bound.error().message}});
    return 1;
  }
  const std::string scratch = scratch_schema_name(kScratchPrefix);
  auto failed = [&](const Error& e) {
    log::error("snapshot.failed", {{"error", e.message}, {"schema", scratch}});
    if (auto st = drop_schema(**live, scratch); !st) {
      log::warn("snapshot.drop_failed", {{"error", st.error().message}});
    }
    return 1;
  };
  if (auto st = create_read_model_schema(**scratch_conn, scratch, o.base.migrations_dir); !st) {
    return failed(st.error());
  }
  log::info(
      "snapshot.schema_created",
      {{"schema", scratch}, {"until", format_time_utc(o.until)}, {"stream_seq", bound->value}});
  const auto t0 = Steady::now();
  std::uint64_t messages = 0;
  {
    auto indexes = defer_indexes(**scratch_conn, scratch);
    if (!indexes) return failed(indexes.error());
    // Raw rows in days that retention as of T drops below are not written in the first place.
    Replay replay(**scratch_conn, **nats,
                  {.stream = o.base.stream,
                   .archive = o.base.archive,
                   .batch_size = o.base.batch_size,
                   .skip_raw_metrics_before =
                       db::PartitionManager::first_kept_raw_day(o.until, o.base.metrics_retention)},
                  stop);
    if (auto st = replay.start(); !st) return failed(st.error());
    if (auto st = replay.run_until(*bound); !st) return failed(st.error());
    messages = replay.stats().messages;
    if (auto st = restore_indexes(**scratch_conn, *indexes); !st) return failed(st.error());
  }
  db::PartitionManager partitions(**scratch_conn);
  auto dropped =
      partitions.apply_retention(o.until, o.base.metrics_retention, o.base.rollup_retention);
  if (!dropped) return failed(dropped.error());
  if (auto expired = db::expire_dead_letters(**scratch_conn, o.until, o.base.dead_letter_retention);
      !expired) {
    return failed(expired.error());
  }
  std::string refused;
  if (auto st = publish(**live, scratch, o, *bound, refused); !st) {
    if (!refused.empty()) {
      // Another run took the name meanwhile.
      (void)drop_schema(**live, scratch);
      log::error("snapshot.refused", {{"error", refused}});
      return kRefused;
    }
    return failed(st.error());
  }
  const double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  log::info("snapshot.done", {{"schema", o.schema},
                              {"until", format_time_utc(o.until)},
                              {"stream_seq", bound->value},
                              {"messages", messages},
                              {"seconds", fmt::format("{:.2f}", secs)}});
  std::fputs(fmt::format("snapshot {}: {} messages up to stream sequence {} (the last at or before "
                         "{})\n",
                         o.schema, messages, bound->value, format_time_utc(o.until))
                 .c_str(),
             stdout);
  return 0;
}

}  // namespace rmm::projector::rebuild
