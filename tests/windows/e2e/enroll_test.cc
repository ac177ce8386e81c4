// The Windows agent enrolls at its first start from the values the MSI leaves in the registry,
// then reports as a Windows machine: inventory and metrics through the API.
#include <doctest/doctest.h>

#include <pqxx/nontransaction>

#include "common/files.h"
#include "tests/windows/e2e/windows_agent.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;

bool has_registry_value(WinePrefix& wine, const std::string& name) {
  return wine.run({"reg", "query", "HKLM\\SOFTWARE\\GuruRMM\\Agent", "/v", name}, 60s).exit_code ==
         0;
}

}  // namespace

TEST_CASE("windows agent: enrolls with the installer's registry values, then forgets its secrets") {
  auto& agent = windows_agent();
  INFO(agent.log());
  const auto state = agent.state_dir();
  CHECK(files::read_all(state / "ca.pem").value_or("") ==
        files::read_all(agent.stack().nats().tls_files().ca).value_or("-"));
  CHECK(files::read_all(state / "agent.creds").value_or("").find("NATS USER JWT") !=
        std::string::npos);
  CHECK(std::filesystem::exists(state / "command_keys"));
  // The code and the credential are secrets: gone once the identity is stored; the other values
  // stay.
  CHECK(eventually([&] { return !has_registry_value(agent.wine(), "EnrollCode"); }, 30s));
  CHECK(eventually([&] { return !has_registry_value(agent.wine(), "EnrollCreds"); }, 30s));
  // The file written from EnrollCreds goes last.
  CHECK(eventually([&] { return !std::filesystem::exists(state / "enroll.creds"); }, 30s));
  CHECK(has_registry_value(agent.wine(), "ServerUrl"));
}

TEST_CASE("windows agent: online with a Windows OS, its inventory and metrics") {
  auto& agent = windows_agent();
  boost::json::object seen;
  const bool complete = eventually(
      [&] {
        auto r = agent.call("GET", "/api/v1/agents/" + agent.id().str());
        if (r.status != 200) return false;
        seen = json_body(r);
        return field_text(seen, "status") == "online" && seen.at("inventory").is_object() &&
               seen.at("latest_metrics").is_object();
      },
      120s);
  INFO(boost::json::serialize(seen));
  INFO(agent.log());
  REQUIRE(complete);
  CHECK(field_text(seen, "os").find("Windows") != std::string::npos);
  CHECK(field_text(seen, "site_id") == agent.stack().site_a.str());
  const auto& inventory = seen.at("inventory").as_object();
  CHECK(field_text(inventory, "os_name").find("Windows") != std::string::npos);
  CHECK(inventory.at("memory_total_bytes").to_number<double>() > 0);
  CHECK(inventory.at("cpu_threads").to_number<double>() > 0);
  const auto& metrics = seen.at("latest_metrics").as_object();
  CHECK(metrics.at("mem_total_bytes").to_number<double>() > 0);

  // Metrics keep arriving (one a second): more rows a few seconds later.
  auto rows = [&] {
    pqxx::nontransaction tx(agent.stack().db());
    return tx
        .exec_params1("SELECT count(*) FROM metrics WHERE agent_id = $1::uuid", agent.id().str())[0]
        .as<int>();
  };
  const int first = rows();
  CHECK(eventually([&] { return rows() >= first + 3; }, 30s));
}

}  // namespace rmm::test
