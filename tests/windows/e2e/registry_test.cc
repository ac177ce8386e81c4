// The Windows-only command kinds through the API to the agent under Wine: a cmd batch script, and
// the registry editor's commands (a value set through the API reads back, through the API and in
// the prefix's registry as Windows' own reg.exe shows it).
#include <doctest/doctest.h>

#include "tests/windows/e2e/windows_agent.h"

namespace rmm::test {

using namespace std::chrono_literals;

namespace {

boost::json::object registry(WindowsAgent& agent, boost::json::object fields) {
  fields["kind"] = "registry";
  fields["hive"] = "HKLM";
  fields["key"] = "SOFTWARE\\GuruRMMTest\\Editor";
  auto done = agent.run_command(std::move(fields));
  INFO(boost::json::serialize(done));
  REQUIRE(field_text(done, "status") == "completed");
  return json_body({.body = field_text(done, "stdout")});
}

}  // namespace

TEST_CASE("windows agent: a cmd command runs its batch script with both streams") {
  auto& agent = windows_agent();
  auto done = agent.run_command({{"kind", "cmd"},
                                 {"script",
                                  "@echo off\n"
                                  "goto skip\n"
                                  "echo never\n"
                                  ":skip\n"
                                  "echo cmd-kind %OS%\n"
                                  "echo to-stderr 1>&2\n"
                                  "exit /b 4\n"}});
  INFO(boost::json::serialize(done));
  CHECK(done.at("exit_code").to_number<int>() == 4);
  CHECK(field_text(done, "stdout").find("cmd-kind") != std::string::npos);
  CHECK(field_text(done, "stdout").find("never") == std::string::npos);
  CHECK(field_text(done, "stderr").find("to-stderr") != std::string::npos);
}

TEST_CASE("windows agent: a registry value set through the API reads back") {
  auto& agent = windows_agent();
  registry(agent, {{"op", "create_key"}});
  auto set = registry(agent, {{"op", "set"},
                              {"name", "Mode"},
                              {"value", {{"type", "string"}, {"data", "e2e-\xC3\xA9t\xC3\xA9"}}}});
  CHECK(set.at("done") == true);
  auto got = registry(agent, {{"op", "get"}, {"name", "Mode"}});
  CHECK(field_text(got, "type") == "string");
  CHECK(field_text(got, "data") == "e2e-\xC3\xA9t\xC3\xA9");
  registry(agent, {{"op", "set"}, {"name", "Count"}, {"value", {{"type", "dword"}, {"data", 42}}}});
  auto listed = registry(agent, {{"op", "list"}});
  CHECK(boost::json::serialize(listed.at("values")).find("\"Count\"") != std::string::npos);

  // What Windows' own reg.exe sees in the prefix.
  auto query =
      agent.wine().run({"reg", "query", "HKLM\\SOFTWARE\\GuruRMMTest\\Editor", "/v", "Count"}, 60s);
  CHECK_MESSAGE(query.output.find("0x2a") != std::string::npos, query.output);

  registry(agent, {{"op", "delete_value"}, {"name", "Mode"}});
  auto gone = agent.run_command({{"kind", "registry"},
                                 {"op", "get"},
                                 {"hive", "HKLM"},
                                 {"key", "SOFTWARE\\GuruRMMTest\\Editor"},
                                 {"name", "Mode"}});
  INFO(boost::json::serialize(gone));
  CHECK(gone.at("exit_code").is_int64());
  CHECK(gone.at("exit_code") != 0);
  CHECK_FALSE(field_text(gone, "stderr").empty());
}

}  // namespace rmm::test
