// Commands through the API to the Windows agent under Wine: a shell script runs in cmd.exe with
// its output reported, and a cancelled command's whole process tree ends. One TEST_CASE per
// command kind, each through WindowsAgent::run_command; the kinds the registry editor adds to the
// API (cmd, registry) belong here the same way.
#include <doctest/doctest.h>

#include <cctype>

#include "tests/windows/e2e/windows_agent.h"

namespace rmm::test {

using namespace std::chrono_literals;

TEST_CASE("windows agent: a shell command runs in cmd.exe and its output comes back") {
  auto& agent = windows_agent();
  // cmd.exe's own syntax (set /a, %var%, 1>&2): no other interpreter gives this output.
  auto done = agent.run_command({{"kind", "shell"},
                                 {"script",
                                  "@echo off\n"
                                  "set /a answer=6*7 >nul\n"
                                  "echo hello-from-cmd %answer%\n"
                                  "echo to-stderr 1>&2\n"},
                                 {"timeout_s", 60}});
  INFO(boost::json::serialize(done));
  CHECK(field_text(done, "status") == "completed");
  CHECK(done.at("exit_code").to_number<int>() == 0);
  CHECK(field_text(done, "stdout").find("hello-from-cmd 42") != std::string::npos);
  CHECK(field_text(done, "stderr").find("to-stderr") != std::string::npos);
}

TEST_CASE("windows agent: a cancelled command's process tree ends") {
  auto& agent = windows_agent();
  // The agent's own process list (collect_processes: Toolhelp32, every process of the prefix).
  auto lists_ping = [&] {
    auto listed = agent.run_command({{"kind", "collect_processes"}});
    INFO(boost::json::serialize(listed));
    REQUIRE(field_text(listed, "status") == "completed");
    std::string out = field_text(listed, "stdout");
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(out.find("rmm-agent.exe") != std::string::npos);
    return out.find("ping.exe") != std::string::npos;
  };
  // Seen from Linux: the ping's own command line (cmd.exe runs the script file).
  auto ping_running = [&] { return !agent.wine().processes("ping -n 60").empty(); };

  // cmd.exe runs ping, a process of its own: both must end.
  const std::string id =
      agent.issue({{"kind", "shell"}, {"script", "ping -n 60 127.0.0.1\n"}, {"timeout_s", 120}});
  auto started = agent.wait_command(
      id, [](const auto& c) { return field_text(c, "status") == "started"; }, 60s);
  INFO(agent.log());
  REQUIRE_MESSAGE(field_text(started, "status") == "started", boost::json::serialize(started));
  REQUIRE(eventually(ping_running, 30s));
  CHECK(lists_ping());

  auto cancel = agent.call("POST", "/api/v1/commands/" + id + "/cancel", "{}");
  REQUIRE_MESSAGE(cancel.status == 202, cancel.body);
  auto cancelled = agent.wait_command(
      id, [](const auto& c) { return field_text(c, "status") == "cancelled"; }, 60s);
  CHECK_MESSAGE(field_text(cancelled, "status") == "cancelled", boost::json::serialize(cancelled));
  CHECK(eventually([&] { return !ping_running(); }, 15s));
  CHECK_FALSE(lists_ping());
}

}  // namespace rmm::test
