#include "agent/platform/linux/mounts.h"

#include <array>
#include <unordered_set>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {
namespace {

// The kernel escapes space, tab, newline and backslash in mount fields as \ooo.
std::string unescape(std::string_view s) {
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

constexpr std::array<std::string_view, 4> kImageTypes = {"squashfs", "iso9660", "udf", "erofs"};

}  // namespace

std::vector<MountEntry> parse_mounts(std::string_view text) {
  std::vector<MountEntry> out;
  scan::for_each_line(text, [&](std::string_view line) {
    auto device = scan::next_token(line);
    auto mount_point = scan::next_token(line);
    auto fstype = scan::next_token(line);
    if (fstype.empty()) return;
    out.push_back({unescape(device), unescape(mount_point), std::string(fstype)});
  });
  return out;
}

bool is_reportable_filesystem(const MountEntry& m) {
  if (m.fstype == "overlay") return m.mount_point == "/";
  if (m.fstype == "zfs") return true;
  if (!m.device.starts_with("/dev/")) return false;
  for (auto t : kImageTypes) {
    if (m.fstype == t) return false;
  }
  return true;
}

std::vector<MountEntry> select_filesystems(const std::vector<MountEntry>& mounts,
                                           std::size_t limit) {
  std::vector<MountEntry> out;
  std::unordered_set<std::string> seen;
  for (const auto& m : mounts) {
    if (out.size() >= limit) break;
    if (!is_reportable_filesystem(m) || !seen.insert(m.device).second) continue;
    out.push_back(m);
  }
  return out;
}

}  // namespace rmm::agent::linux_proc
