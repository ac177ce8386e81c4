#include "projector/loss_recovery.h"

#include <fmt/format.h>

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
      out.items.push_back({m.seq, decode_message(m.message.subject(), m.message.data())});
    }
    if (*done) return out;
    if (found.empty()) {
      return failf("reading {} for {} sequences {} to {}: no progress after {}", archive, stream,
                   from.value, to.value, next.value);
    }
    next = found.back().seq.next();
  }
}

}  // namespace rmm::projector
