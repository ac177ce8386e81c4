#include "projector/db/command_writer.h"

#include <map>
#include <pqxx/binarystring>
#include <pqxx/result>
#include <utility>

#include "projector/db/sql_text.h"
#include "projector/folds/text.h"

namespace rmm::projector::db {
namespace {

constexpr const char* kUpsert = "rmm_commands_upsert";
constexpr const char* kChunks = "rmm_command_chunks";
constexpr const char* kAssembled = "rmm_command_output";
constexpr const char* kSetOutput = "rmm_command_set_output";

std::optional<std::int64_t> micros(const std::optional<UnixNanos>& ns) {
  if (!ns) return std::nullopt;
  return ns_to_micros(*ns);
}

}  // namespace

void prepare_command_statements(pqxx::connection& conn) {
  auto ts = [](std::string_view col) {
    return "timestamptz 'epoch' + " + std::string(col) + " * interval '1 microsecond'";
  };
  conn.prepare(
      kUpsert,
      "INSERT INTO commands AS c (id, agent_id, status, kind, issuer, command_stream_seq, pid, "
      "received_at, started_at, finished_at, exit_code, term_signal, duration_ms, reason, "
      "stdout_truncated, stderr_truncated, last_seq, updated_at) "
      "SELECT id, agent_id, CASE WHEN status = '' THEN 'unknown' ELSE status END, kind, issuer, "
      "command_stream_seq, pid, " +
          ts("received_us") + ", " + ts("started_us") + ", " + ts("finished_us") +
          ", exit_code, term_signal, duration_ms, reason, stdout_truncated, "
          "stderr_truncated, last_seq, " +
          ts("updated_us") +
          " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
          "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "
          "$11::integer[], $12::integer[], $13::bigint[], $14::text[], $15::boolean[], "
          "$16::boolean[], $17::bigint[], $18::bigint[]) AS u(id, agent_id, status, kind, issuer, "
          "command_stream_seq, pid, received_us, started_us, finished_us, exit_code, term_signal, "
          "duration_ms, reason, stdout_truncated, stderr_truncated, last_seq, updated_us) "
          "ON CONFLICT (id) DO UPDATE SET "
          "status = CASE WHEN rmm_command_rank(EXCLUDED.status) > rmm_command_rank(c.status) "
          "THEN EXCLUDED.status ELSE c.status END, "
          "kind = coalesce(c.kind, EXCLUDED.kind), issuer = coalesce(c.issuer, EXCLUDED.issuer), "
          "command_stream_seq = coalesce(c.command_stream_seq, EXCLUDED.command_stream_seq), "
          "pid = coalesce(c.pid, EXCLUDED.pid), "
          "received_at = coalesce(c.received_at, EXCLUDED.received_at), "
          "started_at = coalesce(c.started_at, EXCLUDED.started_at), "
          "finished_at = coalesce(c.finished_at, EXCLUDED.finished_at), "
          "exit_code = coalesce(c.exit_code, EXCLUDED.exit_code), "
          "term_signal = coalesce(c.term_signal, EXCLUDED.term_signal), "
          "duration_ms = coalesce(c.duration_ms, EXCLUDED.duration_ms), "
          "reason = coalesce(c.reason, EXCLUDED.reason), "
          "stdout_truncated = c.stdout_truncated OR EXCLUDED.stdout_truncated, "
          "stderr_truncated = c.stderr_truncated OR EXCLUDED.stderr_truncated, "
          "last_seq = greatest(c.last_seq, EXCLUDED.last_seq), "
          "updated_at = greatest(c.updated_at, EXCLUDED.updated_at) "
          "WHERE c.agent_id = EXCLUDED.agent_id");
  // Only chunks of commands that belong to the sending agent.
  conn.prepare(kChunks,
               "INSERT INTO command_output_chunks (command_id, chunk_index, stream, byte_offset, "
               "data, truncated) "
               "SELECT u.command_id, u.chunk_index, u.stream, u.byte_offset, u.data, u.truncated "
               "FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::smallint[], $5::bigint[], "
               "$6::bytea[], $7::boolean[]) AS u(command_id, agent_id, chunk_index, stream, "
               "byte_offset, data, truncated) "
               "JOIN commands c ON c.id = u.command_id AND c.agent_id = u.agent_id "
               "ON CONFLICT (command_id, chunk_index) DO NOTHING");
  conn.prepare(kAssembled,
               "SELECT command_id, stream, string_agg(data, ''::bytea ORDER BY chunk_index) "
               "FROM command_output_chunks WHERE command_id = ANY($1::uuid[]) "
               "GROUP BY command_id, stream");
  conn.prepare(kSetOutput,
               "UPDATE commands c SET stdout = coalesce(u.out, c.stdout), "
               "stderr = coalesce(u.err, c.stderr) "
               "FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, out, err) "
               "WHERE c.id = u.id");
}

void write_commands(pqxx::work& tx, std::span<const CommandRef> changes) {
  if (changes.empty()) return;
  // One merged change per command, keeping the agent of its first event in this batch.
  std::map<CommandId, std::pair<AgentId, CommandChange>> merged;
  for (const auto& ref : changes) {
    auto it = merged.find(ref.change->command);
    if (it == merged.end()) {
      merged.emplace(ref.change->command, std::pair{ref.agent, *ref.change});
    } else if (it->second.first == ref.agent) {
      merge_command_change(it->second.second, *ref.change);
    }
  }
  PgArray ids, agents, status, kind, issuer, cseq, pid, rec, start, fin, exit_code, sig, dur,
      reason, out_trunc, err_trunc, last_seq, updated;
  PgArray c_ids, c_agents, c_index, c_stream, c_offset, c_data, c_trunc;
  PgArray assembled;
  bool any_chunks = false;
  for (const auto& [id, entry] : merged) {
    const auto& [agent, c] = entry;
    ids.add_text(id.str());
    agents.add_text(agent.str());
    status.add_text(c.status);
    kind.add_optional_text(c.kind);
    issuer.add_optional_text(c.issuer);
    cseq.add_optional(c.command_stream_seq);
    pid.add_optional(c.pid);
    rec.add_optional(micros(c.received_at));
    start.add_optional(micros(c.started_at));
    fin.add_optional(micros(c.finished_at));
    exit_code.add_optional(c.exit_code);
    sig.add_optional(c.term_signal);
    dur.add_optional(c.duration_ms);
    reason.add_optional_text(c.reason);
    out_trunc.add(c.stdout_truncated);
    err_trunc.add(c.stderr_truncated);
    last_seq.add(c.last_seq);
    updated.add(ns_to_micros(c.updated_at));
    if (!c.chunks.empty()) {
      any_chunks = true;
      assembled.add_text(id.str());
    }
    for (const auto& chunk : c.chunks) {
      c_ids.add_text(id.str());
      c_agents.add_text(agent.str());
      c_index.add(chunk.chunk_index);
      c_stream.add(static_cast<std::int64_t>(chunk.stream));
      c_offset.add(chunk.offset);
      c_data.add_bytea(chunk.data);
      c_trunc.add(chunk.truncated);
    }
  }
  tx.exec_prepared0(kUpsert, ids.take(), agents.take(), status.take(), kind.take(), issuer.take(),
                    cseq.take(), pid.take(), rec.take(), start.take(), fin.take(), exit_code.take(),
                    sig.take(), dur.take(), reason.take(), out_trunc.take(), err_trunc.take(),
                    last_seq.take(), updated.take());
  if (!any_chunks) return;
  tx.exec_prepared0(kChunks, c_ids.take(), c_agents.take(), c_index.take(), c_stream.take(),
                    c_offset.take(), c_data.take(), c_trunc.take());

  // Re-assemble from every stored chunk, so chunks of earlier batches (or arriving out of
  // order) land in chunk order.
  std::map<std::string, std::pair<std::optional<std::string>, std::optional<std::string>>> outputs;
  for (const auto& r : tx.exec_prepared(kAssembled, assembled.take())) {
    pqxx::binarystring bytes(r[2]);
    auto text = storable_text(std::string_view(bytes.get(), bytes.size()), kMaxCommandOutputChars);
    auto& slot = outputs[r[0].as<std::string>()];
    (r[1].as<int>() == 0 ? slot.first : slot.second) = std::move(text);
  }
  PgArray o_ids, o_out, o_err;
  for (const auto& [id, streams] : outputs) {
    o_ids.add_text(id);
    o_out.add_optional_text(streams.first);
    o_err.add_optional_text(streams.second);
  }
  tx.exec_prepared0(kSetOutput, o_ids.take(), o_out.take(), o_err.take());
}

}  // namespace rmm::projector::db
