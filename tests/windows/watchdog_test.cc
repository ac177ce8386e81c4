// The Windows ProcessControl (watchdog/platform/windows) with real child processes: cmd.exe and
// rmm-test-stop-helper.exe (tests/windows/stop_helper.cc).
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/platform/windows/command_line.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "tests/windows/win_test_support.h"
#include "watchdog/platform/process_control.h"

// After windows_api.h: CommandLineToArgvW.
#include <shellapi.h>

namespace rmm::watchdog {
namespace {

using namespace std::chrono_literals;
using wintest::TempDir;

constexpr int kHelperStopped = 7;  // tests/windows/stop_helper.cc

std::unique_ptr<ProcessControl> control() {
  auto c = make_process_control();
  REQUIRE(c);
  return std::move(*c);
}

std::optional<ExitInfo> wait_exit(ProcessControl& c, pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto exit = c.poll_exit(pid)) return exit;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string str(const std::filesystem::path& p) {
  return p.string();
}

// True once `pid` listens for its stop event (without setting it).
bool listening(pid_t pid) {
  for (const wchar_t* prefix : {L"Global\\", L""}) {
    std::wstring name = std::wstring(prefix) + L"GuruRMMStop-" + std::to_wstring(pid);
    if (HANDLE h = ::OpenEventW(SYNCHRONIZE, FALSE, name.c_str())) {
      ::CloseHandle(h);
      return true;
    }
  }
  return false;
}

TEST_CASE("a child's exit code comes back through poll_exit") {
  auto c = control();
  auto pid = c->start({str(wintest::cmd_exe()), "/c", "exit 3"}, {});
  REQUIRE(pid);
  CHECK(*pid > 0);
  auto exit = wait_exit(*c, *pid, 20s);
  REQUIRE(exit);
  CHECK(exit->exit_code == 3);
  CHECK(exit->signal == 0);
  // Reaped: the pid is no longer ours.
  auto again = c->poll_exit(*pid);
  REQUIRE(again);
  CHECK(again->exit_code == -1);
}

TEST_CASE("a program that does not exist fails to start") {
  TempDir dir;
  auto c = control();
  auto pid = c->start({str(dir.path() / "missing.exe")}, {});
  REQUIRE_FALSE(pid);
  CHECK(pid.error().message.find("missing.exe") != std::string::npos);
}

TEST_CASE("output is appended to the log file") {
  TempDir dir;
  const auto log = dir.path() / "agent.log";
  { std::ofstream(log) << "before\n"; }
  auto c = control();
  for (const char* word : {"first", "second"}) {
    auto pid = c->start({str(wintest::cmd_exe()), "/c", std::string("echo ") + word}, log);
    REQUIRE(pid);
    auto exit = wait_exit(*c, *pid, 20s);
    REQUIRE(exit);
    CHECK(exit->exit_code == 0);
  }
  const auto text = read_file(log);
  const auto before = text.find("before");
  const auto first = text.find("first");
  const auto second = text.find("second");
  REQUIRE(before != std::string::npos);
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(before < first);
  CHECK(first < second);
}

TEST_CASE("terminate stops a listening child politely") {
  auto c = control();
  auto pid = c->start({str(wintest::stop_helper_exe())}, {});
  REQUIRE(pid);
  for (int i = 0; i < 500 && !listening(*pid); ++i) std::this_thread::sleep_for(20ms);
  REQUIRE(listening(*pid));
  c->terminate(*pid);
  auto exit = wait_exit(*c, *pid, 10s);
  REQUIRE(exit);
  CHECK(exit->exit_code == kHelperStopped);
}

TEST_CASE("a stop requested before the child listens is delivered once it does") {
  auto c = control();
  auto pid = c->start({str(wintest::stop_helper_exe())}, {});
  REQUIRE(pid);
  c->terminate(*pid);  // most likely before the helper has created its event
  auto exit = wait_exit(*c, *pid, 20s);
  REQUIRE(exit);
  CHECK(exit->exit_code == kHelperStopped);
}

TEST_CASE("kill ends a child that ignores the polite stop") {
  auto c = control();
  auto pid = c->start({str(wintest::stop_helper_exe()), "--ignore-stop"}, {});
  REQUIRE(pid);
  c->terminate(*pid);
  CHECK_FALSE(wait_exit(*c, *pid, 500ms));
  c->kill(*pid);
  auto exit = wait_exit(*c, *pid, 10s);
  REQUIRE(exit);
  CHECK(exit->exit_code == static_cast<int>(ERROR_PROCESS_ABORTED));
}

TEST_CASE("usage of a running child has a plausible shape") {
  auto c = control();
  auto pid = c->start({str(wintest::stop_helper_exe())}, {});
  REQUIRE(pid);
  std::this_thread::sleep_for(300ms);
  auto u = c->usage(*pid);
  REQUIRE(u);
  CHECK(u->rss_bytes > 64 * 1024);              // a loaded program has some pages resident
  CHECK(u->rss_bytes < 1024ull * 1024 * 1024);  // and a tiny helper not a gigabyte
  CHECK(u->cpu_time >= 0ns);
  CHECK(u->cpu_time < 60s);
  CHECK_FALSE(c->usage(*pid + 1'000'000));
  c->kill(*pid);
  CHECK(wait_exit(*c, *pid, 10s));
}

TEST_CASE("the agent does not outlive its process control (the watchdog)") {
  DWORD pid = 0;
  {
    auto c = control();
    auto started = c->start({str(wintest::stop_helper_exe()), "--ignore-stop"}, {});
    REQUIRE(started);
    pid = static_cast<DWORD>(*started);
  }
  HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (h == nullptr) return;  // already gone entirely
  const DWORD waited = ::WaitForSingleObject(h, 10'000);
  ::CloseHandle(h);
  CHECK(waited == WAIT_OBJECT_0);
}

TEST_CASE("command lines split back into the same arguments") {
  const std::vector<std::string> args = {"C:\\Program Files\\GuruRMM\\rmm-agent.exe",
                                         "plain",
                                         "",
                                         "two words",
                                         "say \"hi\"",
                                         "trailing\\",
                                         "dir with space\\",
                                         "a\\\\b",
                                         "\\\"",
                                         "tab\there",
                                         "ünïcødé"};
  auto line = rmm::win::build_command_line(args);
  REQUIRE(line);
  int argc = 0;
  LPWSTR* argv = ::CommandLineToArgvW(line->c_str(), &argc);
  REQUIRE(argv != nullptr);
  REQUIRE(argc == static_cast<int>(args.size()));
  for (int i = 1; i < argc; ++i) {  // argv[0] follows different rules; it holds no quotes here
    auto wide = rmm::win::to_wide(args[static_cast<std::size_t>(i)]);
    REQUIRE(wide);
    CHECK(std::wstring(argv[i]) == *wide);
  }
  ::LocalFree(argv);
}

}  // namespace
}  // namespace rmm::watchdog
