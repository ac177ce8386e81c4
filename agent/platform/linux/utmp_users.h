// Logged-in users from the utmp database (/run/utmp).
//
// The records are parsed from the file's bytes rather than walked with getutxent(): that API
// keeps a process-wide cursor (not thread-safe) and cannot be pointed at test data without
// changing global state.
#pragma once

#include <cstdint>
#include <string_view>

namespace rmm::agent::linux_proc {

// Distinct user names among the USER_PROCESS records (login sessions) of a utmp file's bytes;
// a trailing partial record is ignored.
std::uint32_t count_logged_in_users(std::string_view utmp_bytes);

}  // namespace rmm::agent::linux_proc
