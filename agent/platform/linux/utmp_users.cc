#include "agent/platform/linux/utmp_users.h"

#include <utmpx.h>

#include <cstring>
#include <set>
#include <string>

namespace rmm::agent::linux_proc {

std::uint32_t count_logged_in_users(std::string_view utmp_bytes) {
  std::set<std::string> users;
  for (std::size_t off = 0; off + sizeof(utmpx) <= utmp_bytes.size(); off += sizeof(utmpx)) {
    utmpx record;
    std::memcpy(&record, utmp_bytes.data() + off, sizeof record);  // the file has no alignment
    if (record.ut_type != USER_PROCESS) continue;
    std::string name(record.ut_user, strnlen(record.ut_user, sizeof record.ut_user));
    if (!name.empty()) users.insert(std::move(name));
  }
  return static_cast<std::uint32_t>(users.size());
}

}  // namespace rmm::agent::linux_proc
