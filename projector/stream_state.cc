#include "projector/stream_state.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/nats_message.h"

namespace rmm::projector {
namespace {

int percent_of(std::uint64_t part, std::int64_t whole) {
  if (whole <= 0) return 0;
  // long double: part * 100 may not fit 64 bits; a percentage needs no more precision.
  const long double p = static_cast<long double>(part) * 100 / static_cast<long double>(whole);
  return static_cast<int>(std::min<long double>(p, 1'000'000));
}

// A message looked up by sequence: present, absent, or the lookup failed.
Result<natsMsg*> get_message(jsCtx* js, const std::string& stream, std::uint64_t seq) {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&msg, js, stream.c_str(), seq, nullptr, &code);
  if (s == NATS_OK) return msg;
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return nullptr;
  return std::unexpected(
      nats::to_error(s, fmt::format("looking up sequence {} of stream {}", seq, stream)));
}

}  // namespace

Result<std::optional<std::int64_t>> stream_message_time(jsCtx* js, const std::string& stream,
                                                        StreamSeq seq) {
  auto msg = get_message(js, stream, seq.value);
  if (!msg) return std::unexpected(msg.error());
  if (*msg == nullptr) return std::optional<std::int64_t>{};
  const std::int64_t t = natsMsg_GetTime(*msg);
  natsMsg_Destroy(*msg);
  return std::optional<std::int64_t>(t);
}

Result<GapVerdict> prove_deleted(jsCtx* js, const std::string& stream, StreamSeq from,
                                 StreamSeq to) {
  if (to < from) return GapVerdict{.deleted = true, .reason = "empty range"};
  auto state = nats::read_stream_usage(js, stream);
  if (!state) return std::unexpected(state.error());
  if (to.value < state->first_seq) {
    return GapVerdict{
        .deleted = true,
        .reason = fmt::format("below the stream's first sequence {}: deleted by its limits "
                              "(max_msgs {}, max_bytes {}, max_age {} s) or a purge",
                              state->first_seq, state->max_msgs, state->max_bytes,
                              state->max_age_ns / 1'000'000'000)};
  }
  const std::uint64_t start = std::max(from.value, state->first_seq);
  if (to.value - start + 1 > kMaxGapChecks) {
    return GapVerdict{
        .deleted = false,
        .reason = fmt::format("{} sequences from {} are past the stream's first "
                              "sequence {}: more than the {} looked up one by one",
                              to.value - start + 1, start, state->first_seq, kMaxGapChecks)};
  }
  for (std::uint64_t seq = start; seq <= to.value; ++seq) {
    auto msg = get_message(js, stream, seq);
    if (!msg) return std::unexpected(msg.error());
    if (*msg != nullptr) {
      natsMsg_Destroy(*msg);
      return GapVerdict{.deleted = false,
                        .reason = fmt::format("sequence {} is still in the stream", seq)};
    }
  }
  return GapVerdict{
      .deleted = true,
      .reason = start > from.value
                    ? fmt::format("below the stream's first sequence {} or deleted one by one",
                                  state->first_seq)
                    : std::string("each one deleted from the stream")};
}

LagReport assess_lag(const nats::StreamUsage& s, StreamSeq checkpoint, int warn_percent,
                     std::optional<std::int64_t> oldest_unfolded_age_ns) {
  LagReport r;
  const std::uint64_t unfolded_from = std::max(checkpoint.value + 1, s.first_seq);
  if (s.last_seq >= unfolded_from) {
    r.lag_msgs = std::min(s.last_seq - unfolded_from + 1, s.messages);
  }
  if (s.messages > 0) {
    r.lag_bytes = static_cast<std::uint64_t>(static_cast<long double>(s.bytes) *
                                             static_cast<long double>(r.lag_msgs) /
                                             static_cast<long double>(s.messages));
  }
  r.msgs_percent = percent_of(r.lag_msgs, s.max_msgs);
  r.bytes_percent = percent_of(r.lag_bytes, s.max_bytes);
  if (oldest_unfolded_age_ns && *oldest_unfolded_age_ns > 0 && r.lag_msgs > 0) {
    r.age_percent = percent_of(static_cast<std::uint64_t>(*oldest_unfolded_age_ns), s.max_age_ns);
  }
  r.near_limit =
      r.lag_msgs > 0 && std::max({r.msgs_percent, r.bytes_percent, r.age_percent}) >= warn_percent;
  if (s.first_seq > checkpoint.value + 1) r.lost = std::pair{checkpoint.value + 1, s.first_seq - 1};
  return r;
}

}  // namespace rmm::projector
