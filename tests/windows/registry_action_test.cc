// The registry editor's action and the cmd kind on Windows, end to end through the agent's
// command runner: signed commands in, lifecycle events and output out of the outbox. The
// registry answers are parsed as the dashboard parses them (one JSON document each).
#include "agent/commands/registry_action.h"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cctype>

#include "agent/commands/command_runner.h"
#include "common/platform/windows/windows_api.h"
#include "tests/agent/commands_test_util.h"
#include "tests/windows/win_test_support.h"

namespace {

using namespace std::chrono_literals;
using namespace rmm;
using namespace rmm::test;
using codec::RegistrySpec;
using schema::OutputStream;
using schema::Payload;
using schema::RegistryHive;
using schema::RegistryOperation;
using schema::RegistryValueType;

std::string test_key() {
  return fmt::format("Software\\GuruRMMTest\\action-{}", ::GetCurrentProcessId());
}

// A command runner without a broker, as the agent runs it.
struct Runner {
  Runner() {
    options.state_dir = dir.path();
    options.boot_id = "boot-1";
    options.command_keys = test_trusted_keys();
    auto box = agent::Outbox::open(dir.path() / "outbox", {}, real_clock());
    REQUIRE_MESSAGE(box.has_value(), (box ? "" : box.error().message));
    outbox = std::move(*box);
    auto r = agent::CommandRunner::create(*outbox, nullptr, agent_id, options);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    runner = std::move(*r);
    REQUIRE(runner->start().has_value());
  }
  ~Runner() {
    if (runner) runner->stop();
  }

  std::vector<CommandEvent> run(codec::CommandAction action) {
    auto c = action_command(std::move(action));
    REQUIRE(runner->accept(signed_for(agent_id, c), agent::Delivery{StreamSeq{++seq}, 1}) ==
            agent::Disposition::kAck);
    auto events = wait_terminal(*outbox, c.id, 60s);
    REQUIRE(!events.empty());
    REQUIRE(is_terminal(events.back().type));
    return events;
  }
  // The JSON answer of a registry command that must succeed.
  boost::json::object answer(RegistrySpec spec) {
    auto ev = run(std::move(spec));
    CHECK(ev.front().kind == "registry");
    REQUIRE(ev.back().type == Payload::CommandCompleted);
    INFO(output_of(ev, OutputStream::Stderr));
    REQUIRE(ev.back().exit_code == 0);
    return boost::json::parse(output_of(ev, OutputStream::Stdout)).as_object();
  }

  wintest::TempDir dir;
  AgentId agent_id = AgentId::generate(real_clock());
  agent::CommandRunnerOptions options;
  std::unique_ptr<agent::Outbox> outbox;
  std::unique_ptr<agent::CommandRunner> runner;
  std::uint64_t seq = 0;
};

// Registry names compare without case, as Windows compares them.
bool platform_name_is(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != lower[i]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("registry commands create, write, read, list and delete, answering in JSON") {
  Runner r;
  const auto key = test_key();
  const auto hive = RegistryHive::HKCU;

  auto created = r.answer({.op = RegistryOperation::CreateKey, .hive = hive, .key = key + "\\sub"});
  CHECK(created.at("done").as_bool());
  CHECK(created.at("operation").as_string() == "create_key");
  CHECK(created.at("hive").as_string() == "HKCU");

  auto set = [&](std::string name, codec::RegistryValueSpec value) {
    return r.answer({.op = RegistryOperation::Set,
                     .hive = hive,
                     .key = key,
                     .name = std::move(name),
                     .value = std::move(value)});
  };
  auto text = set("text", {.type = RegistryValueType::String, .text = "h\xC3\xA9llo"});
  CHECK(text.at("done").as_bool());
  CHECK(text.at("type").as_string() == "string");
  CHECK(text.at("data").as_string() == "h\xC3\xA9llo");  // read back by the agent
  CHECK(
      set("", {.type = RegistryValueType::ExpandString, .text = "%TEMP%"}).at("name").as_string() ==
      "");
  CHECK(set("multi", {.type = RegistryValueType::MultiString, .strings = {"a", "b"}})
            .at("data")
            .as_array()
            .size() == 2);
  CHECK(set("dword", {.type = RegistryValueType::Dword, .number = 0xDEADBEEF})
            .at("data")
            .to_number<std::uint64_t>() == 0xDEADBEEFULL);
  CHECK(set("qword", {.type = RegistryValueType::Qword, .number = 0xFFFFFFFFFFFFFFFFULL})
            .at("data")
            .as_string() == "18446744073709551615");
  CHECK(set("binary", {.type = RegistryValueType::Binary, .bytes = {0x00, 0x0A, 0xFF}})
            .at("data")
            .as_string() == "000aff");

  auto got = r.answer({.op = RegistryOperation::Get, .hive = hive, .key = key, .name = "dword"});
  CHECK(got.at("type").as_string() == "dword");
  CHECK(got.at("data").to_number<std::uint64_t>() == 0xDEADBEEFULL);
  CHECK_FALSE(got.contains("done"));

  auto listed = r.answer({.op = RegistryOperation::List, .hive = hive, .key = key});
  CHECK(listed.at("key").as_string() == key);
  CHECK(listed.at("truncated").as_bool() == false);
  REQUIRE(listed.at("subkeys").as_array().size() == 1);
  CHECK(listed.at("subkeys").as_array()[0].as_string() == "sub");
  CHECK(listed.at("values").as_array().size() == 6);

  auto removed =
      r.answer({.op = RegistryOperation::DeleteValue, .hive = hive, .key = key, .name = "dword"});
  CHECK(removed.at("name").as_string() == "dword");
  // A value that is not there: the command completes with exit code 1 and says why.
  auto missing =
      r.run(RegistrySpec{.op = RegistryOperation::Get, .hive = hive, .key = key, .name = "dword"});
  CHECK(missing.back().type == Payload::CommandCompleted);
  CHECK(missing.back().exit_code == 1);
  CHECK(output_of(missing, OutputStream::Stdout).empty());
  CHECK_FALSE(output_of(missing, OutputStream::Stderr).empty());

  CHECK(r.answer({.op = RegistryOperation::DeleteKey, .hive = hive, .key = key})
            .at("done")
            .as_bool());
  auto gone = agent::run_registry_action({.op = RegistryOperation::List, .hive = hive, .key = key},
                                         1 << 20);
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == Error::Code::kNotFound);
}

TEST_CASE("the hive's root lists, and a listing stays within the output cap") {
  auto root = agent::run_registry_action(
      {.op = RegistryOperation::List, .hive = RegistryHive::HKLM}, 1 << 20);
  REQUIRE_MESSAGE(root.has_value(), (root ? "" : root.error().message));
  auto doc = boost::json::parse(*root).as_object();
  bool has_software = false;
  for (const auto& k : doc.at("subkeys").as_array()) {
    has_software |= platform_name_is(k.as_string(), "software");
  }
  CHECK(has_software);
  // One byte less than the whole listing needs: entries are dropped, the document stays whole.
  const RegistrySpec software{
      .op = RegistryOperation::List, .hive = RegistryHive::HKLM, .key = "Software"};
  auto whole = agent::run_registry_action(software, 1 << 20);
  REQUIRE(whole.has_value());
  CHECK(boost::json::parse(*whole).as_object().at("truncated").as_bool() == false);
  auto small = agent::run_registry_action(software, whole->size() - 1);
  REQUIRE(small.has_value());
  CHECK(small->size() < whole->size());
  CHECK(boost::json::parse(*small).as_object().at("truncated").as_bool());
}

TEST_CASE("a cmd command runs its batch script in cmd.exe with both streams and its exit code") {
  Runner r;
  auto ev =
      r.run(codec::CmdSpec{"@echo off\nset GREETING=hello\necho %GREETING% from cmd\n"
                           "echo oops 1>&2\ngoto :end\necho skipped\n:end\nexit /b 3\n"});
  CHECK(ev.front().kind == "cmd");
  REQUIRE(ev.back().type == Payload::CommandCompleted);
  CHECK(ev.back().exit_code == 3);
  CHECK(output_of(ev, OutputStream::Stdout) == "hello from cmd\r\n");
  CHECK(output_of(ev, OutputStream::Stderr).find("oops") != std::string::npos);
  CHECK(output_of(ev, OutputStream::Stdout).find("skipped") == std::string::npos);
}
