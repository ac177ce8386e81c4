#include "common/log.h"
#include "common/platform/windows/windows_api.h"
#include "common/shutdown.h"

namespace rmm::shutdown {
namespace {

// Runs on a thread Windows creates for the event. Returning TRUE for Ctrl+C and Ctrl+Break keeps
// the process alive until its loops have stopped; for close, logoff and shutdown Windows ends the
// process when the handler returns, so those only start the shutdown.
BOOL WINAPI on_console_event(DWORD event) {
  const char* name = "console";
  switch (event) {
    case CTRL_C_EVENT:
      name = "ctrl-c";
      break;
    case CTRL_BREAK_EVENT:
      name = "ctrl-break";
      break;
    case CTRL_CLOSE_EVENT:
      name = "close";
      break;
    case CTRL_SHUTDOWN_EVENT:
      name = "shutdown";
      break;
    default:
      return FALSE;
  }
  log::info("shutdown.signal", {{"signal", name}});
  request();
  return TRUE;
}

}  // namespace

void install() {
  ::SetConsoleCtrlHandler(on_console_event, TRUE);
}

}  // namespace rmm::shutdown
