// Positional parameters for a SQL statement built from optional pieces (filters, scopes): bind()
// appends a value and returns its placeholder ("$3"), exec() runs the text with every value bound.
// Values travel as text; cast in SQL ("$2::uuid", "$3::uuid[]", "$4::bigint"). Arrays are
// PostgreSQL array literals built with array_literal().
//
// Never put a client-supplied value into SQL text: bind() it.
#pragma once

#include <pqxx/pqxx>
#include <span>
#include <string>
#include <vector>

namespace rmm::api {

class SqlParams {
 public:
  // Appends `value`; returns its placeholder "$n".
  std::string bind(std::string value);
  const std::vector<std::string>& values() const { return values_; }
  pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql) const;
  // exec() as a prepared statement of the connection, so PostgreSQL plans the text once per
  // connection instead of on every request (planning a list query costs more than running it).
  // For hot statements whose texts come from a small set of shapes (filters present or not, never
  // values): each connection keeps at most kStatementSlots of them, a text taking the slot of its
  // hash and replacing (DEALLOCATE) whatever held it.
  pqxx::result exec_prepared(pqxx::transaction_base& tx, const std::string& sql) const;

  static constexpr std::size_t kStatementSlots = 32;

 private:
  std::vector<std::string> values_;
};

// {"a","b"} -> "{\"a\",\"b\"}" (each element quoted and escaped), for $n::text[] / $n::uuid[].
std::string array_literal(std::span<const std::string> items);

}  // namespace rmm::api
