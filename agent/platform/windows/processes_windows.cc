// Process count and the top processes by CPU share and by working set.
#include <algorithm>
#include <cstring>
#include <memory>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// ProcessCommandLineInformation (Windows 8.1 and later; not in MinGW's PROCESSINFOCLASS): the
// command line of another process with PROCESS_QUERY_LIMITED_INFORMATION only, no PEB reading.
constexpr int kProcessCommandLineInformation = 60;

struct HandleCloser {
  void operator()(HANDLE h) const { ::CloseHandle(h); }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

struct Sample {
  std::uint32_t pid = 0;
  std::wstring name;
  std::uint64_t start_ticks = 0;  // creation time, 100 ns since 1601
  std::uint64_t cpu_ticks = 0;    // kernel + user, 100 ns
  std::uint64_t rss_bytes = 0;    // working set
  float cpu_percent = 0;
};

// Times and working set of one process. Protected processes (csrss, the System process on some
// versions) refuse even limited access: they keep zeros and only count.
void read_usage(HANDLE process, Sample& s) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (::GetProcessTimes(process, &created, &exited, &kernel, &user)) {
    s.start_ticks = filetime_ticks(created);
    s.cpu_ticks = filetime_ticks(kernel) + filetime_ticks(user);
  }
  PROCESS_MEMORY_COUNTERS mem{};
  if (::GetProcessMemoryInfo(process, &mem, sizeof mem)) s.rss_bytes = mem.WorkingSetSize;
}

std::string command_line(HANDLE process) {
  std::vector<std::byte> buffer(4096);
  for (int attempt = 0; attempt < 3; ++attempt) {
    ULONG needed = 0;
    const NTSTATUS status = ::NtQueryInformationProcess(
        process, static_cast<PROCESSINFOCLASS>(kProcessCommandLineInformation), buffer.data(),
        static_cast<ULONG>(buffer.size()), &needed);
    if (NT_SUCCESS(status)) {
      UNICODE_STRING text;
      std::memcpy(&text, buffer.data(), sizeof text);
      if (text.Buffer == nullptr) return {};
      return rmm::win::to_utf8(std::wstring_view(text.Buffer, text.Length / sizeof(wchar_t)));
    }
    // A command line is at most 32767 characters: 70 KiB always fits.
    if (needed <= buffer.size() || needed > 70 * 1024) return {};
    buffer.assign(needed, std::byte{0});
  }
  return {};
}

std::string image_path(HANDLE process) {
  wchar_t path[MAX_PATH * 4];
  DWORD size = static_cast<DWORD>(std::size(path));
  if (!::QueryFullProcessImageNameW(process, 0, path, &size)) return {};
  return rmm::win::to_utf8(std::wstring_view(path, size));
}

// The account a process runs as, by name ("SYSTEM", "alice"), cached by SID string.
std::string account_name(SamplerState& state, HANDLE process) {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(process, TOKEN_QUERY, &raw)) return {};
  UniqueHandle token(raw);
  alignas(8) std::byte buffer[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  DWORD size = 0;
  if (!::GetTokenInformation(token.get(), TokenUser, buffer, sizeof buffer, &size)) return {};
  PSID sid = reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid;
  wchar_t* sid_text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &sid_text)) return {};
  const std::string key = rmm::win::to_utf8(sid_text);
  ::LocalFree(sid_text);
  if (auto it = state.account_names.find(key); it != state.account_names.end()) return it->second;

  wchar_t name[256], domain[256];
  DWORD name_size = static_cast<DWORD>(std::size(name));
  DWORD domain_size = static_cast<DWORD>(std::size(domain));
  SID_NAME_USE use{};
  // An unresolvable SID (a deleted account, an unreachable domain) is shown as the SID itself.
  std::string result =
      ::LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)
          ? clip_text(rmm::win::to_utf8(std::wstring_view(name, name_size)))
          : clip_text(key);
  if (state.account_names.size() > 4096) state.account_names.clear();  // bounded cache
  return state.account_names.emplace(key, std::move(result)).first->second;
}

// Indexes of the top `n` by CPU and the top `n` by working set, deduplicated, CPU ranking
// first; ties go to the lower pid so the choice is stable.
std::vector<std::size_t> select_top(const std::vector<Sample>& samples, std::size_t n) {
  std::vector<std::size_t> by_cpu(samples.size());
  for (std::size_t i = 0; i < by_cpu.size(); ++i) by_cpu[i] = i;
  auto by_mem = by_cpu;
  const std::size_t k = std::min(n, samples.size());
  auto ranked = [&](auto key) {
    return [&, key](std::size_t a, std::size_t b) {
      if (key(samples[a]) != key(samples[b])) return key(samples[a]) > key(samples[b]);
      return samples[a].pid < samples[b].pid;
    };
  };
  std::partial_sort(by_cpu.begin(), by_cpu.begin() + k, by_cpu.end(),
                    ranked([](const Sample& s) { return static_cast<double>(s.cpu_percent); }));
  std::partial_sort(by_mem.begin(), by_mem.begin() + k, by_mem.end(),
                    ranked([](const Sample& s) { return static_cast<double>(s.rss_bytes); }));
  std::vector<std::size_t> out(by_cpu.begin(), by_cpu.begin() + k);
  for (std::size_t i = 0; i < k; ++i) {
    if (std::find(out.begin(), out.end(), by_mem[i]) == out.end()) out.push_back(by_mem[i]);
  }
  return out;
}

}  // namespace

Status collect_processes(SamplerState& state, codec::MetricsInfo& out) {
  auto machine = machine_cpu_time();
  if (!machine) return std::unexpected(machine.error());
  UniqueHandle snapshot(::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (snapshot.get() == INVALID_HANDLE_VALUE) {
    snapshot.release();
    return std::unexpected(rmm::win::last_error("CreateToolhelp32Snapshot"));
  }
  std::vector<Sample> samples;
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = ::Process32FirstW(snapshot.get(), &entry); more;
       more = ::Process32NextW(snapshot.get(), &entry)) {
    // Pid 0 is the "System Idle Process": its CPU time is the idle time, not a process's.
    if (entry.th32ProcessID == 0) continue;
    Sample s;
    s.pid = entry.th32ProcessID;
    s.name = entry.szExeFile;
    if (UniqueHandle p(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, s.pid)); p) {
      read_usage(p.get(), s);
    }
    samples.push_back(std::move(s));
  }

  // CPU share of the whole machine since the previous scan (100 = every processor busy), as on
  // Linux. A process unseen before, or a reused pid (other creation time), started inside the
  // interval: all its time counts. The first scan reads 0 everywhere.
  const std::uint64_t elapsed =
      state.processes_total_ticks != 0 && machine->total > state.processes_total_ticks
          ? machine->total - state.processes_total_ticks
          : 0;
  if (!state.processes.empty() && elapsed > 0) {
    for (auto& s : samples) {
      std::uint64_t used = s.cpu_ticks;
      auto it = state.processes.find(s.pid);
      if (it != state.processes.end() && it->second.start_ticks == s.start_ticks) {
        used = s.cpu_ticks >= it->second.cpu_ticks ? s.cpu_ticks - it->second.cpu_ticks : 0;
      }
      const double pct = 100.0 * static_cast<double>(used) / static_cast<double>(elapsed);
      s.cpu_percent = static_cast<float>(std::min(pct, 100.0));
    }
  }

  std::vector<codec::ProcessInfo> top;
  for (std::size_t i : select_top(samples, kTopProcesses)) {
    const auto& s = samples[i];
    codec::ProcessInfo info{
        s.pid, clip_text(rmm::win::to_utf8(s.name)), {}, s.cpu_percent, s.rss_bytes, {}};
    if (UniqueHandle p(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, s.pid)); p) {
      info.user = account_name(state, p.get());
      info.cmdline = command_line(p.get());
      if (info.cmdline.empty()) info.cmdline = image_path(p.get());
    }
    if (info.cmdline.empty()) info.cmdline = info.name;
    info.cmdline = clip_text(info.cmdline, kMaxCmdlineBytes);
    top.push_back(std::move(info));
  }

  state.processes.clear();
  for (const auto& s : samples) state.processes[s.pid] = {s.start_ticks, s.cpu_ticks};
  state.processes_total_ticks = machine->total;
  out.process_count = static_cast<std::uint32_t>(samples.size());
  out.top_processes = std::move(top);
  return {};
}

}  // namespace rmm::agent::platform
