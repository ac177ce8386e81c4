// One shutdown path per process: SIGTERM or SIGINT (Windows: Ctrl+C, Ctrl+Break, the console
// closing; a service's stop request calls request()) sets a flag that every service loop waits on.
//
// install() is per platform (common/platform/*/shutdown_signals_*.cc). POSIX: it blocks the
// signals in the calling thread (call it first in main, before any thread is started, so every
// thread inherits the mask) and starts one thread that sigwait()s for them. Windows: a console
// control handler.
// Concurrency: requested()/wait_for() are safe from any thread.
#pragma once

#include <chrono>

namespace rmm::shutdown {

void install();
// Asks for shutdown from inside the process (tests, fatal errors).
void request();
bool requested();
// Sleeps up to `d`; returns true early when shutdown is requested.
bool wait_for(std::chrono::milliseconds d);

}  // namespace rmm::shutdown
