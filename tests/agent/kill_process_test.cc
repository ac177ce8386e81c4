// platform::kill_process on Linux against real child processes: SIGTERM, SIGKILL after the grace
// period, a name that no longer matches (left alone), a pid that is gone, and what is never
// stopped.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "agent/platform/process.h"

using namespace rmm;
using namespace std::chrono_literals;

namespace {

pid_t spawn_sleep() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// A child that ignores SIGTERM (it keeps this test's name, the kernel's comm).
pid_t spawn_stubborn() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGTERM, SIG_IGN);
    for (int i = 0; i < 600; ++i) ::sleep(1);  // bounded: ends by itself within 10 min
    ::_exit(0);
  }
  return pid;
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

// The child's comm once exec replaced it ("sleep"); bounded.
void wait_for_comm(pid_t pid, const std::string& want) {
  for (int i = 0; i < 200 && comm_of(pid) != want; ++i) ::usleep(10'000);
  REQUIRE(comm_of(pid) == want);
}

int reap(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("kill_process stops a running process with SIGTERM") {
  const pid_t pid = spawn_sleep();
  REQUIRE(pid > 0);
  wait_for_comm(pid, "sleep");
  auto r = agent::platform::kill_process(static_cast<std::uint32_t>(pid), "sleep");
  REQUIRE(r.has_value());
  CHECK(r->find("stopped (SIGTERM)") != std::string::npos);
  const int status = reap(pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
}

TEST_CASE("kill_process leaves a process alone when its name no longer matches") {
  const pid_t pid = spawn_sleep();
  REQUIRE(pid > 0);
  wait_for_comm(pid, "sleep");
  auto r = agent::platform::kill_process(static_cast<std::uint32_t>(pid), "postgres");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Error::Code::kConflict);
  CHECK(r.error().message.find("left alone") != std::string::npos);
  CHECK(::kill(pid, 0) == 0);  // still running
  ::kill(pid, SIGKILL);
  reap(pid);
}

TEST_CASE("kill_process sends SIGKILL when SIGTERM is ignored past the grace period") {
  const pid_t pid = spawn_stubborn();
  REQUIRE(pid > 0);
  ::usleep(100'000);  // let the child install its SIG_IGN
  const std::string name = comm_of(pid);
  REQUIRE_FALSE(name.empty());
  auto r = agent::platform::kill_process(static_cast<std::uint32_t>(pid), name, 300ms);
  REQUIRE(r.has_value());
  CHECK(r->find("SIGKILL") != std::string::npos);
  const int status = reap(pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("kill_process: a pid that is gone, pid 1 and the agent itself") {
  const pid_t pid = spawn_sleep();
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  reap(pid);
  auto gone = agent::platform::kill_process(static_cast<std::uint32_t>(pid), "sleep");
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == Error::Code::kNotFound);
  CHECK_FALSE(agent::platform::kill_process(1, "systemd").has_value());
  auto self = agent::platform::kill_process(static_cast<std::uint32_t>(::getpid()), "x");
  REQUIRE_FALSE(self.has_value());
  CHECK(self.error().message.find("itself") != std::string::npos);
}
