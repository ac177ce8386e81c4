#include "agent/platform/linux/process_scan.h"

#include <string_view>
#include <system_error>

#include "agent/platform/linux/text_scan.h"
#include "agent/platform/posix/read_file.h"

namespace rmm::agent::linux_proc {
namespace fs = std::filesystem;

std::vector<ProcessSample> scan_processes(const fs::path& proc_root, std::uint64_t page_size) {
  std::vector<ProcessSample> out;
  std::error_code ec;
  for (fs::directory_iterator it(proc_root, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (!scan::to_number<std::uint32_t>(name)) continue;
    auto text = posix::read_file(it->path() / "stat", 4096);
    if (!text) continue;  // exited since the directory was listed
    auto stat = parse_proc_pid_stat(*text);
    if (!stat) continue;
    out.push_back({stat->pid, std::move(stat->comm), stat->cpu_ticks, stat->start_ticks,
                   stat->rss_pages * page_size, 0});
  }
  return out;
}

std::optional<ProcessDetails> read_process_details(const fs::path& proc_root,
                                                   const ProcessSample& sample,
                                                   std::size_t cmdline_max_bytes) {
  const fs::path dir = proc_root / std::to_string(sample.pid);
  auto status = posix::read_file(dir / "status", 64 * 1024);
  if (!status) return std::nullopt;
  ProcessDetails d;
  d.uid = parse_proc_pid_status(*status).uid;
  // Reading cmdline can block on a process whose memory map is locked; it is read only for the
  // few processes a sample reports.
  auto cmdline = posix::read_file(dir / "cmdline", cmdline_max_bytes + 4);
  if (cmdline) d.cmdline = format_cmdline(*cmdline, cmdline_max_bytes);
  if (d.cmdline.empty()) d.cmdline = "[" + sample.comm + "]";
  return d;
}

}  // namespace rmm::agent::linux_proc
