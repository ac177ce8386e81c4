// The collector registry, the codec of the new payloads, and the bounded program runner.
#include <doctest/doctest.h>

#include <set>

#include "agent/collectors/inventory.h"
#include "agent/collectors/metrics_collector.h"
#include "agent/collectors/registry.h"
#include "common/event_codec.h"

using namespace rmm;
using namespace rmm::agent;

namespace {
codec::AgentEventHeader header() {
  UuidBytes agent{};
  agent[0] = 0x01;
  agent[6] = 0x70;
  return {EventId::generate(real_clock()), AgentId(agent), AgentSeq{7}, 1'750'000'000'000'000'000};
}
}  // namespace

TEST_CASE("registry: unique names, every collector declared for Linux, fields owned once") {
  std::set<std::string_view> names;
  for (const auto& c : collectors::metrics_collectors()) {
    CHECK(names.insert(c.name).second);
    CHECK((c.collect != nullptr));
    CHECK((c.platforms & collectors::kLinux) != 0);
    CHECK(collectors::is_known_collector(c.name));
  }
  for (const auto& c : collectors::inventory_collectors()) {
    CHECK(names.insert(c.name).second);
    CHECK((c.collect != nullptr));
  }
  CHECK(collectors::metrics_collectors().size() == 10);
  CHECK(collectors::inventory_collectors().size() == 5);
  CHECK(collectors::supported_here(collectors::kLinux));
  CHECK_FALSE(collectors::supported_here(collectors::kWindows | collectors::kMacos));
  CHECK_FALSE(collectors::is_known_collector("no_such_collector"));
}

TEST_CASE("codec: a full MetricsSample round-trips; lists absent when not collected") {
  codec::MetricsInfo m;
  m.cpu_percent = 42.5f;
  m.memory_total_bytes = 8ull << 30;
  m.cpu_interval_ms = 60'000;
  m.cpu_core_percent = std::vector<float>{10.0f, 75.0f};
  m.swap_total_bytes = 2ull << 30;
  m.swap_used_bytes = 1ull << 20;
  m.filesystems = std::vector<codec::FilesystemInfo>{{"/", "ext4", "/dev/sda1", 5, 10, 1, 2}};
  m.temperatures = std::vector<codec::TemperatureInfo>{};  // collected: no sensors
  m.top_processes =
      std::vector<codec::ProcessInfo>{{123, "nginx", "www-data", 12.5f, 4096, "nginx -g"}};
  m.uptime_s = 99;
  m.process_count = 321;
  m.logged_in_users = 2;
  m.collection_errors = {"disk_io: cannot read /proc/diskstats"};
  auto bytes = codec::build_metrics(header(), m);
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  const auto* s = (*env)->payload_as_MetricsSample();
  REQUIRE(s != nullptr);
  CHECK(s->cpu_percent() == doctest::Approx(42.5));
  CHECK(s->cpu_interval_ms() == 60'000);
  REQUIRE(s->cpu_core_percent() != nullptr);
  CHECK(s->cpu_core_percent()->size() == 2);
  CHECK(s->cpu_core_percent()->Get(1) == doctest::Approx(75.0));
  CHECK(s->swap_used_bytes() == 1ull << 20);
  REQUIRE(s->filesystems() != nullptr);
  CHECK(s->filesystems()->Get(0)->device()->str() == "/dev/sda1");
  CHECK(s->filesystems()->Get(0)->inodes_total() == 2);
  REQUIRE(s->temperatures() != nullptr);  // present and empty: "no sensors"
  CHECK(s->temperatures()->size() == 0);
  CHECK(s->disks() == nullptr);  // not collected
  CHECK(s->network() == nullptr);
  CHECK(s->top_processes()->Get(0)->user()->str() == "www-data");
  CHECK(s->top_processes()->Get(0)->cmdline()->str() == "nginx -g");
  CHECK(s->process_count() == 321);
  CHECK(s->logged_in_users() == 2);
  CHECK(s->collection_errors()->size() == 1);
  CHECK(codec::event_type_token((*env)->payload_type()) == "metrics");
}

TEST_CASE("codec: Inventory and OutboxDropped round-trip with their subject tokens") {
  codec::InventoryInfo inv;
  inv.hostname = "web-1";
  inv.machine_id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
  inv.boot_time_ns = 1'700'000'000'000'000'000;
  inv.cpu_threads = 8;
  inv.interfaces = {{"eth0", "02:00:00:00:00:01", {"10.0.0.5/24", "fe80::1/64"}}};
  inv.package_manager = "dpkg";
  inv.packages = {{"bash", "5.2.15-2+b2", "amd64"}};
  inv.services_unavailable_reason = "systemd is not running";
  auto bytes = codec::build_inventory(header(), inv);
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  const auto* i = (*env)->payload_as_Inventory();
  REQUIRE(i != nullptr);
  CHECK(i->hostname()->str() == "web-1");
  CHECK(i->boot_time_ns() == inv.boot_time_ns);
  CHECK(i->interfaces()->Get(0)->addresses()->size() == 2);
  CHECK(i->packages()->Get(0)->version()->str() == "5.2.15-2+b2");
  REQUIRE(i->services() != nullptr);
  CHECK(i->services()->size() == 0);
  CHECK(i->services_unavailable_reason()->str() == "systemd is not running");
  CHECK(codec::event_type_token((*env)->payload_type()) == "inventory");
  CHECK(codec::payload_for_token("inventory") == schema::Payload::Inventory);

  auto dropped = codec::build_outbox_dropped(header(), {10, 3, 100, 250});
  auto denv = codec::verify_event(dropped);
  REQUIRE(denv.has_value());
  const auto* d = (*denv)->payload_as_OutboxDropped();
  REQUIRE(d != nullptr);
  CHECK(d->dropped_metrics() == 10);
  CHECK(d->dropped_heartbeats() == 3);
  CHECK(d->oldest_dropped_seq() == 100);
  CHECK(d->newest_dropped_seq() == 250);
  CHECK(codec::payload_for_token("outbox_dropped") == schema::Payload::OutboxDropped);
}

TEST_CASE("metrics collector: switched-off collectors leave their fields unset") {
  collectors::MetricsOptions opts;
  opts.baseline = std::chrono::milliseconds(0);
  for (const auto& c : collectors::metrics_collectors()) {
    if (c.name != "memory") opts.disabled.insert(std::string(c.name));
  }
  collectors::MetricsCollector collector(opts);
  auto m = collector.sample();
  REQUIRE(m.has_value());
  CHECK(m->memory_total_bytes > 0);
  CHECK_FALSE(m->filesystems.has_value());
  CHECK_FALSE(m->top_processes.has_value());
  CHECK(m->collection_errors.empty());
}

TEST_CASE("inventory bound: a hostile host's inventory still fits the broker's max_payload") {
  codec::InventoryInfo inv;
  inv.hostname = std::string(256, 'h');
  for (int i = 0; i < 10'000; ++i) {
    inv.packages.push_back({std::string(256, 'p'), std::string(256, 'v'), std::string(256, 'a')});
  }
  for (int i = 0; i < 2'000; ++i) {
    inv.services.push_back({std::string(256, 's'), std::string(256, 'l'), std::string(256, 'a'),
                            std::string(256, 'u')});
  }
  for (int i = 0; i < 64; ++i) {
    inv.interfaces.push_back({std::string(256, 'i'), std::string(256, 'm'),
                              std::vector<std::string>(16, std::string(256, 'x'))});
  }
  collectors::bound_inventory(inv, collectors::kMaxInventoryBytes);
  CHECK(inv.packages_truncated);
  CHECK(inv.packages.size() < 10'000);
  auto bytes = codec::build_inventory(header(), inv);
  CHECK(bytes.size() <= collectors::estimate_inventory_bytes(inv));
  CHECK(bytes.size() > collectors::kMaxInventoryBytes / 2);  // trimmed to fit, not emptied
  CHECK(bytes.size() <= collectors::kMaxInventoryBytes);
  CHECK(codec::verify_event(bytes).has_value());

  codec::InventoryInfo small;
  small.packages = {{"bash", "5.2", "amd64"}};
  const auto estimate = collectors::estimate_inventory_bytes(small);
  collectors::bound_inventory(small, collectors::kMaxInventoryBytes);
  CHECK(small.packages.size() == 1);
  CHECK_FALSE(small.packages_truncated);
  CHECK(codec::build_inventory(header(), small).size() <= estimate);  // an upper estimate
}
