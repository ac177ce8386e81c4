// The polite stop of a Windows process of ours (SIGTERM's counterpart): each rmm program listens
// on a named event that carries its pid, and whoever may stop it (rmm-watchdog, rmm-updater)
// sets that event. A console control event (GenerateConsoleCtrlEvent) would not do: it reaches
// only processes attached to the sender's console, and a service has no console.
//
// The event lives in the Global\ namespace so a process in another session (an administrator's
// console stopping the agent service in session 0) reaches it; a process without the privilege to
// create global objects falls back to its session's namespace. Its DACL lets only SYSTEM and
// Administrators (and the creating user) set it, so no other local user can stop the agent.
//
// Concurrency: listen_for_stop_requests() starts one thread for the life of the process; it calls
// rmm::shutdown::request() when the event is set.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace rmm::win {

// Creates this process's stop event and its waiting thread; later calls do nothing.
Status listen_for_stop_requests();
// Sets the stop event of `pid`. kNotFound when that process does not (yet) listen.
Status request_stop(std::uint32_t pid);

}  // namespace rmm::win
