#include "projector/loss_recovery.h"

#include <fmt/format.h>

#include "common/log.h"
#include "projector/rebuild/control_archive.h"

namespace rmm::projector {
namespace {

// Archived messages taken per read (each read returns at most this many).
constexpr std::size_t kChunk = 4096;

}  // namespace

Result<ArchivedControl> read_archived_control(nats::Connection& conn, const std::string& archive,
                                              const std::string& stream, StreamSeq from,
                                              StreamSeq to,
                                              std::chrono::milliseconds catch_up_wait) {
  ArchivedControl out;
  if (archive.empty()) {
    out.unavailable = "no control archive is configured (control-archive)";
    return out;
  }
  auto opened = rebuild::ControlArchive::open(conn, archive, stream);
  if (!opened) {
    // Missing or misconfigured stays so until an operator acts; anything else may pass.
    const auto code = opened.error().code;
    if (code == Error::Code::kNotFound || code == Error::Code::kInvalidInput) {
      out.unavailable = opened.error().message;
      return out;
    }
    return std::unexpected(opened.error());
  }
  auto& reader = **opened;
  reader.set_catch_up_wait(catch_up_wait);
  std::vector<rebuild::StreamMessage> found;
  // Bounded: each pass reads up to kChunk more messages of the range, which ends at `to`.
  for (StreamSeq next = from;;) {
    found.clear();
    auto done = reader.read(next, to, found, kChunk);
    if (!done) return std::unexpected(done.error());
    for (auto& m : found) {
      out.items.push_back(
          {m.seq, decode_message(m.message.subject(), m.message.data(), m.stored_at)});
    }
    if (*done) return out;
    if (found.empty()) {
      return failf("reading {} for {} sequences {} to {}: no progress after {}", archive, stream,
                   from.value, to.value, next.value);
    }
    next = found.back().seq.next();
  }
}

Result<RecoveredRange> recover_deleted_range(nats::Connection& conn, const std::string& stream,
                                             const std::string& archive, StreamSeq from,
                                             StreamSeq to, const std::string& proof,
                                             std::chrono::milliseconds catch_up_wait) {
  auto archived = read_archived_control(conn, archive, stream, from, to, catch_up_wait);
  if (!archived) {
    log::error("stream.gap_deferred",
               {{"stream", stream},
                {"from", from.value},
                {"to", to.value},
                {"archive", archive},
                {"error", archived.error().message},
                {"hint",
                 "the range's control events are kept in the archive, which could not supply "
                 "them yet; the projector tries again"}});
    return std::unexpected(archived.error());
  }
  const std::uint64_t recovered = archived->items.size();
  const std::uint64_t lost = to.value - from.value + 1 - recovered;
  std::string reason = proof;
  if (!archived->unavailable.empty()) {
    reason += "; control events lost too: " + archived->unavailable;
    log::error("stream.control_events_lost",
               {{"stream", stream},
                {"from", from.value},
                {"to", to.value},
                {"archive", archive},
                {"error", archived->unavailable},
                {"hint",
                 "tenancy, users, policies, enrollments or commands of this range may be "
                 "missing from the read models (docs/operations.md, When the stream "
                 "overflows)"}});
  }
  if (lost > 0) {
    log::error("stream.events_lost",
               {{"stream", stream},
                {"from", from.value},
                {"to", to.value},
                {"count", lost},
                {"control_events_recovered", recovered},
                {"archive", archive},
                {"reason", reason},
                {"hint",
                 "recorded in ops.stream_losses; acknowledge with 'rmm-projector losses "
                 "--acknowledge=all'"}});
  } else {
    log::warn("stream.events_recovered", {{"stream", stream},
                                          {"from", from.value},
                                          {"to", to.value},
                                          {"control_events_recovered", recovered},
                                          {"archive", archive},
                                          {"reason", reason}});
  }
  return RecoveredRange{.items = std::move(archived->items),
                        .loss = db::StreamLoss{stream, from, to, std::move(reason)}};
}

}  // namespace rmm::projector
