// Runs every Linux collector on this machine and checks the shape of every value: the
// integration half of the collector tests (the parsers are tested on fixtures).
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "agent/collectors/inventory.h"
#include "agent/collectors/metrics_collector.h"
#include "agent/collectors/registry.h"
#include "agent/platform/text_limits.h"
#include "common/event_codec.h"

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
}  // namespace

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
  CHECK(m->collection_errors.empty());

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
  CHECK(m->load1 >= 0.0f);
  CHECK(m->memory_total_bytes > 0);
  CHECK(m->memory_used_bytes <= m->memory_total_bytes);
  CHECK(m->memory_available_bytes <= m->memory_total_bytes);
  CHECK(m->memory_cached_bytes <= m->memory_total_bytes);
  CHECK(m->swap_used_bytes <= m->swap_total_bytes);

  REQUIRE(m->filesystems.has_value());
  REQUIRE_FALSE(m->filesystems->empty());
  for (const auto& f : *m->filesystems) {
    CAPTURE(f.mount);
    CHECK(f.total_bytes > 0);
    CHECK(f.used_bytes <= f.total_bytes);
    CHECK(f.inodes_used <= f.inodes_total);
    CHECK(f.mount.starts_with('/'));
    CHECK(bounded(f.mount));
    CHECK_FALSE(f.fstype.empty());
  }
  REQUIRE(m->disks.has_value());
  for (const auto& d : *m->disks) {
    CHECK_FALSE(d.name.empty());
    CHECK(d.reads + d.writes > 0);
  }
  REQUIRE(m->network.has_value());
  bool loopback = false;
  for (const auto& n : *m->network) {
    if (n.name == "lo") loopback = true;
    CHECK(bounded(n.name));
  }
  CHECK(loopback);
  REQUIRE(m->temperatures.has_value());  // present, possibly empty
  for (const auto& t : *m->temperatures) {
    CHECK(t.celsius > -100.0f);
    CHECK(t.celsius < 250.0f);
    CHECK_FALSE(t.label.empty());
  }
  CHECK(m->uptime_s > 0);
  CHECK(m->process_count > 0);
  CHECK(m->logged_in_users < 100'000);

  REQUIRE(m->top_processes.has_value());
  CHECK_FALSE(m->top_processes->empty());
  CHECK(m->top_processes->size() <= 2 * platform::kTopProcesses);
  bool self = false;
  for (const auto& p : *m->top_processes) {
    CAPTURE(p.pid);
    CHECK(p.pid > 0);
    CHECK(p.cpu_percent >= 0.0f);
    CHECK(p.cpu_percent <= 100.0f);
    CHECK_FALSE(p.name.empty());
    CHECK_FALSE(p.user.empty());
    CHECK_FALSE(p.cmdline.empty());
    CHECK(bounded(p.cmdline, platform::kMaxCmdlineBytes));
    if (p.pid == static_cast<std::uint32_t>(::getpid())) self = true;
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
  CHECK_FALSE(inv->os_name.empty());
  CHECK_FALSE(inv->kernel.empty());
  CHECK_FALSE(inv->arch.empty());
  CHECK(inv->boot_time_ns > 1'000'000'000ll * 1'000'000'000ll);  // after 2001
  CHECK(inv->boot_time_ns < real_clock().now());
  CHECK(inv->cpu_threads == std::thread::hardware_concurrency());
  CHECK(inv->cpu_sockets >= 1);
  CHECK(inv->cpu_cores >= inv->cpu_sockets);
  CHECK(inv->cpu_cores <= inv->cpu_threads);
  CHECK(inv->memory_total_bytes > 0);
  REQUIRE(inv->machine_id.size() == 32);
  CHECK(inv->machine_id.find_first_not_of("0123456789abcdef") == std::string::npos);

  bool loopback = false;
  for (const auto& i : inv->interfaces) {
    if (i.name == "lo") {
      loopback = true;
      bool v4 = false;
      for (const auto& a : i.addresses) v4 = v4 || a == "127.0.0.1/8";
      CHECK(v4);
    }
    CHECK(i.addresses.size() <= platform::kMaxAddressesPerInterface);
    if (!i.mac.empty()) CHECK(i.mac.size() == 17);
  }
  CHECK(loopback);

  if (std::filesystem::exists("/var/lib/dpkg/status")) {
    CHECK(inv->package_manager == "dpkg");
    CHECK(inv->packages.size() > 10);
    bool libc = false;
    for (const auto& p : inv->packages) libc = libc || p.name == "libc6";
    CHECK(libc);
  }
  CHECK(inv->packages.size() <= platform::kMaxPackages);
  if (std::filesystem::exists("/run/systemd/system")) {
    CHECK_FALSE(inv->services.empty());
    CHECK(inv->services_unavailable_reason.empty());
  } else {
    CHECK(inv->services.empty());
    CHECK_FALSE(inv->services_unavailable_reason.empty());
  }

  auto bytes = codec::build_inventory(header(), *inv);
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  REQUIRE((*env)->payload_as_Inventory() != nullptr);
  CHECK((*env)->payload_as_Inventory()->machine_id()->str() == inv->machine_id);
  MESSAGE("Inventory bytes: ", bytes.size());
  CHECK(bytes.size() < 1024 * 1024);  // under the broker's default max_payload
}
