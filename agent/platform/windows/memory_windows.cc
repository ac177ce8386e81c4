// Physical memory, the file cache and the page files.
#include <cstring>

#include "agent/platform/collectors.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// SystemPagefileInformation (class 18) answers with one of these per page file, chained by
// NextEntryOffset; sizes are in pages. Not in the SDK headers.
struct PagefileEntry {
  ULONG next_entry_offset;
  ULONG total_pages;
  ULONG pages_in_use;
  ULONG peak_pages;
  UNICODE_STRING name;
};

struct Swap {
  std::uint64_t total = 0;
  std::uint64_t used = 0;
};

Result<Swap> page_files(std::uint64_t page_size) {
  auto bytes = query_system_information(SystemPagefileInformation, 4096, 1 << 20);
  if (!bytes) return std::unexpected(bytes.error());
  Swap swap;
  std::size_t offset = 0;
  // An empty answer means no page file is configured.
  while (offset + sizeof(PagefileEntry) <= bytes->size()) {
    PagefileEntry e;
    std::memcpy(&e, bytes->data() + offset, sizeof e);
    swap.total += static_cast<std::uint64_t>(e.total_pages) * page_size;
    swap.used += static_cast<std::uint64_t>(e.pages_in_use) * page_size;
    if (e.next_entry_offset == 0) break;
    offset += e.next_entry_offset;
  }
  return swap;
}

}  // namespace

Status collect_memory(SamplerState&, codec::MetricsInfo& out) {
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof status;
  if (!::GlobalMemoryStatusEx(&status)) {
    return std::unexpected(rmm::win::last_error("GlobalMemoryStatusEx"));
  }
  PERFORMANCE_INFORMATION perf{};
  perf.cb = sizeof perf;
  if (!::GetPerformanceInfo(&perf, sizeof perf)) {
    return std::unexpected(rmm::win::last_error("GetPerformanceInfo"));
  }

  out.memory_total_bytes = status.ullTotalPhys;
  out.memory_available_bytes = std::min(status.ullAvailPhys, status.ullTotalPhys);
  out.memory_used_bytes = status.ullTotalPhys - out.memory_available_bytes;
  // SystemCache: the file cache's resident pages, the closest match of Linux's "Cached".
  out.memory_cached_bytes = std::min<std::uint64_t>(
      static_cast<std::uint64_t>(perf.SystemCache) * perf.PageSize, status.ullTotalPhys);

  // GlobalMemoryStatusEx's "page file" figures are the commit limit and charge (RAM plus page
  // files), not the page files: their own size and use come from ntdll.
  if (auto swap = page_files(perf.PageSize)) {
    out.swap_total_bytes = swap->total;
    out.swap_used_bytes = std::min(swap->used, swap->total);
  } else {
    // Where ntdll does not answer (Wine): the commit limit minus RAM is the page files' size,
    // and the commit charge beyond the RAM in use is taken as their use. An estimate (committed
    // pages need not be resident anywhere), the one Windows tools used before per-file figures.
    out.swap_total_bytes = status.ullTotalPageFile > status.ullTotalPhys
                               ? status.ullTotalPageFile - status.ullTotalPhys
                               : 0;
    const std::uint64_t commit =
        status.ullTotalPageFile - std::min(status.ullAvailPageFile, status.ullTotalPageFile);
    out.swap_used_bytes = std::min(
        commit > out.memory_used_bytes ? commit - out.memory_used_bytes : 0, out.swap_total_bytes);
  }
  return {};
}

}  // namespace rmm::agent::platform
