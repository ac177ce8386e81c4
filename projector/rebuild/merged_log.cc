#include "projector/rebuild/merged_log.h"

#include <fmt/format.h>

#include "common/log.h"

namespace rmm::projector::rebuild {
namespace {

using namespace std::chrono_literals;

// After the first message of a batch, wait this long for more before returning what is there.
constexpr auto kTopUpWait = 1ms;

}  // namespace

Result<std::unique_ptr<MergedLog>> MergedLog::open(nats::Connection& conn, LogOptions options,
                                                   StreamSeq first) {
  if (first.value == 0) first = StreamSeq{1};
  std::unique_ptr<MergedLog> log(new MergedLog(conn, std::move(options), first));
  auto stream = OrderedStream::open(conn, log->options_.stream, first);
  if (!stream) return std::unexpected(stream.error());
  log->stream_ = std::move(*stream);
  return log;
}

Status MergedLog::open_hole(StreamSeq before, std::optional<StreamMessage> after) {
  const StreamSeq last{before.value - 1};
  const auto what = fmt::format("{} no longer holds sequences {} to {}", options_.stream,
                                next_.value, last.value);
  if (!archive_) {
    if (options_.archive.empty()) {
      return failf("{} and no control archive is configured: their control events would be lost",
                   what);
    }
    auto archive = ControlArchive::open(conn_, options_.archive, options_.stream);
    if (!archive) return std::unexpected(with_context(archive.error(), what));
    archive_ = std::move(*archive);
  }
  log::info("rebuild.hole", {{"stream", options_.stream},
                             {"from", next_.value},
                             {"to", last.value},
                             {"archive", options_.archive}});
  const StreamSeq resume = after ? after->seq.next() : before;
  hole_ = Hole{.from = next_, .to = last, .next = std::move(after)};
  hole_archived_ = 0;
  next_ = resume;
  complete_from_ = before;
  return {};
}

Status MergedLog::fill_hole() {
  std::vector<StreamMessage> found;
  auto done =
      archive_->read(hole_->from, hole_->to, found, std::max<std::size_t>(options_.chunk, 1));
  if (!done) {
    return std::unexpected(with_context(
        done.error(), fmt::format("{} no longer holds sequences {} to {}", options_.stream,
                                  hole_->from.value, hole_->to.value)));
  }
  archived_ += found.size();
  hole_archived_ += found.size();
  if (!found.empty()) hole_->from = found.back().seq.next();
  for (auto& m : found) queue_.emplace_back(std::move(m));
  if (!*done) return {};
  log::info("rebuild.hole_filled", {{"stream", options_.stream},
                                    {"to", hole_->to.value},
                                    {"archive", options_.archive},
                                    {"control_events", hole_archived_}});
  queue_.emplace_back(Absent{hole_->to});
  if (hole_->next) queue_.emplace_back(std::move(*hole_->next));
  hole_.reset();
  return {};
}

Result<bool> MergedLog::fill(std::chrono::milliseconds wait) {
  if (hole_) {
    if (auto st = fill_hole(); !st) return std::unexpected(st.error());
    return true;
  }
  auto m = stream_->next(wait);
  if (!m) return std::unexpected(m.error());
  if (*m) {
    const StreamSeq seq = (*m)->seq;
    // Below next_: it was in a range already taken from the archive (deleted from the stream
    // after nats.c had buffered it). Its control events came from there.
    if (seq < next_) return true;
    if (seq > next_) {
      if (auto st = open_hole(seq, std::move(**m)); !st) return std::unexpected(st.error());
      return true;
    }
    queue_.emplace_back(std::move(**m));
    next_ = seq.next();
    return true;
  }
  // Nothing arrived: has the stream deleted what was not delivered yet (the end of the log aged
  // out, or everything)? An empty stream that held messages has first = last + 1.
  auto state = stream_state(conn_, options_.stream);
  if (!state) return std::unexpected(state.error());
  const StreamSeq first = state->messages == 0 ? state->last.next() : state->first;
  if (first <= next_) return false;
  if (auto st = open_hole(first, std::nullopt); !st) return std::unexpected(st.error());
  return true;
}

Status MergedLog::next_batch(std::vector<StreamMessage>& out, std::size_t max, StreamSeq upto,
                             std::chrono::milliseconds wait) {
  at_bound_ = false;
  std::size_t taken = 0;
  bool waited = false;
  // Bounded by `max` messages and by one wait plus top-ups that each must bring something.
  while (taken < max) {
    if (queue_.empty()) {
      auto got = fill(taken == 0 && !waited ? wait : std::chrono::milliseconds(kTopUpWait));
      waited = true;
      if (!got) return std::unexpected(got.error());
      if (!*got) return {};
      continue;
    }
    if (const auto* absent = std::get_if<Absent>(&queue_.front())) {
      through_ = std::max(through_, std::min(absent->through, upto));
      if (absent->through > upto) {
        at_bound_ = true;
        return {};
      }
      queue_.pop_front();
      continue;
    }
    auto& m = std::get<StreamMessage>(queue_.front());
    if (m.seq > upto) {
      at_bound_ = true;
      return {};
    }
    through_ = std::max(through_, m.seq);
    out.push_back(std::move(m));
    queue_.pop_front();
    ++taken;
  }
  return {};
}

}  // namespace rmm::projector::rebuild
