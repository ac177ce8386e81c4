// apply-streams is idempotent: re-applying changes nothing, a changed definition is updated.
#include "admin/streams.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/files.h"
#include "common/files.h"
#include "tests/broker/test_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"

using namespace rmm;
using namespace rmm::broker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

int run_apply(test::NatsServerFixture& server, const fs::path& streams_dir, std::string* out) {
  fs::path log = server.home() / "apply.log";
  fs::remove(log);
  auto p = test::Process::start(
      {.program = std::string(RMM_BIN_DIR) + "/rmm-admin",
       .args = {"apply-streams", "--nats-url", server.url(), "--nats-creds",
                server.services_creds().string(), "--streams-dir", streams_dir.string()},
       .log_file = log});
  auto status = p.wait(30s);
  REQUIRE(status.has_value());
  *out = files::read_all(log).value_or("");
  return *status;
}

std::vector<std::string> stream_names(natsConnection* nc) {
  auto names = js_api_request(nc, "$JS.API.STREAM.NAMES", "", 5s);
  REQUIRE(names.has_value());
  std::vector<std::string> out;
  for (const auto& n : names->at("streams").as_array()) out.emplace_back(n.as_string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "apply-streams twice leaves the streams as they are; a changed max_age is updated in place") {
  test::NatsServerFixture server;  // has applied the definitions once already
  natsStatus status = NATS_OK;
  auto services = test::TestClient::connect(server.url(), server.services_creds(), {}, &status);
  REQUIRE(services != nullptr);

  std::string out;
  REQUIRE(run_apply(server, server.streams_dir(), &out) == 0);
  CHECK(out.find("RMM_EVENTS unchanged") != std::string::npos);
  CHECK(out.find("RMM_COMMANDS unchanged") != std::string::npos);
  CHECK(stream_names(services->nc()) ==
        std::vector<std::string>{"RMM_COMMANDS", "RMM_CONTROL", "RMM_EVENTS", "RMM_RELEASES"});

  auto info = js_api_request(services->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", 5s);
  REQUIRE(info.has_value());
  const auto& config = info->at("config").as_object();
  CHECK(config.at("max_age").to_number<std::int64_t>() == 400LL * 86400 * 1'000'000'000);
  CHECK(config.at("duplicate_window").to_number<std::int64_t>() == 20LL * 60 * 1'000'000'000);
  CHECK(config.at("storage") == "file");
  CHECK(config.at("discard") == "old");
  CHECK(config.at("subjects").as_array().size() == 2);

  // A copy of the definitions with RMM_EVENTS kept for 10 days instead.
  fs::path changed = server.home() / "streams-changed";
  fs::create_directories(changed);
  for (const auto& e : fs::directory_iterator(server.streams_dir())) {
    auto text = files::read_all(e.path());
    REQUIRE(text.has_value());
    auto def = boost::json::parse(*text).as_object();
    if (def.at("name") == "RMM_EVENTS") def["max_age"] = 10LL * 86400 * 1'000'000'000;
    REQUIRE(files::write_atomic(changed / e.path().filename(), boost::json::serialize(def), 0644)
                .has_value());
  }
  REQUIRE(run_apply(server, changed, &out) == 0);
  CHECK(out.find("RMM_EVENTS updated") != std::string::npos);
  CHECK(out.find("RMM_COMMANDS unchanged") != std::string::npos);
  CHECK(stream_names(services->nc()) ==
        std::vector<std::string>{"RMM_COMMANDS", "RMM_CONTROL", "RMM_EVENTS", "RMM_RELEASES"});
  info = js_api_request(services->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", 5s);
  REQUIRE(info.has_value());
  CHECK(info->at("config").at("max_age").to_number<std::int64_t>() == 10LL * 86400 * 1'000'000'000);

  // Applying the changed set again is a no-op.
  REQUIRE(run_apply(server, changed, &out) == 0);
  CHECK(out.find("RMM_EVENTS unchanged") != std::string::npos);

  // Bad credentials fail loudly.
  auto p =
      test::Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-admin",
                            .args = {"apply-streams", "--nats-url", server.url(), "--nats-creds",
                                     (server.home() / "missing.creds").string()},
                            .log_file = server.home() / "bad.log"});
  auto bad = p.wait(30s);
  REQUIRE(bad.has_value());
  CHECK(*bad != 0);
}
