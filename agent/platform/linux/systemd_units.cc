#include "agent/platform/linux/systemd_units.h"

#include "agent/platform/linux/text_scan.h"
#include "agent/platform/text_limits.h"

namespace rmm::agent::linux_proc {

ServiceList parse_systemctl_units(std::string_view text, std::size_t limit) {
  ServiceList list;
  scan::for_each_line(text, [&](std::string_view line) {
    auto unit = scan::next_token(line);
    if (unit == "\u25cf" || unit == "*") unit = scan::next_token(line);
    auto load = scan::next_token(line);
    auto active = scan::next_token(line);
    auto sub = scan::next_token(line);
    if (sub.empty()) return;
    if (list.services.size() >= limit) {
      list.truncated = true;
      return;
    }
    list.services.push_back({platform::clip_text(unit), platform::clip_text(load),
                             platform::clip_text(active), platform::clip_text(sub)});
  });
  return list;
}

}  // namespace rmm::agent::linux_proc
