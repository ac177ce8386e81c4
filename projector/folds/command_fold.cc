#include "projector/folds/command_fold.h"

#include <fmt/format.h>

#include "common/event_codec.h"
#include "projector/folds/telemetry.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

std::string text(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : storable_text(std::string_view(s->c_str(), s->size()));
}

CommandId id_of(const schema::Uuid* uuid) {
  return CommandId(codec::from_wire(uuid));
}

CommandChange received(const schema::CommandReceived& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "received",
          .kind = text(p.kind()),
          .issuer = text(p.issuer()),
          .command_stream_seq = clamp_u64(p.stream_seq()),
          .received_at = at};
}

CommandChange started(const schema::CommandStarted& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "started",
          .pid = static_cast<std::int64_t>(p.pid()),
          .started_at = at};
}

CommandChange output(const schema::CommandOutput& p) {
  CommandChange c{.command = id_of(p.command_id())};
  OutputChunk chunk{.chunk_index = p.chunk_index(),
                    .stream = static_cast<std::int16_t>(p.stream()),
                    .offset = clamp_u64(p.offset()),
                    .data = {},
                    .truncated = p.truncated()};
  if (const auto* d = p.data()) chunk.data.assign(d->begin(), d->end());
  if (chunk.truncated) (chunk.stream == 0 ? c.stdout_truncated : c.stderr_truncated) = true;
  c.chunks.push_back(std::move(chunk));
  return c;
}

CommandChange completed(const schema::CommandCompleted& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "completed",
          .duration_ms = clamp_u64(p.duration_ms()),
          .exit_code = p.exit_code(),
          .term_signal = p.term_signal(),
          .finished_at = at,
          .stdout_truncated = p.stdout_truncated(),
          .stderr_truncated = p.stderr_truncated()};
}

CommandChange failed(const schema::CommandFailed& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "failed",
          .reason = text(p.reason()),
          .finished_at = at};
}

CommandChange timed_out(const schema::CommandTimedOut& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "timed_out",
          .reason = fmt::format("timed out after {} ms{}", p.timeout_ms(),
                                p.killed() ? " (killed after the grace period)" : ""),
          .duration_ms = clamp_u64(p.duration_ms()),
          .finished_at = at,
          .stdout_truncated = p.stdout_truncated(),
          .stderr_truncated = p.stderr_truncated()};
}

CommandChange cancelled(const schema::CommandCancelled& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "cancelled",
          .reason = fmt::format("cancelled by command {}{}", id_of(p.cancel_command_id()).str(),
                                p.was_running() ? " while running" : " before it started"),
          .duration_ms = clamp_u64(p.duration_ms()),
          .finished_at = at};
}

CommandChange expired(const schema::CommandExpired& p, UnixNanos at) {
  return {.command = id_of(p.command_id()),
          .status = "expired",
          .reason = fmt::format("expired at {} ns", p.expires_at_ns()),
          .finished_at = at};
}

CommandChange with_reason(const schema::Uuid* id, std::string status,
                          const flatbuffers::String* reason, UnixNanos at) {
  return {
      .command = id_of(id), .status = std::move(status), .reason = text(reason), .finished_at = at};
}

template <class T>
void first_wins(std::optional<T>& acc, const std::optional<T>& next) {
  if (!acc) acc = next;
}

}  // namespace

int command_status_rank(std::string_view status) {
  if (status.empty() || status == "unknown") return 0;
  if (status == "received") return 1;
  if (status == "started") return 2;
  return 3;
}

bool is_command_event(schema::Payload type) {
  using P = schema::Payload;
  switch (type) {
    case P::CommandReceived:
    case P::CommandStarted:
    case P::CommandOutput:
    case P::CommandCompleted:
    case P::CommandFailed:
    case P::CommandTimedOut:
    case P::CommandCancelled:
    case P::CommandExpired:
    case P::CommandRejected:
    case P::CommandInterrupted:
      return true;
    default:
      return false;
  }
}

Result<CommandChange> command_change(const schema::Envelope& env, UnixNanos at) {
  using P = schema::Payload;
  std::optional<CommandChange> c;
  const schema::Uuid* id = nullptr;
  switch (env.payload_type()) {
#define RMM_COMMAND_CASE(Type, expr)               \
  case P::Type:                                    \
    if (const auto* p = env.payload_as_##Type()) { \
      id = p->command_id();                        \
      c = expr;                                    \
    }                                              \
    break;
    RMM_COMMAND_CASE(CommandReceived, received(*p, at))
    RMM_COMMAND_CASE(CommandStarted, started(*p, at))
    RMM_COMMAND_CASE(CommandOutput, output(*p))
    RMM_COMMAND_CASE(CommandCompleted, completed(*p, at))
    RMM_COMMAND_CASE(CommandFailed, failed(*p, at))
    RMM_COMMAND_CASE(CommandTimedOut, timed_out(*p, at))
    RMM_COMMAND_CASE(CommandCancelled, cancelled(*p, at))
    RMM_COMMAND_CASE(CommandExpired, expired(*p, at))
    RMM_COMMAND_CASE(CommandRejected, with_reason(p->command_id(), "rejected", p->reason(), at))
    RMM_COMMAND_CASE(CommandInterrupted,
                     with_reason(p->command_id(), "interrupted", p->reason(), at))
#undef RMM_COMMAND_CASE
    default:
      return fail(Error::Code::kInvalidInput, "not a command lifecycle event");
  }
  if (!c) return fail(Error::Code::kInvalidInput, "command event payload missing");
  if (id == nullptr || c->command.bytes() == UuidBytes{}) {
    return fail(Error::Code::kInvalidInput, "command event without command_id");
  }
  c->last_seq = static_cast<std::int64_t>(env.seq());
  c->updated_at = at;
  return std::move(*c);
}

void merge_command_change(CommandChange& acc, const CommandChange& next) {
  if (command_status_rank(next.status) > command_status_rank(acc.status)) acc.status = next.status;
  first_wins(acc.kind, next.kind);
  first_wins(acc.issuer, next.issuer);
  first_wins(acc.reason, next.reason);
  first_wins(acc.command_stream_seq, next.command_stream_seq);
  first_wins(acc.pid, next.pid);
  first_wins(acc.duration_ms, next.duration_ms);
  first_wins(acc.exit_code, next.exit_code);
  first_wins(acc.term_signal, next.term_signal);
  first_wins(acc.received_at, next.received_at);
  first_wins(acc.started_at, next.started_at);
  first_wins(acc.finished_at, next.finished_at);
  acc.stdout_truncated = acc.stdout_truncated || next.stdout_truncated;
  acc.stderr_truncated = acc.stderr_truncated || next.stderr_truncated;
  acc.chunks.insert(acc.chunks.end(), next.chunks.begin(), next.chunks.end());
  acc.last_seq = std::max(acc.last_seq, next.last_seq);
  acc.updated_at = std::max(acc.updated_at, next.updated_at);
}

}  // namespace rmm::projector
