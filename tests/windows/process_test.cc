// Commands on Windows: cmd.exe runs with separate output streams, exit codes, the given
// environment and directory, output converted to UTF-8; a process tree dies with its job;
// held processes wait for release; leftovers are matched by creation time; detached helpers log.
#include "agent/platform/process.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/platform/detached.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
// After windows_api.h: it needs the definitions of <windows.h>.
#include <tlhelp32.h>

namespace {

using namespace std::chrono_literals;
namespace platform = rmm::agent::platform;

std::string system_dir() {
  wchar_t buf[MAX_PATH];
  UINT n = ::GetSystemDirectoryW(buf, MAX_PATH);
  return rmm::win::to_utf8(std::wstring_view(buf, n));
}

std::string cmd() {
  return system_dir() + "\\cmd.exe";
}

struct Ran {
  std::string out, err;
  platform::ExitStatus exit;
  bool finished = false;
};

// Reads until both streams close and the process exits, for at most `limit`.
Ran run_to_end(platform::ChildProcess& child, std::chrono::milliseconds limit = 20s) {
  Ran r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool open = true;
  while (std::chrono::steady_clock::now() < deadline) {
    if (open) {
      open = child.read_some(50ms, 64 * 1024, r.out, r.err);
    } else {
      std::this_thread::sleep_for(10ms);
    }
    if (auto e = child.poll_exit(); e && !open) {
      r.exit = *e;
      r.finished = true;
      break;
    }
  }
  return r;
}

platform::SpawnSpec cmd_spec(std::string command) {
  return platform::SpawnSpec{.argv = {cmd(), "/d", "/s", "/c", std::move(command)},
                             .env = platform::base_environment(),
                             .working_dir = platform::default_working_dir()};
}

Ran run_cmd(std::string command) {
  auto child = platform::ChildProcess::spawn(cmd_spec(std::move(command)));
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  return run_to_end(**child);
}

bool process_ended(DWORD pid) {
  HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (h == nullptr) return true;  // gone entirely
  const bool ended = ::WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
  ::CloseHandle(h);
  return ended;
}

// The pids of the processes whose parent is `pid`.
std::vector<DWORD> children_of(DWORD pid) {
  std::vector<DWORD> out;
  HANDLE snap = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) return out;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  for (BOOL ok = ::Process32FirstW(snap, &e); ok; ok = ::Process32NextW(snap, &e)) {
    if (e.th32ParentProcessID == pid && e.th32ProcessID != pid) out.push_back(e.th32ProcessID);
  }
  ::CloseHandle(snap);
  return out;
}

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::filesystem::path temp_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("gururmm-{}-{}", name, ::GetCurrentProcessId());
  std::filesystem::create_directories(dir);
  return dir;
}

// Wine stands in for Windows with some gaps: its powershell.exe is a stub that runs nothing
// and exits 0, and its cmd.exe reads a batch file in the OEM code page whatever chcp says.
bool under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace

TEST_CASE("cmd.exe output is captured, stdout and stderr apart") {
  auto r = run_cmd("echo out-line& echo err-line 1>&2");
  REQUIRE(r.finished);
  CHECK(r.exit.exit_code == 0);
  CHECK(r.out.find("out-line") != std::string::npos);
  CHECK(r.out.find("err-line") == std::string::npos);
  CHECK(r.err.find("err-line") != std::string::npos);
}

TEST_CASE("exit codes come back") {
  auto r = run_cmd("exit /b 7");
  REQUIRE(r.finished);
  CHECK(r.exit.exit_code == 7);
  CHECK(r.exit.term_signal == 0);
}

TEST_CASE("the environment and the working directory are the given ones") {
  auto dir = temp_dir("cwd");
  auto spec = cmd_spec("echo [%GURURMM_TEST_VAR%]& cd");
  spec.env.push_back("gururmm_test_var=replaced");  // names are case-insensitive: the last wins
  spec.env.push_back("GURURMM_TEST_VAR=v4lue");
  spec.working_dir = dir.string();
  auto child = platform::ChildProcess::spawn(spec);
  REQUIRE(child.has_value());
  auto r = run_to_end(**child);
  REQUIRE(r.finished);
  CHECK(r.out.find("[v4lue]") != std::string::npos);
  CHECK(r.out.find("replaced") == std::string::npos);
  auto name = dir.filename().string();
  CHECK(r.out.find(name) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("output in UTF-8 or in the OEM code page arrives as UTF-8") {
  auto dir = temp_dir("oem");
  const std::string utf8 = "h\xC3\xA9llo \xE2\x9C\x93";  // héllo ✓
  std::ofstream(dir / "utf8.txt", std::ios::binary) << utf8;
  // "café" in the OEM code page, as a console program would write it.
  char oem[16] = {};
  BOOL lossy = FALSE;
  int n = ::WideCharToMultiByte(::GetOEMCP(), 0, L"caf\u00e9", 4, oem, sizeof oem, nullptr, &lossy);
  REQUIRE(n > 0);
  std::ofstream(dir / "oem.txt", std::ios::binary) << std::string(oem, static_cast<std::size_t>(n));

  auto r = run_cmd(fmt::format("type \"{}\"", (dir / "utf8.txt").string()));
  REQUIRE(r.finished);
  CHECK(r.out == utf8);
  if (!lossy && ::GetOEMCP() != CP_UTF8) {
    r = run_cmd(fmt::format("type \"{}\"", (dir / "oem.txt").string()));
    REQUIRE(r.finished);
    CHECK(r.out == "caf\xC3\xA9");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a shell script runs from its .cmd file, labels and exit code included") {
  auto shell = platform::default_shell();
  REQUIRE(shell.has_value());
  auto file = platform::script_file(platform::ScriptLanguage::kShell, *shell,
                                    "@echo off\nset N=0\n:again\nset /a N+=1\nif %N% lss 3 goto "
                                    "again\necho count %N% h\xC3\xA9llo\nexit /b 3\n");
  CHECK(file.suffix == ".cmd");
  auto dir = temp_dir("script");
  auto path = (dir / ("s" + file.suffix)).string();
  std::ofstream(path, std::ios::binary) << file.text;
  auto argv = platform::script_argv(platform::ScriptLanguage::kShell, *shell, path);
  REQUIRE(argv.has_value());
  auto child = platform::ChildProcess::spawn(
      {.argv = *argv, .env = platform::base_environment(), .working_dir = dir.string()});
  REQUIRE(child.has_value());
  auto r = run_to_end(**child);
  REQUIRE(r.finished);
  INFO("output: ", r.out);
  CHECK(r.out.find("count 3 h") != std::string::npos);
  if (!under_wine()) CHECK(r.out.find("count 3 h\xC3\xA9llo") != std::string::npos);
  CHECK(r.exit.exit_code == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("kill_group ends the whole process tree") {
  // cmd.exe starts ping, a process of its own, that would run for 30 s.
  auto child = platform::ChildProcess::spawn(cmd_spec("ping -n 30 127.0.0.1 >nul"));
  REQUIRE(child.has_value());
  auto& c = **child;
  std::vector<DWORD> grandchildren;
  REQUIRE(eventually([&] {
    grandchildren = children_of(c.pid());
    return !grandchildren.empty();
  }));
  CHECK(c.group_alive());
  c.kill_group();
  CHECK(eventually([&] { return !c.group_alive(); }, 5s));
  for (DWORD pid : grandchildren) CHECK(eventually([&] { return process_ended(pid); }, 5s));
  CHECK(eventually([&] { return c.poll_exit().has_value(); }, 5s));
}

TEST_CASE("the tree dies when its ChildProcess goes away unfinished") {
  DWORD pid = 0;
  std::vector<DWORD> grandchildren;
  {
    auto child = platform::ChildProcess::spawn(cmd_spec("ping -n 30 127.0.0.1 >nul"));
    REQUIRE(child.has_value());
    pid = (*child)->pid();
    REQUIRE(eventually([&] {
      grandchildren = children_of(pid);
      return !grandchildren.empty();
    }));
  }
  CHECK(eventually([&] { return process_ended(pid); }, 5s));
  for (DWORD p : grandchildren) CHECK(eventually([&] { return process_ended(p); }, 5s));
}

TEST_CASE("a held process runs only once released, and never if dropped") {
  auto spec = cmd_spec("echo released");
  spec.held = true;
  auto child = platform::ChildProcess::spawn(spec);
  REQUIRE(child.has_value());
  auto& c = **child;
  std::string out, err;
  c.read_some(300ms, 4096, out, err);
  CHECK(out.empty());
  CHECK(!c.poll_exit().has_value());
  auto record = c.group_record();
  REQUIRE(record.has_value());
  CHECK(record->group == c.pid());
  CHECK(record->leader_start > 0);
  REQUIRE(c.release().has_value());
  auto r = run_to_end(c);
  REQUIRE(r.finished);
  CHECK(r.out.find("released") != std::string::npos);

  DWORD pid = 0;
  {
    auto dropped = platform::ChildProcess::spawn(spec);
    REQUIRE(dropped.has_value());
    pid = (*dropped)->pid();
  }
  CHECK(eventually([&] { return process_ended(pid); }, 5s));
}

TEST_CASE("kill_leftover_group kills the recorded process and nothing else") {
  auto child = platform::ChildProcess::spawn(cmd_spec("ping -n 30 127.0.0.1 >nul"));
  REQUIRE(child.has_value());
  auto record = (*child)->group_record();
  REQUIRE(record.has_value());

  auto other = *record;
  other.leader_start += 1;  // the pid now names another process
  auto none = platform::kill_leftover_group(other, 1s);
  REQUIRE(none.has_value());
  CHECK(none->killed == 0);
  CHECK(!process_ended((*child)->pid()));

  auto killed = platform::kill_leftover_group(*record, 5s);
  REQUIRE(killed.has_value());
  CHECK(killed->killed == 1);
  CHECK(killed->remaining == 0);
  CHECK(process_ended((*child)->pid()));
  (*child)->kill_group();

  auto gone = platform::kill_leftover_group(*record, 1s);
  REQUIRE(gone.has_value());
  CHECK(gone->killed == 0);
}

TEST_CASE("spawn refuses what it cannot run, with the reason") {
  auto missing = platform::ChildProcess::spawn(
      {.argv = {system_dir() + "\\no-such-program.exe"}, .env = {}, .working_dir = "C:\\"});
  REQUIRE(!missing.has_value());
  CHECK(missing.error().message.find("no-such-program") != std::string::npos);
  auto relative =
      platform::ChildProcess::spawn({.argv = {"cmd.exe"}, .env = {}, .working_dir = "C:\\"});
  REQUIRE(!relative.has_value());
  CHECK(relative.error().code == rmm::Error::Code::kInvalidInput);
  auto batch = platform::ChildProcess::spawn(
      {.argv = {"C:\\x\\run.bat", "a&b"}, .env = {}, .working_dir = "C:\\"});
  REQUIRE(!batch.has_value());
  CHECK(batch.error().message.find("batch") != std::string::npos);
  auto no_dir = platform::ChildProcess::spawn(
      {.argv = {cmd()}, .env = {}, .working_dir = "C:\\no\\such\\dir"});
  CHECK(!no_dir.has_value());
}

TEST_CASE("find_program searches PATH with PATHEXT") {
  auto env = platform::base_environment();
  std::string path;
  for (const auto& e : env) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  REQUIRE(!path.empty());
  auto found = platform::find_program("cmd", path);
  REQUIRE(found.has_value());
  CHECK(std::filesystem::path(*found).filename().string() == "cmd.exe");
  CHECK(platform::is_absolute_path(*found));
  auto exact = platform::find_program(*found, "");
  REQUIRE(exact.has_value());
  CHECK(*exact == *found);
  auto missing = platform::find_program("no-such-program-here", path);
  REQUIRE(!missing.has_value());
  CHECK(missing.error().code == rmm::Error::Code::kNotFound);
  CHECK(platform::find_program("sub\\cmd.exe", path).error().code ==
        rmm::Error::Code::kInvalidInput);
}

TEST_CASE("the base environment carries what Windows programs need") {
  auto env = platform::base_environment();
  auto has = [&](std::string_view name) {
    return std::any_of(env.begin(), env.end(), [&](const std::string& e) {
      return e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=';
    });
  };
  CHECK(has("SystemRoot"));
  CHECK(has("PATH"));
  CHECK(has("ComSpec"));
  CHECK(platform::is_absolute_path(platform::default_working_dir()));
  CHECK(!platform::is_absolute_path("relative\\dir"));
  CHECK(!platform::is_absolute_path("/usr"));
}

TEST_CASE("PowerShell scripts get a BOM and run through powershell.exe -Command") {
  auto file = platform::script_file(platform::ScriptLanguage::kPowerShell, "", "Write-Output 1");
  CHECK(file.suffix == ".ps1");
  CHECK(file.text == "\xEF\xBB\xBFWrite-Output 1");
  auto argv = platform::script_argv(platform::ScriptLanguage::kPowerShell, "", "C:\\it's.ps1");
  if (platform::powershell_unavailable_reason()) {  // Wine has no PowerShell
    CHECK(!argv.has_value());
    return;
  }
  REQUIRE(argv.has_value());
  CHECK(argv->at(argv->size() - 1).find("& 'C:\\it''s.ps1'") != std::string::npos);
}

TEST_CASE("a PowerShell script runs, with UTF-8 output and its exit code (real Windows only)") {
  if (under_wine() || platform::powershell_unavailable_reason()) {
    MESSAGE("not run: no real PowerShell here (Wine's powershell.exe is a stub)");
    return;
  }
  auto file =
      platform::script_file(platform::ScriptLanguage::kPowerShell, "",
                            "$x = 1 +\n  2\nWrite-Output \"sum $x h\xC3\xA9llo \xE2\x9C\x93\"\n"
                            "[Console]::Error.WriteLine('to-stderr')\nexit 4\n");
  auto dir = temp_dir("ps");
  auto path = (dir / ("s" + file.suffix)).string();
  std::ofstream(path, std::ios::binary) << file.text;
  auto argv = platform::script_argv(platform::ScriptLanguage::kPowerShell, "", path);
  REQUIRE(argv.has_value());
  auto child = platform::ChildProcess::spawn(
      {.argv = *argv, .env = platform::base_environment(), .working_dir = dir.string()});
  REQUIRE(child.has_value());
  auto r = run_to_end(**child, 60s);
  REQUIRE(r.finished);
  CHECK(r.out.find("sum 3 h\xC3\xA9llo \xE2\x9C\x93") != std::string::npos);
  CHECK(r.err.find("to-stderr") != std::string::npos);
  CHECK(r.exit.exit_code == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a detached helper runs and writes to its log") {
  auto dir = temp_dir("detached");
  auto log = dir / "helper.log";
  REQUIRE(platform::spawn_detached({cmd(), "/d", "/s", "/c", "echo detached-ran"}, log));
  CHECK(eventually([&] {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("detached-ran") != std::string::npos;
  }));
  auto self = platform::current_executable();
  REQUIRE(self.has_value());
  CHECK(self->is_absolute());
  CHECK(std::filesystem::exists(*self));
  CHECK(!platform::spawn_detached({"relative.exe"}, log).has_value());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Run twice: by the test runner, and as the "agent" the runner starts from its own executable
// (GURURMM_TEST_ROLE=agent), which starts a command tree, prints its pids and dies without any
// cleanup. The kernel closing the dead agent's job handle must kill the tree.
TEST_CASE("a command's tree dies with the agent") {
  const char* role = std::getenv("GURURMM_TEST_ROLE");
  if (role != nullptr && std::string_view(role) == "agent") {
    auto child = platform::ChildProcess::spawn(cmd_spec("ping -n 30 127.0.0.1 >nul"));
    REQUIRE(child.has_value());
    std::vector<DWORD> grandchildren;
    REQUIRE(eventually([&] {
      grandchildren = children_of((*child)->pid());
      return !grandchildren.empty();
    }));
    std::string line = fmt::format("pids: {}", (*child)->pid());
    for (DWORD pid : grandchildren) line += fmt::format(" {}", pid);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    ::ExitProcess(0);  // no destructor runs: the kernel closes the handles
  }
  auto self = platform::current_executable();
  REQUIRE(self.has_value());
  auto spec = platform::SpawnSpec{
      .argv = {self->string(), "--test-case=a command's tree dies with the agent"},
      .env = platform::base_environment(),
      .working_dir = platform::default_working_dir()};
  spec.env.push_back("GURURMM_TEST_ROLE=agent");
  auto agent = platform::ChildProcess::spawn(spec);
  REQUIRE(agent.has_value());
  auto r = run_to_end(**agent, 30s);
  REQUIRE(r.finished);
  const auto at = r.out.find("pids:");
  REQUIRE_MESSAGE(at != std::string::npos, (r.out + r.err));
  std::istringstream in(r.out.substr(at + 5));
  std::vector<DWORD> pids;
  for (DWORD pid = 0; in >> pid;) pids.push_back(pid);
  REQUIRE(pids.size() >= 2);  // cmd.exe and ping
  for (DWORD pid : pids) CHECK(eventually([&] { return process_ended(pid); }, 5s));
}
