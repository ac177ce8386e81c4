// The Windows agent end to end (issue 15 §4): the real rmm-agent.exe of build-windows/ runs under
// Wine against a real stack (IntentStack: nats-server with JetStream over TLS, PostgreSQL,
// rmm-projector, rmm-api). It enrolls the way an MSI-installed agent does at its first start:
// the site's settings as values of HKLM\SOFTWARE\GuruRMM\Agent in the prefix (what
// packaging/windows/gururmm-agent.wxs writes), an enrollment code made through the API, the
// agent started as a console program with the services' command line. One agent per test
// program, started on first use; the test cases then look at it through the API.
//
// Concurrency: one test thread.
// Limitations: paths come from the build (RMM_WINDOWS_AGENT_EXE, RMM_WINE64); the Windows build
// must be current (tools/rmm test builds it before this one).
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "tests/api/intent_stack.h"
#include "tests/fixtures/process.h"
#include "tests/windows/e2e/wine_prefix.h"

namespace rmm::test {

class WindowsAgent {
 public:
  WindowsAgent();
  ~WindowsAgent();

  IntentStack& stack() { return stack_; }
  WinePrefix& wine() { return wine_; }
  const AgentId& id() const { return id_; }
  // %ProgramData%\GuruRMM in the prefix: the agent's default state directory.
  std::filesystem::path state_dir() const;
  std::string log() const;  // the agent's output so far, for failure messages
  bool running() { return agent_.running(); }

  // An API call as the owner; the body parsed (throws on a non-JSON answer).
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {});
  // POST /api/v1/commands for this agent with `fields` (kind, script...): the command's id.
  std::string issue(boost::json::object fields);
  // GET /api/v1/commands/{id} until `done` holds for it, at most `limit`; the last answer.
  boost::json::object wait_command(const std::string& id,
                                   const std::function<bool(const boost::json::object&)>& done,
                                   std::chrono::seconds limit = std::chrono::seconds(60));
  // The command run to a terminal status (completed, failed, timed_out, cancelled, ...).
  boost::json::object run_command(boost::json::object fields,
                                  std::chrono::seconds limit = std::chrono::seconds(60));

 private:
  IntentStack stack_;
  TestUser owner_;
  WinePrefix wine_;
  std::filesystem::path log_file_;
  Process agent_;
  AgentId id_;
};

// The one agent of this test program, enrolled and started on first use.
WindowsAgent& windows_agent();

// The string field `key` of `o`; "" when absent or not a string.
std::string field_text(const boost::json::object& o, std::string_view key);

// Polls `ready` every 200 ms until it holds or `limit` passes; whether it held.
bool eventually(const std::function<bool()>& ready, std::chrono::seconds limit);

}  // namespace rmm::test
