// /proc/mounts parsing and the choice of which filesystems a MetricsSample reports.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmm::agent::linux_proc {

struct MountEntry {
  std::string device;
  std::string mount_point;
  std::string fstype;
};

// /proc/mounts (or /proc/self/mounts): octal escapes (\040 for a space) decoded; malformed lines
// skipped.
std::vector<MountEntry> parse_mounts(std::string_view text);

// Whether a mount is a real filesystem worth reporting: block-device backed (device under /dev/,
// except read-only image types such as squashfs and iso9660, which are always full), a ZFS
// dataset, or an overlay mounted at "/" (a container's root). Pseudo filesystems (proc, sysfs,
// tmpfs, cgroup, ...) are not; neither are network filesystems, whose statvfs can block for
// minutes on a dead server, nor per-container overlays.
bool is_reportable_filesystem(const MountEntry& m);

// The reportable mounts, first mount of each device only (bind mounts and btrfs subvolume
// mounts repeat a device), at most `limit` of them, in /proc/mounts order.
std::vector<MountEntry> select_filesystems(const std::vector<MountEntry>& mounts,
                                           std::size_t limit);

}  // namespace rmm::agent::linux_proc
