#include "tests/windows/e2e/windows_agent.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <thread>

#include "common/files.h"

namespace rmm::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string agent_id_in(const fs::path& state_dir) {
  std::string text = files::read_all(state_dir / "agent_id").value_or("");
  return text.substr(0, text.find('\n'));
}

// As the API's cancel route tells an unfinished command (api/intents/intent_commands.cc).
bool terminal(std::string_view status) {
  return !status.empty() && status != "unknown" && status != "queued" && status != "received" &&
         status != "started";
}

}  // namespace

std::string field_text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool eventually(const std::function<bool()>& ready, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
  return true;
}

WindowsAgent& windows_agent() {
  static WindowsAgent agent;
  return agent;
}

WindowsAgent::WindowsAgent()
    : stack_(NatsServerOptions{.apply_streams = true, .tls = true}),
      owner_(stack_.user(schema::UserRole::Owner, {})),
      wine_(RMM_WINE64),
      log_file_(wine_.dir() / "agent.log") {
  auto code = call("POST", "/api/v1/enrollment-codes?wait=5000",
                   R"({"site_id":")" + stack_.site_a.str() + R"("})");
  REQUIRE_MESSAGE(code.status == 202, code.body);
  const std::string enroll_code(json_body(code).at("code").as_string());

  // What the MSI writes (ServerUrl, EnrollCode, CaPem), plus the shared enrollment credential.
  const std::string key = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\GuruRMM\\Agent]\r\n";
  const auto ca = files::read_all(stack_.nats().tls_files().ca);
  const auto creds = files::read_all(stack_.nats().identity().enroll_creds());
  REQUIRE((ca && creds));
  wine_.import_registry(key + fmt::format("\"ServerUrl\"=\"{}\"\r\n", stack_.nats().url()) +
                        fmt::format("\"EnrollCode\"=\"{}\"\r\n", enroll_code) +
                        "\"CaPem\"=" + reg_sz_hex(*ca) + "\r\n" +
                        "\"EnrollCreds\"=" + reg_sz_hex(*creds) + "\r\n");
  REQUIRE(!fs::exists(state_dir() / "agent_id"));

  // The services' command line (--nats-url), short intervals, no updater.
  agent_ = wine_.start({RMM_WINDOWS_AGENT_EXE, "--nats-url=" + stack_.nats().url(),
                        "--heartbeat-interval=1s", "--metrics-interval=1s", "--updater="},
                       log_file_);
  REQUIRE_MESSAGE(eventually([&] { return !agent_id_in(state_dir()).empty() || !running(); }, 120s),
                  log());
  auto id = AgentId::parse(agent_id_in(state_dir()));
  REQUIRE_MESSAGE(id.has_value(), log());
  id_ = *id;
}

WindowsAgent::~WindowsAgent() {
  agent_.terminate(2s);
}

fs::path WindowsAgent::state_dir() const {
  return wine_.drive_c() / "ProgramData" / "GuruRMM";
}

std::string WindowsAgent::log() const {
  return "agent log " + log_file_.string() + ":\n" + files::read_all(log_file_).value_or("");
}

HttpResponse WindowsAgent::call(const std::string& method, const std::string& target,
                                const std::string& body) {
  return stack_.call(method, target, body, owner_);
}

std::string WindowsAgent::issue(boost::json::object fields) {
  fields["agent_ids"] = boost::json::array{boost::json::string(id_.str())};
  auto r = call("POST", "/api/v1/commands", boost::json::serialize(fields));
  REQUIRE_MESSAGE(r.status == 202, r.body);
  return std::string(json_body(r).at("commands").as_array().at(0).at("id").as_string());
}

boost::json::object WindowsAgent::wait_command(
    const std::string& id, const std::function<bool(const boost::json::object&)>& done,
    std::chrono::seconds limit) {
  boost::json::object last;
  eventually(
      [&] {
        auto r = call("GET", "/api/v1/commands/" + id);
        if (r.status != 200) return false;
        last = json_body(r);
        return done(last);
      },
      limit);
  return last;
}

boost::json::object WindowsAgent::run_command(boost::json::object fields,
                                              std::chrono::seconds limit) {
  auto command = wait_command(
      issue(std::move(fields)),
      [](const boost::json::object& c) { return terminal(field_text(c, "status")); }, limit);
  INFO(log());
  REQUIRE_MESSAGE(!command.empty(), "the command never showed in the API");
  return command;
}

}  // namespace rmm::test
