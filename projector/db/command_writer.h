// The `commands` rows of a batch: the batch's lifecycle changes are merged per command in memory
// (merge_command_change), upserted in one unnest statement that applies the same rule against the
// stored row, then output chunks are stored and stdout/stderr re-assembled for the commands that
// got chunks. A command belongs to the agent of its first event: another agent's events for it are
// ignored (and their chunks not stored).
#pragma once

#include <pqxx/connection>
#include <pqxx/transaction>
#include <span>

#include "common/ids.h"
#include "projector/folds/command_fold.h"

namespace rmm::projector::db {

struct CommandRef {
  AgentId agent;
  const CommandChange* change = nullptr;
};

// At most this many code points of stdout (and of stderr) are kept on a command row; the chunks
// table keeps every byte the agent sent.
inline constexpr std::size_t kMaxCommandOutputChars = 4 * 1024 * 1024;

void prepare_command_statements(pqxx::connection& conn);

// `changes` in stream order.
void write_commands(pqxx::work& tx, std::span<const CommandRef> changes);

}  // namespace rmm::projector::db
