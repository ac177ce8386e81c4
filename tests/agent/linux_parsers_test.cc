// The Linux collector parsers on fixture files of real /proc and /sys contents, plus hand-made
// edge cases.
#include <doctest/doctest.h>

#include "agent/platform/linux/cpu_stat.h"
#include "agent/platform/linux/diskstats.h"
#include "agent/platform/linux/meminfo.h"
#include "agent/platform/linux/mounts.h"
#include "agent/platform/linux/net_dev.h"
#include "tests/agent/collector_fixtures.h"

using namespace rmm::agent::linux_proc;
using rmm::test::collector_fixture;

TEST_CASE("proc/stat: aggregate, per-CPU lines and boot time") {
  auto a = parse_proc_stat(collector_fixture("proc_stat.1"));
  auto b = parse_proc_stat(collector_fixture("proc_stat.2"));
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->cpus.size() == 2);
  CHECK(a->boot_time_s == 1795739776u);
  // cpu  42982 0 5858 91857 579 0 67 93: busy = user+nice+system+irq+softirq+steal
  CHECK(a->all.busy == 42982u + 5858u + 67u + 93u);
  CHECK(a->all.total == a->all.busy + 91857u + 579u);
  CHECK(b->all.total > a->all.total);
  const float pct = cpu_busy_percent(a->all, b->all);
  CHECK(pct >= 0.0f);
  CHECK(pct <= 100.0f);
  for (std::size_t i = 0; i < 2; ++i) {
    const float core = cpu_busy_percent(a->cpus[i], b->cpus[i]);
    CHECK(core >= 0.0f);
    CHECK(core <= 100.0f);
  }
}

TEST_CASE("proc/stat: percentages between two readings, and malformed input") {
  auto a = parse_proc_stat("cpu 100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
  auto b = parse_proc_stat("cpu 150 0 150 1700 0 0 0 0 0 0\ncpu0 150 0 150 1700 0 0 0 0 0 0\n");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(cpu_busy_percent(a->all, b->all) == doctest::Approx(10.0));
  CHECK(cpu_busy_percent(b->all, a->all) == 0.0f);  // counters went backwards
  CHECK(cpu_busy_percent(a->all, a->all) == 0.0f);  // no time passed
  // Old kernels print four columns.
  auto old = parse_proc_stat("cpu 1 2 3 4\n");
  REQUIRE(old.has_value());
  CHECK(old->all.total == 10u);
  CHECK_FALSE(parse_proc_stat("intr 1 2 3\n").has_value());
  CHECK_FALSE(parse_proc_stat("cpu 1 x 3 4\n").has_value());
  CHECK_FALSE(parse_proc_stat("").has_value());
}

TEST_CASE("loadavg") {
  auto l = parse_loadavg(collector_fixture("loadavg"));
  REQUIRE(l.has_value());
  CHECK(l->load1 == doctest::Approx(3.89));
  CHECK(l->load5 == doctest::Approx(1.90));
  CHECK(l->load15 == doctest::Approx(0.78));
  CHECK_FALSE(parse_loadavg("1.0 abc").has_value());
}

TEST_CASE("meminfo: used, cached and swap") {
  auto m = parse_meminfo(collector_fixture("meminfo"));
  REQUIRE(m.has_value());
  CHECK(m->total == 24684092ull * 1024);
  CHECK(m->available == 23354580ull * 1024);
  CHECK(m->used == m->total - m->available);
  CHECK(m->cached == (248248ull + 1973272ull + 176948ull) * 1024);
  CHECK(m->swap_total == 0);
  CHECK(m->swap_used == 0);

  // A pre-3.14 kernel without MemAvailable; swap in use.
  auto old = parse_meminfo(
      "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\n"
      "SwapTotal: 400 kB\nSwapFree: 300 kB\n");
  REQUIRE(old.has_value());
  CHECK(old->available == 350u * 1024);
  CHECK(old->used == 650u * 1024);
  CHECK(old->swap_used == 100u * 1024);
  CHECK_FALSE(parse_meminfo("MemFree: 1 kB\n").has_value());
}

TEST_CASE("mounts: real filesystems only, deduplicated by device") {
  auto real = select_filesystems(parse_mounts(collector_fixture("mounts")), 64);
  REQUIRE(real.size() == 1);
  CHECK(real[0].mount_point == "/");
  CHECK(real[0].device == "/dev/vda");
  CHECK(real[0].fstype == "ext4");

  auto all = parse_mounts(collector_fixture("mounts.edge"));
  CHECK(all.size() == 13);  // "broken line" has no type
  auto picked = select_filesystems(all, 64);
  std::vector<std::string> mounts;
  for (const auto& m : picked) mounts.push_back(m.mount_point);
  // sda2 bind-mounted again, per-container overlays, squashfs, nfs, tmpfs, proc, cgroup2 and
  // fuse are left out; the escaped space is decoded.
  CHECK(mounts == std::vector<std::string>{"/", "/boot/efi", "/srv/my data", "/", "/home"});
  CHECK(picked[3].fstype == "overlay");
  CHECK(select_filesystems(all, 2).size() == 2);
}

TEST_CASE("diskstats: whole disks with I/O, bytes from 512-byte sectors") {
  auto disks = parse_diskstats(collector_fixture("diskstats"));
  CHECK(disks.size() == 10);
  auto picked = select_disks(disks, {"vda", "zram0", "loop0"}, 64);
  REQUIRE(picked.size() == 1);  // loops and the idle zram0 are left out
  const auto& vda = picked[0];
  CHECK(vda.name == "vda");
  CHECK(vda.reads == 60191);
  CHECK(vda.writes == 32159);
  CHECK(vda.read_bytes == 2685690ull * 512);
  CHECK(vda.write_bytes == 3236376ull * 512);
  CHECK(vda.io_time_ms == 8288);

  auto parts = parse_diskstats(
      " 8 0 sda 10 0 80 0 5 0 40 0 0 7 0\n 8 1 sda1 10 0 80 0 5 0 40 0 0 7 0\n 8 2 bad 1 2\n");
  CHECK(parts.size() == 2);
  CHECK(select_disks(parts, {"sda"}, 64).size() == 1);
  CHECK(select_disks(parts, {}, 64).size() == 2);  // no /sys/block: keep what is there
}

TEST_CASE("net/dev: every interface, header skipped") {
  auto nets = parse_net_dev(collector_fixture("net_dev"));
  REQUIRE(nets.size() == 4);
  CHECK(nets[0].name == "lo");
  CHECK(nets[0].rx_bytes == 211881);
  CHECK(nets[0].tx_packets == 1751);
  CHECK(nets[3].name == "eth0");
  CHECK(nets[3].rx_bytes == 54320343);
  CHECK(nets[3].tx_bytes == 85171);
  auto glued = parse_net_dev("  eth1:123 4 5 6 0 0 0 0 789 10 11 12 0 0 0 0\n");
  REQUIRE(glued.size() == 1);
  CHECK(glued[0].rx_bytes == 123);
  CHECK(glued[0].rx_drops == 6);
  CHECK(glued[0].tx_errors == 11);
  CHECK(glued[0].tx_drops == 12);
}
