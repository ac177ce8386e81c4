// common/agent_local.h's process checks with kill(pid, 0); Linux's /proc tells a zombie apart.
#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "common/agent_local.h"

namespace rmm::local {

bool process_exists(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie still answers kill(0) until its parent reaps it; it is not running.
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  if (!stat) return ::kill(pid, 0) == 0 || errno == EPERM;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace rmm::local
