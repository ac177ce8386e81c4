#include "api/db/sql_params.h"

#include <functional>
#include <pqxx/pqxx>

namespace rmm::api {

std::string SqlParams::bind(std::string value) {
  values_.push_back(std::move(value));
  return "$" + std::to_string(values_.size());
}

pqxx::result SqlParams::exec(pqxx::transaction_base& tx, const std::string& sql) const {
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(values_));
}

pqxx::result SqlParams::exec_prepared(pqxx::transaction_base& tx, const std::string& sql) const {
  const std::string name =
      "rmm_s" + std::to_string(std::hash<std::string>{}(sql) % kStatementSlots);
  auto& conn = tx.conn();
  try {
    conn.prepare(name, sql);  // a no-op when the slot already holds this text
  } catch (const pqxx::argument_error&) {
    conn.unprepare(name);  // another text held the slot
    conn.prepare(name, sql);
  }
  return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(values_));
}

std::string array_literal(std::span<const std::string> items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace rmm::api
