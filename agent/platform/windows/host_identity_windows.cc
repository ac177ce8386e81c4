// Who this machine is: names, Windows version, boot time, machine id.
#include <cctype>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/os_version_windows.h"
#include "agent/platform/windows/registry_read_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/system.h"

namespace rmm::agent::platform {
namespace {

// MachineGuid, written once at setup ("4c4c4544-0042-..."), in the shape Linux's machine-id has:
// 32 lowercase hex digits. Images cloned without sysprep share it, as clones share machine-id.
Result<std::string> machine_guid() {
  auto guid = read_machine_string(L"SOFTWARE\\Microsoft\\Cryptography", L"MachineGuid");
  if (!guid) return std::unexpected(with_context(guid.error(), "MachineGuid"));
  std::string id;
  for (char c : *guid) {
    if (c == '-' || c == '{' || c == '}') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return fail(Error::Code::kInvalidInput, "MachineGuid is not a GUID");
    }
    id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (id.size() != 32) return fail(Error::Code::kInvalidInput, "MachineGuid is not a GUID");
  return id;
}

}  // namespace

Status collect_host_identity(codec::InventoryInfo& out) {
  out.hostname = computer_name(ComputerNameDnsHostname);
  if (out.hostname.empty()) out.hostname = computer_name(ComputerNameNetBIOS);
  // Without a DNS domain the fully qualified name is the host name itself, as on Linux.
  out.fqdn = computer_name(ComputerNameDnsFullyQualified);
  if (out.fqdn.empty()) out.fqdn = out.hostname;
  out.arch = rmm::platform::machine_arch();

  auto version = read_windows_version();
  if (!version) return std::unexpected(version.error());
  out.os_name = version->product_name;
  out.os_version = version->display_version;
  out.os_pretty = version->pretty;
  out.kernel = version->kernel;

  // Whole seconds, as Linux's /proc/stat btime gives, so the value does not wobble.
  const std::uint64_t boot = boot_time_filetime();
  if (boot > kUnixEpochTicks) {
    out.boot_time_ns =
        static_cast<std::int64_t>((boot - kUnixEpochTicks) / 10'000'000) * 1'000'000'000;
  }
  auto id = machine_guid();
  if (!id) return std::unexpected(id.error());
  out.machine_id = std::move(*id);
  if (out.hostname.empty()) return fail("GetComputerNameExW gave no host name");
  if (out.boot_time_ns == 0) return fail("cannot tell the boot time");
  return {};
}

}  // namespace rmm::agent::platform
