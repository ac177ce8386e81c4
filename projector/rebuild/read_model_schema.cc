#include "projector/rebuild/read_model_schema.h"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "projector/db/batch_writer.h"
#include "projector/db/migrations.h"

namespace rmm::projector::rebuild {

std::string scratch_schema_name(std::string_view prefix) {
  return fmt::format("{}_{}_{}", prefix, static_cast<long long>(std::time(nullptr)), ::getpid());
}

Status use_schema(pqxx::connection& conn, const std::string& schema) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec0("SET search_path TO " + tx.quote_name(schema));
    return {};
  } catch (const std::exception& e) {
    return failf("setting search_path to {}: {}", schema, e.what());
  }
}

Status create_read_model_schema(pqxx::connection& conn, const std::string& schema,
                                const std::filesystem::path& migrations_dir) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec0("CREATE SCHEMA " + tx.quote_name(schema));
  } catch (const std::exception& e) {
    return failf("creating schema {}: {}", schema, e.what());
  }
  if (auto st = use_schema(conn, schema); !st) return st;
  auto report = db::apply_migrations(conn, migrations_dir);
  if (!report) return std::unexpected(report.error());
  return {};
}

Status drop_schema(pqxx::connection& conn, const std::string& schema) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    return {};
  } catch (const std::exception& e) {
    return failf("dropping schema {}: {}", schema, e.what());
  }
}

StreamSeq schema_checkpoint(pqxx::transaction_base& tx, const std::string& schema) {
  auto exists = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL",
                                tx.quote_name(schema) + ".projection_checkpoints");
  if (!exists[0].as<bool>()) return StreamSeq{0};
  // The single projection's row, or the partitioned projection's units ("core/p3"): the
  // furthest any of them folded.
  auto r = tx.exec_params("SELECT max(stream_seq) FROM " + tx.quote_name(schema) +
                              ".projection_checkpoints WHERE projection = $1 OR projection LIKE "
                              "$1 || '/%'",
                          std::string(db::kCoreProjection));
  if (r.empty() || r[0][0].is_null()) return StreamSeq{0};
  return StreamSeq{r[0][0].as<std::uint64_t>()};
}

bool folded_as_prefix(pqxx::transaction_base& tx, const std::string& schema) {
  auto r = tx.exec(
      "SELECT coalesce(min(GREATEST(stream_seq, watermark)) >= max(stream_seq), true) "
      "FROM " +
      tx.quote_name(schema) + ".projection_checkpoints WHERE projection LIKE 'core/%'");
  return r[0][0].as<bool>();
}

Status carry_unit_checkpoints(pqxx::transaction_base& tx, const std::string& live,
                              const std::string& rebuilt, StreamSeq position) {
  try {
    tx.exec_params0(fmt::format("INSERT INTO {}.projection_checkpoints "
                                "(projection, stream_seq, watermark, updated_at) "
                                "SELECT projection, $1, $1, now() FROM {}.projection_checkpoints "
                                "WHERE projection LIKE 'core/%' ON CONFLICT (projection) DO "
                                "UPDATE SET stream_seq = $1, watermark = $1, updated_at = now()",
                                tx.quote_name(rebuilt), tx.quote_name(live)),
                    static_cast<std::int64_t>(position.value));
    return {};
  } catch (const std::exception& e) {
    return failf("carrying the unit checkpoints into schema {}: {}", rebuilt, e.what());
  }
}

Result<std::vector<std::string>> defer_indexes(pqxx::connection& conn, const std::string& schema) {
  try {
    pqxx::work tx(conn);
    std::vector<std::string> definitions;
    std::vector<std::string> names;
    for (const auto& r : tx.exec_params(
             "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
             "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
             "JOIN pg_namespace n ON n.oid = t.relnamespace "
             "WHERE n.nspname = $1 AND t.relkind = 'p' AND NOT x.indisunique "
             "AND t.relname = 'metrics'",
             schema)) {
      names.push_back(r[0].as<std::string>());
      // pg_get_indexdef gives a partitioned index as "ON ONLY <parent>" (the parent alone, as
      // pg_dump restores it); without ONLY it is built on every partition, as the migration did.
      auto definition = r[1].as<std::string>();
      if (auto at = definition.find(" ON ONLY "); at != std::string::npos) {
        definition.replace(at, 9, " ON ");
      }
      definitions.push_back(std::move(definition));
    }
    for (const auto& name : names) {
      tx.exec0("DROP INDEX " + tx.quote_name(schema) + "." + tx.quote_name(name));
    }
    tx.commit();
    return definitions;
  } catch (const std::exception& e) {
    return failf("deferring the indexes of schema {}: {}", schema, e.what());
  }
}

Status restore_indexes(pqxx::connection& conn, const std::vector<std::string>& definitions) {
  try {
    pqxx::work tx(conn);
    for (const auto& d : definitions) tx.exec0(d);
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("creating the deferred indexes: {}", e.what());
  }
}

Result<StreamSeq> schema_checkpoint(pqxx::connection& conn, const std::string& schema) {
  try {
    pqxx::work tx(conn);
    return schema_checkpoint(tx, schema);
  } catch (const std::exception& e) {
    return failf("reading the checkpoint in schema {}: {}", schema, e.what());
  }
}

}  // namespace rmm::projector::rebuild
