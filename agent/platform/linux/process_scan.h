// Reads every process under a /proc root (the live "/proc", or a fixture tree in tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/platform/linux/processes.h"

namespace rmm::agent::linux_proc {

// Every process whose stat file could be read and parsed. A process that exits while the scan
// runs (its directory listed, its files gone) is skipped, never an error.
std::vector<ProcessSample> scan_processes(const std::filesystem::path& proc_root,
                                          std::uint64_t page_size);

// The details read only for the processes a sample reports. nullopt when the process is gone.
struct ProcessDetails {
  std::optional<std::uint32_t> uid;
  std::string cmdline;  // format_cmdline; "[comm]" for kernel threads, which have none
};
std::optional<ProcessDetails> read_process_details(const std::filesystem::path& proc_root,
                                                   const ProcessSample& sample,
                                                   std::size_t cmdline_max_bytes);

}  // namespace rmm::agent::linux_proc
