#include <pqxx/nontransaction>
#include <pqxx/result>

#include "common/pg.h"
#include "tools/replay/replay.h"

namespace rmm::replay {

Result<std::vector<AgentId>> agents_of(const std::string& pg_url, const std::string& client,
                                       const std::string& site) {
  auto conn = pg::connect(pg_url, {.attempts = 3});
  if (!conn) return std::unexpected(conn.error());
  try {
    pqxx::nontransaction tx(**conn);
    pqxx::result rows;
    if (!site.empty()) {
      rows = tx.exec_params(
          "SELECT a.id::text FROM agents a WHERE a.site_id IN "
          "(SELECT id FROM sites WHERE id::text = $1 OR name = $1)",
          site);
    } else {
      rows = tx.exec_params(
          "SELECT a.id::text FROM agents a JOIN sites s ON a.site_id = s.id WHERE s.client_id IN "
          "(SELECT id FROM clients WHERE id::text = $1 OR name = $1)",
          client);
    }
    std::vector<AgentId> out;
    for (const auto& row : rows) {
      auto id = AgentId::parse(row[0].c_str());
      if (id) out.push_back(*id);
    }
    return out;
  } catch (const std::exception& e) {
    return failf("resolving {} '{}' in the read model: {}", site.empty() ? "client" : "site",
                 site.empty() ? client : site, e.what());
  }
}

}  // namespace rmm::replay
