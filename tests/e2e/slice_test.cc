// The first end-to-end slice through every real component: rmm-agent publishes AgentStarted and
// heartbeats to a real nats-server, rmm-projector folds them into a real PostgreSQL, and rmm-api
// serves them.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "common/files.h"
#include "common/ids.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kBin = RMM_BIN_DIR;

// The agent's state dir as rmm-admin agent-credential leaves it.
fs::path make_agent_state(const TempDir& dir, const NatsServerFixture& nats, const AgentId& id) {
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(nats.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  return state;
}

// The agent's JSON object from GET /api/v1/agents, or null while it is not there.
boost::json::object find_agent(int api_port, const AgentId& id) {
  try {
    auto res = http_get(api_port, "/api/v1/agents");
    if (res.status != 200) return {};
    auto doc = boost::json::parse(res.body);
    for (const auto& a : doc.as_object().at("agents").as_array()) {
      if (a.as_object().at("id").as_string() == id.str()) return a.as_object();
    }
  } catch (const std::exception&) {
    // Not up yet: the caller polls within a deadline.
  }
  return {};
}

}  // namespace

TEST_CASE("an agent started on this machine is visible through the API within seconds") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  std::string db = pg.create_database(pg.unique_name("slice"));
  TempDir dir("slice");
  AgentId id = AgentId::generate(real_clock());
  fs::path state = make_agent_state(dir, nats, id);
  int api_port = free_tcp_port();

  Process projector = Process::start(
      {kBin + "/rmm-projector",
       {"--nats-url", nats.url(), "--nats-creds", nats.services_creds().string(), "--pg-url", db},
       {},
       dir / "projector.log"});
  Process api =
      Process::start({kBin + "/rmm-api",
                      {"--listen", "127.0.0.1:" + std::to_string(api_port), "--pg-url", db,
                       "--nats-url", nats.url(), "--nats-creds", nats.services_creds().string()},
                      {},
                      dir / "api.log"});
  auto started = std::chrono::steady_clock::now();
  Process agent = Process::start(
      {kBin + "/rmm-agent",
       {"--state-dir", state.string(), "--nats-url", nats.url(), "--heartbeat-interval", "1s"},
       {},
       dir / "agent.log"});

  boost::json::object seen;
  for (int i = 0; i < 150 && seen.empty(); ++i) {  // 15 s at most
    seen = find_agent(api_port, id);
    if (seen.empty()) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_MESSAGE(!seen.empty(), "agent not visible through the API; logs in ", dir.path());
  MESSAGE("visible after ",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                started)
              .count(),
          " ms");

  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  CHECK(seen.at("hostname").as_string() == host);
  CHECK(seen.at("status").as_string() == "online");
  CHECK(seen.at("version").as_string() == RMM_AGENT_VERSION_STRING);
  CHECK_FALSE(seen.at("os").as_string().empty());

  // Heartbeats keep arriving: the applied sequence moves on.
  auto first_seq = seen.at("last_seq").as_int64();
  boost::json::object later;
  for (int i = 0; i < 50; ++i) {  // 5 s at most
    later = find_agent(api_port, id);
    if (!later.empty() && later.at("last_seq").as_int64() > first_seq) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE_FALSE(later.empty());
  CHECK(later.at("last_seq").as_int64() > first_seq);

  // Every component shuts down cleanly on SIGTERM.
  CHECK(agent.terminate() == 0);
  CHECK(api.terminate() == 0);
  CHECK(projector.terminate() == 0);
}
