// The Windows collectors on the live host, checked for the shape of every value (the Windows half
// of tests/agent/collectors_live_test.cc), and the SMBIOS parser on fixed bytes.
//
// Under Wine some collectors cannot work (Wine has no disk performance counters, for one); the
// test names those explicitly and requires every other one to succeed.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/collectors/inventory.h"
#include "agent/collectors/metrics_collector.h"
#include "agent/collectors/registry.h"
#include "agent/platform/host_info.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/registry_read_windows.h"
#include "agent/platform/windows/smbios.h"
#include "agent/platform/windows/software_windows.h"
#include "common/event_codec.h"
#include "common/platform/windows/windows_api.h"

using namespace rmm;
using namespace rmm::agent;

namespace {

codec::AgentEventHeader header() {
  UuidBytes agent{};
  agent[0] = 0x02;
  agent[6] = 0x70;
  return {EventId::generate(real_clock()), AgentId(agent), AgentSeq{1}, real_clock().now()};
}

bool bounded(const std::string& s, std::size_t max = platform::kMaxTextBytes) {
  return s.size() <= max;
}

// Wine's ntdll exports wine_get_version; Windows' does not.
bool under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// "name: message" entries of collection_errors, by collector name.
std::set<std::string> failed_collectors(const std::vector<std::string>& errors) {
  std::set<std::string> names;
  for (const auto& e : errors) names.insert(e.substr(0, e.find(':')));
  return names;
}

// Collectors that fail on every Windows machine by design (see collectors_windows.cc), and
// those Wine 8 cannot serve (measured: it has no \\.\PhysicalDriveN performance counters).
std::set<std::string> expected_failures() {
  std::set<std::string> names{"load"};
  if (under_wine()) names.insert("disk_io");
  return names;
}

// --- SMBIOS: a RawSMBIOSData blob built by hand ---

void put_structure(std::vector<std::uint8_t>& table, std::uint8_t type,
                   std::vector<std::uint8_t> formatted_tail, std::vector<std::string> strings) {
  const auto length = static_cast<std::uint8_t>(4 + formatted_tail.size());
  table.insert(table.end(), {type, length, 0x00, 0x01});
  table.insert(table.end(), formatted_tail.begin(), formatted_tail.end());
  if (strings.empty()) {
    table.insert(table.end(), {0, 0});
    return;
  }
  for (const auto& s : strings) {
    table.insert(table.end(), s.begin(), s.end());
    table.push_back(0);
  }
  table.push_back(0);
}

std::vector<std::uint8_t> raw_smbios(const std::vector<std::uint8_t>& table,
                                     std::uint32_t declared_length) {
  std::vector<std::uint8_t> raw{0, 3, 4, 0};
  for (int i = 0; i < 4; ++i) raw.push_back(static_cast<std::uint8_t>(declared_length >> (8 * i)));
  raw.insert(raw.end(), table.begin(), table.end());
  return raw;
}

std::vector<std::uint8_t> sample_table() {
  std::vector<std::uint8_t> t;
  // Type 0: vendor = 1, version = 2, (starting segment, 2 bytes), release date = 3.
  put_structure(t, 0, {1, 2, 0x00, 0xF0, 3}, {"  ACME BIOS", "1.2.3   ", "01/02/2024"});
  // Type 1: manufacturer = 1, product = 2, version = 0 (none), serial = 3, then a UUID.
  std::vector<std::uint8_t> system{1, 2, 0, 3};
  system.resize(4 + 16, 0xAB);
  put_structure(t, 1, system, {"Contoso Ltd.", "Model X", "SN-0042"});
  // Type 2: manufacturer = 1, product = 2, version = 3, serial = 4.
  put_structure(t, 2, {1, 2, 3, 4}, {"Board Co", "B-100", "rev A", "BRD-7"});
  // Type 3 without strings: its string set is two NULs.
  put_structure(t, 3, {0, 0, 0, 0, 0}, {});
  put_structure(t, 127, {}, {});
  return t;
}

}  // namespace

TEST_CASE("parse_smbios reads the BIOS, system and board strings") {
  const auto table = sample_table();
  auto facts = platform::parse_smbios(raw_smbios(table, static_cast<std::uint32_t>(table.size())));
  REQUIRE(facts.has_value());
  CHECK(facts->bios_vendor == "ACME BIOS");
  CHECK(facts->bios_version == "1.2.3");
  CHECK(facts->system_vendor == "Contoso Ltd.");
  CHECK(facts->system_product == "Model X");
  CHECK(facts->system_serial == "SN-0042");
  CHECK(facts->board_vendor == "Board Co");
  CHECK(facts->board_product == "B-100");
  CHECK(facts->board_serial == "BRD-7");
}

TEST_CASE("parse_smbios: absent strings, bad indexes and a cut table") {
  std::vector<std::uint8_t> t;
  // Serial index 9 points past the two strings there are; product index 0 means "none".
  put_structure(t, 1, {1, 0, 0, 9}, {"Vendor", "unused"});
  auto facts = platform::parse_smbios(raw_smbios(t, static_cast<std::uint32_t>(t.size())));
  REQUIRE(facts.has_value());
  CHECK(facts->system_vendor == "Vendor");
  CHECK(facts->system_product.empty());
  CHECK(facts->system_serial.empty());
  CHECK(facts->board_vendor.empty());

  // Cut in the middle of the type 1 strings: type 0 before it is kept, nothing after it is read.
  const auto full = sample_table();
  const std::size_t type0_bytes = 9 + 12 + 9 + 11 + 1;  // formatted area, 3 strings, final NUL
  const std::size_t cut = type0_bytes + 10;
  std::vector<std::uint8_t> partial(full.begin(), full.begin() + cut);
  auto cut_facts =
      platform::parse_smbios(raw_smbios(partial, static_cast<std::uint32_t>(partial.size())));
  REQUIRE(cut_facts.has_value());
  CHECK(cut_facts->bios_vendor == "ACME BIOS");
  CHECK(cut_facts->board_vendor.empty());

  // A structure whose length byte is below the 4-byte header ends the walk.
  std::vector<std::uint8_t> bad{1, 2, 0, 0};
  auto bad_facts = platform::parse_smbios(raw_smbios(bad, 4));
  REQUIRE(bad_facts.has_value());
  CHECK(bad_facts->system_vendor.empty());
}

TEST_CASE("parse_smbios refuses an unusable header") {
  const std::vector<std::uint8_t> short_header{0, 3, 4};
  CHECK_FALSE(platform::parse_smbios(short_header).has_value());
  const auto table = sample_table();
  auto too_long = raw_smbios(table, static_cast<std::uint32_t>(table.size() + 1));
  CHECK_FALSE(platform::parse_smbios(too_long).has_value());
}

TEST_CASE("registry reads: a present string, a missing value, a missing key") {
  auto name = platform::read_machine_string(L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
                                            L"ProductName");
  REQUIRE(name.has_value());
  CHECK(name->find("Windows") != std::string::npos);
  auto missing = platform::read_machine_string(L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
                                               L"NoSuchValue-gururmm");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == Error::Code::kNotFound);
  auto no_key = platform::RegistryKey::open(HKEY_LOCAL_MACHINE, L"SOFTWARE\\NoSuchKey-gururmm");
  REQUIRE_FALSE(no_key.has_value());
  CHECK(no_key.error().code == Error::Code::kNotFound);
}

namespace {

// A key under HKEY_CURRENT_USER for one test, deleted with everything under it at the end.
class ScratchKey {
 public:
  ScratchKey() : path_(L"Software\\GuruRMM-test-" + std::to_wstring(::GetCurrentProcessId())) {}
  ~ScratchKey() { ::RegDeleteTreeW(HKEY_CURRENT_USER, path_.c_str()); }
  ScratchKey(const ScratchKey&) = delete;
  ScratchKey& operator=(const ScratchKey&) = delete;
  const std::wstring& path() const { return path_; }

  void set(const std::wstring& subkey, const wchar_t* name, const std::wstring& text) {
    HKEY key = create(subkey);
    ::RegSetValueExW(key, name, 0, REG_SZ, reinterpret_cast<const BYTE*>(text.c_str()),
                     static_cast<DWORD>((text.size() + 1) * sizeof(wchar_t)));
    ::RegCloseKey(key);
  }
  void set(const std::wstring& subkey, const wchar_t* name, DWORD value) {
    HKEY key = create(subkey);
    ::RegSetValueExW(key, name, 0, REG_DWORD, reinterpret_cast<const BYTE*>(&value), sizeof value);
    ::RegCloseKey(key);
  }

 private:
  HKEY create(const std::wstring& subkey) {
    HKEY key = nullptr;
    const std::wstring full = path_ + L"\\" + subkey;
    REQUIRE(::RegCreateKeyExW(HKEY_CURRENT_USER, full.c_str(), 0, nullptr, 0, KEY_WRITE, nullptr,
                              &key, nullptr) == ERROR_SUCCESS);
    return key;
  }
  std::wstring path_;
};

}  // namespace

TEST_CASE("installed programs: what an Uninstall key lists, and its limits") {
  ScratchKey scratch;
  scratch.set(L"Editor", L"DisplayName", L"Text Editor \u00e9");
  scratch.set(L"Editor", L"DisplayVersion", L"2.4.1");
  scratch.set(L"Tool", L"DisplayName", L"Tool");
  scratch.set(L"Runtime-part", L"DisplayName", L"Runtime component");
  scratch.set(L"Runtime-part", L"SystemComponent", DWORD{1});
  scratch.set(L"KB123", L"DisplayName", L"Update for Text Editor");
  scratch.set(L"KB123", L"ParentKeyName", L"Editor");
  scratch.set(L"NoName", L"DisplayVersion", L"1.0");

  platform::UninstallScan scan;
  const platform::UninstallLimits roomy{100, 1 << 20};
  REQUIRE(platform::scan_uninstall_key(HKEY_CURRENT_USER, scratch.path(), 0, "x64", roomy, scan)
              .has_value());
  CHECK_FALSE(scan.truncated);
  REQUIRE(scan.packages.size() == 2);
  std::sort(scan.packages.begin(), scan.packages.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  CHECK(scan.packages[0].name == "Text Editor \xc3\xa9");  // UTF-16 in, UTF-8 out
  CHECK(scan.packages[0].version == "2.4.1");
  CHECK(scan.packages[0].arch == "x64");
  CHECK(scan.packages[1].name == "Tool");
  CHECK(scan.packages[1].version.empty());

  platform::UninstallScan one;
  REQUIRE(
      platform::scan_uninstall_key(HKEY_CURRENT_USER, scratch.path(), 0, "x86", {1, 1 << 20}, one)
          .has_value());
  CHECK(one.packages.size() == 1);
  CHECK(one.truncated);

  platform::UninstallScan none;
  auto missing = platform::scan_uninstall_key(HKEY_CURRENT_USER, scratch.path() + L"\\absent", 0,
                                              "x64", roomy, none);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == Error::Code::kNotFound);
}

TEST_CASE("the registry declares the Windows collectors") {
  CHECK(collectors::supported_here(collectors::kWindows));
  for (const auto& c : collectors::metrics_collectors()) {
    CAPTURE(c.name);
    CHECK(collectors::supported_here(c.platforms) == (c.name != "load"));
  }
  for (const auto& c : collectors::inventory_collectors()) {
    CAPTURE(c.name);
    CHECK(collectors::supported_here(c.platforms));
  }
}

TEST_CASE("host_info on this host") {
  auto info = platform::read_host_info();
  REQUIRE(info.has_value());
  CHECK_FALSE(info->hostname.empty());
  CHECK(info->os_name.find("Windows") != std::string::npos);
  CHECK(std::count(info->kernel.begin(), info->kernel.end(), '.') >= 2);
  CHECK(info->arch == "x86_64");
  CHECK(info->cpu_count == std::thread::hardware_concurrency());
  CHECK(info->memory_total_bytes > 0);

  auto up = platform::uptime_seconds();
  REQUIRE(up.has_value());
  auto id = platform::boot_id();
  REQUIRE(id.has_value());
  MESSAGE("boot id: ", *id);
  CHECK((id->starts_with("bootid-") || id->starts_with("boottime-")));
  auto again = platform::boot_id();
  REQUIRE(again.has_value());
  CHECK(*again == *id);  // one boot, one id
}

TEST_CASE("every metrics collector on this host: value shapes") {
  collectors::MetricsCollector collector;
  auto first = collector.sample();
  REQUIRE(first.has_value());
  // Burn some CPU so the second sample measures a non-idle interval.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  volatile std::uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  auto m = collector.sample();
  REQUIRE(m.has_value());
  for (const auto& e : m->collection_errors) MESSAGE("collection error: ", e);
  const auto failed = failed_collectors(m->collection_errors);
  CHECK(failed == expected_failures());

  CHECK(first->cpu_interval_ms >= 150);  // the first sample measured over its baseline
  CHECK(m->cpu_interval_ms > 0);
  CHECK(m->cpu_percent >= 0.0f);
  CHECK(m->cpu_percent <= 100.0f);
  REQUIRE(m->cpu_core_percent.has_value());
  CHECK(m->cpu_core_percent->size() == std::thread::hardware_concurrency());
  for (float c : *m->cpu_core_percent) {
    CHECK(c >= 0.0f);
    CHECK(c <= 100.0f);
  }
  CHECK(m->memory_total_bytes > 0);
  CHECK(m->memory_used_bytes <= m->memory_total_bytes);
  CHECK(m->memory_available_bytes <= m->memory_total_bytes);
  CHECK(m->memory_used_bytes + m->memory_available_bytes == m->memory_total_bytes);
  CHECK(m->memory_cached_bytes <= m->memory_total_bytes);
  CHECK(m->swap_used_bytes <= m->swap_total_bytes);

  REQUIRE(m->filesystems.has_value());
  REQUIRE_FALSE(m->filesystems->empty());
  bool system_drive = false;
  for (const auto& f : *m->filesystems) {
    CAPTURE(f.mount);
    CHECK(f.total_bytes > 0);
    CHECK(f.used_bytes <= f.total_bytes);
    CHECK(f.inodes_total == 0);  // Windows has no inode counts
    CHECK(f.mount.size() >= 3);
    CHECK(f.mount[1] == ':');  // a drive letter, or a folder on one
    CHECK(f.mount.ends_with('\\'));
    // Wine maps drive letters to folders, not volumes.
    if (!under_wine()) CHECK(f.device.starts_with("\\\\?\\Volume{"));
    CHECK(bounded(f.mount));
    CHECK_FALSE(f.fstype.empty());
    if (f.mount == "C:\\") system_drive = true;
  }
  CHECK(system_drive);
  if (!under_wine()) {
    REQUIRE(m->disks.has_value());
    REQUIRE_FALSE(m->disks->empty());
    for (const auto& d : *m->disks) {
      CHECK(d.name.starts_with("PhysicalDrive"));
      CHECK(d.reads + d.writes > 0);
    }
  }
  REQUIRE(m->network.has_value());
  REQUIRE_FALSE(m->network->empty());
  for (const auto& n : *m->network) {
    CHECK_FALSE(n.name.empty());
    CHECK(bounded(n.name));
  }
  REQUIRE(m->temperatures.has_value());  // present, possibly empty (no ACPI thermal zone)
  for (const auto& t : *m->temperatures) {
    CHECK(t.celsius > -100.0f);
    CHECK(t.celsius < 250.0f);
    CHECK(t.chip == "acpi-thermal-zone");
    CHECK_FALSE(t.label.empty());
  }
  CHECK(m->uptime_s > 0);
  CHECK(m->process_count > 0);
  MESSAGE("processes ", m->process_count, ", users ", m->logged_in_users, ", volumes ",
          m->filesystems->size(), ", interfaces ", m->network->size(), ", thermal zones ",
          m->temperatures->size(), ", swap ", m->swap_used_bytes, "/", m->swap_total_bytes);
  CHECK(m->logged_in_users < 100'000);

  REQUIRE(m->top_processes.has_value());
  CHECK_FALSE(m->top_processes->empty());
  CHECK(m->top_processes->size() <= 2 * platform::kTopProcesses);
  bool self = false;
  for (const auto& p : *m->top_processes) {
    CAPTURE(p.pid);
    CAPTURE(p.name);
    CHECK(p.pid > 0);
    CHECK(p.cpu_percent >= 0.0f);
    CHECK(p.cpu_percent <= 100.0f);
    CHECK_FALSE(p.name.empty());
    CHECK_FALSE(p.cmdline.empty());
    CHECK(bounded(p.cmdline, platform::kMaxCmdlineBytes));
    if (p.pid == ::GetCurrentProcessId()) {
      self = true;
      CHECK(p.cpu_percent > 0.0f);  // it spun a core for 300 ms
      CHECK(p.rss_bytes > 0);
      CHECK_FALSE(p.user.empty());
      CHECK(p.cmdline.find("exe") != std::string::npos);
    }
  }
  CHECK(self);  // this test spun a core: it ranks in the top 10 by CPU

  auto bytes = codec::build_metrics(header(), *m);
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  CHECK((*env)->payload_as_MetricsSample() != nullptr);
  MESSAGE("MetricsSample bytes: ", bytes.size());
  CHECK(bytes.size() < 64 * 1024);
}

TEST_CASE("every inventory collector on this host: value shapes") {
  auto inv = collectors::collect_inventory();
  REQUIRE(inv.has_value());
  for (const auto& e : inv->collection_errors) MESSAGE("collection error: ", e);
  CHECK(inv->collection_errors.empty());

  CHECK_FALSE(inv->hostname.empty());
  CHECK_FALSE(inv->fqdn.empty());
  CHECK(inv->fqdn.starts_with(inv->hostname));
  // "Windows 11 Pro" on Windows, "Microsoft Windows 7" under Wine's default configuration.
  CHECK(inv->os_name.find("Windows") != std::string::npos);
  CHECK(inv->os_pretty.starts_with(inv->os_name));
  CHECK(inv->os_pretty.find("(build ") != std::string::npos);
  CHECK(std::count(inv->kernel.begin(), inv->kernel.end(), '.') >= 2);
  CHECK(inv->arch == "x86_64");
  CHECK(inv->boot_time_ns > 1'000'000'000ll * 1'000'000'000ll);  // after 2001
  CHECK(inv->boot_time_ns < real_clock().now());
  CHECK(inv->boot_time_ns % 1'000'000'000 == 0);  // whole seconds, no wobble
  CHECK(inv->cpu_threads == std::thread::hardware_concurrency());
  CHECK(inv->cpu_sockets >= 1);
  CHECK(inv->cpu_cores >= inv->cpu_sockets);
  CHECK(inv->cpu_cores <= inv->cpu_threads);
  CHECK(inv->memory_total_bytes > 0);
  REQUIRE(inv->machine_id.size() == 32);
  CHECK(inv->machine_id.find_first_not_of("0123456789abcdef") == std::string::npos);
  MESSAGE("os: ", inv->os_pretty, " kernel ", inv->kernel, "; cpu: ", inv->cpu_model,
          "; dmi: ", inv->dmi_vendor, " / ", inv->dmi_product);

  REQUIRE_FALSE(inv->interfaces.empty());
  bool any_address = false;
  for (const auto& i : inv->interfaces) {
    CAPTURE(i.name);
    CHECK_FALSE(i.name.empty());
    CHECK(i.addresses.size() <= platform::kMaxAddressesPerInterface);
    for (const auto& a : i.addresses) {
      CHECK(a.find('/') != std::string::npos);
      any_address = true;
    }
    if (!i.mac.empty()) CHECK(i.mac.size() == 17);
  }
  CHECK(any_address);

  CHECK(inv->package_manager == "windows-uninstall");
  CHECK(inv->packages.size() <= platform::kMaxPackages);
  for (const auto& p : inv->packages) {
    CHECK_FALSE(p.name.empty());
    CHECK((p.arch == "x64" || p.arch == "x86"));
  }
  CHECK_FALSE(inv->services.empty());  // Wine runs its own services (rpcss, plugplay, ...)
  CHECK(inv->services_unavailable_reason.empty());
  bool running = false;
  const std::set<std::string> start_types{"auto", "auto-delayed", "manual", "disabled",
                                          "boot", "system",       "unknown"};
  for (const auto& s : inv->services) {
    CAPTURE(s.name);
    CHECK_FALSE(s.name.empty());
    CHECK(start_types.contains(s.load_state));
    running = running || (s.active_state == "active" && s.sub_state == "running");
  }
  CHECK(running);
  MESSAGE("interfaces ", inv->interfaces.size(), ", programs ", inv->packages.size(), ", services ",
          inv->services.size());

  auto bytes = codec::build_inventory(header(), *inv);
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  REQUIRE((*env)->payload_as_Inventory() != nullptr);
  CHECK((*env)->payload_as_Inventory()->machine_id()->str() == inv->machine_id);
  MESSAGE("Inventory bytes: ", bytes.size());
  CHECK(bytes.size() < 1024 * 1024);
}
