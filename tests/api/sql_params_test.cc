// SqlParams::exec_prepared against a real PostgreSQL: more statement texts than a connection has
// slots, so texts share slots and replace each other, and every run still answers its own text.
#include "api/db/sql_params.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/pqxx>

#include "common/pg.h"
#include "tests/fixtures/postgres.h"

using namespace rmm;

TEST_CASE("SqlParams::exec_prepared: texts sharing a slot replace each other, answers stay right") {
  auto& pg = test::PostgresFixture::shared();
  auto conn = pg::connect(pg.create_database(pg.unique_name("sql_params")));
  REQUIRE(conn.has_value());
  const int texts = static_cast<int>(api::SqlParams::kStatementSlots) * 2 + 3;
  auto run = [&](pqxx::transaction_base& tx, int i) {
    api::SqlParams p;
    // A different text per i (the constant), the same shape of parameter.
    std::string sql = fmt::format("SELECT {} + {}::int", i, p.bind(std::to_string(1000)));
    return p.exec_prepared(tx, sql)[0][0].as<int>();
  };
  for (int round = 0; round < 3; ++round) {
    pqxx::nontransaction tx(**conn);
    for (int i = 0; i < texts; ++i) CHECK(run(tx, i) == i + 1000);
  }
  {
    // Inside a transaction as well (DEALLOCATE of a replaced text is allowed there).
    pqxx::read_transaction tx(**conn);
    for (int i = texts - 1; i >= 0; --i) CHECK(run(tx, i) == i + 1000);
    tx.commit();
  }
  // PostgreSQL holds at most one statement per slot.
  pqxx::nontransaction tx(**conn);
  auto held = tx.exec("SELECT count(*) FROM pg_prepared_statements")[0][0].as<int>();
  CHECK(held <= static_cast<int>(api::SqlParams::kStatementSlots));
  CHECK(held > 0);
}
