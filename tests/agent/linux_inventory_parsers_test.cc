// Process, sensor, login, package, service and hardware parsers on fixtures.
#include <doctest/doctest.h>
#include <utmpx.h>

#include <cstring>

#include "agent/platform/linux/hardware.h"
#include "agent/platform/linux/packages.h"
#include "agent/platform/linux/process_scan.h"
#include "agent/platform/linux/processes.h"
#include "agent/platform/linux/sensors.h"
#include "agent/platform/linux/systemd_units.h"
#include "agent/platform/linux/utmp_users.h"
#include "agent/platform/text_limits.h"
#include "tests/agent/collector_fixtures.h"

using namespace rmm::agent::linux_proc;
using rmm::test::collector_fixture;
using rmm::test::collector_fixture_dir;

TEST_CASE("proc/<pid>/stat: real processes and a name holding parentheses") {
  auto bash = parse_proc_pid_stat(collector_fixture("proc/10642/stat"));
  REQUIRE(bash.has_value());
  CHECK(bash->pid == 10642);
  CHECK(bash->comm == "bash");
  CHECK(bash->state == 'S');
  CHECK(bash->pgrp == 10642);
  CHECK(bash->session == 10642);
  CHECK(bash->cpu_ticks == 1 + 2);
  CHECK(bash->start_ticks == 62765);
  CHECK(bash->rss_pages == 976);

  auto evil = parse_proc_pid_stat(collector_fixture("proc/4242/stat"));
  REQUIRE(evil.has_value());
  CHECK(evil->comm == "evil) S (x) y");
  CHECK(evil->state == 'R');
  CHECK(evil->pgrp == 4242);
  CHECK(evil->session == 4242);
  CHECK(evil->cpu_ticks == 6000);
  CHECK(evil->rss_pages == 25600);

  CHECK_FALSE(parse_proc_pid_stat("").has_value());
  CHECK_FALSE(parse_proc_pid_stat("12 (x) S 1 2").has_value());  // truncated
  CHECK_FALSE(parse_proc_pid_stat("x (y) S").has_value());
}

TEST_CASE("proc/<pid>/status and cmdline") {
  auto s = parse_proc_pid_status(collector_fixture("proc/4242/status"));
  CHECK(s.name == "evil) S (x) y");
  CHECK(s.uid == 1000u);
  CHECK(s.rss_bytes == 102400ull * 1024);
  auto kthread = parse_proc_pid_status("Name:\tkworker/0:1\nUid:\t0\t0\t0\t0\n");
  CHECK(kthread.uid == 0u);
  CHECK_FALSE(kthread.rss_bytes.has_value());

  CHECK(format_cmdline(collector_fixture("proc/13445/cmdline"), 256) == "sleep 1234");
  auto long_cmd = format_cmdline(collector_fixture("proc/4242/cmdline"), 256);
  CHECK(long_cmd.size() <= 256);
  CHECK(long_cmd.starts_with("/usr/bin/python3 -c xxx"));
  auto tail = format_cmdline(std::string("a\0b\xff\xfe\0", 6), 256);
  CHECK(tail == "a b??");  // invalid UTF-8 replaced, trailing NUL dropped
}

TEST_CASE("process scan: a fixture /proc with a vanished process and a non-pid entry") {
  auto samples = scan_processes(collector_fixture_dir() / "proc", 4096);
  std::vector<std::uint32_t> pids;
  for (const auto& s : samples) pids.push_back(s.pid);
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<std::uint32_t>{4242, 10642, 13445});  // 777 vanished, acpi not a pid
  const auto& evil =
      *std::find_if(samples.begin(), samples.end(), [](const auto& s) { return s.pid == 4242; });
  CHECK(evil.rss_bytes == 25600ull * 4096);

  auto details = read_process_details(collector_fixture_dir() / "proc", evil, 64);
  REQUIRE(details.has_value());
  CHECK(details->uid == 1000u);
  CHECK(details->cmdline.size() <= 64);
  ProcessSample gone{777, "gone", 0, 0, 0, 0};
  CHECK_FALSE(read_process_details(collector_fixture_dir() / "proc", gone, 64).has_value());
  CHECK(scan_processes(collector_fixture_dir() / "no-such-proc", 4096).empty());
}

TEST_CASE("process CPU %: deltas, reused pids, first scan, top selection") {
  std::vector<ProcessSample> now = {{1, "a", 150, 10, 100, 0},
                                    {2, "b", 40, 20, 900, 0},
                                    {3, "new", 30, 99, 50, 0},
                                    {4, "reused", 25, 77, 10, 0}};
  std::unordered_map<std::uint32_t, PreviousTicks> prev = {
      {1, {10, 100}}, {2, {20, 40}}, {4, {5, 500}}};
  compute_cpu_percent(now, prev, 200);
  CHECK(now[0].cpu_percent == doctest::Approx(25.0));  // 50 of 200 all-CPU ticks
  CHECK(now[1].cpu_percent == 0.0f);
  CHECK(now[2].cpu_percent == doctest::Approx(15.0));  // started inside the interval
  CHECK(now[3].cpu_percent == doctest::Approx(12.5));  // pid reused: other start time
  compute_cpu_percent(now, {}, 200);
  for (const auto& s : now) CHECK(s.cpu_percent == 0.0f);

  std::vector<ProcessSample> many;
  for (std::uint32_t i = 1; i <= 30; ++i) {
    // CPU rises with the pid, memory falls with it: the two top-10 sets are disjoint.
    many.push_back({i, "p", 0, 0, (31 - i) * 1000ull, static_cast<float>(i)});
  }
  auto top = select_top_processes(many, 10);
  CHECK(top.size() == 20);
  CHECK(many[top[0]].pid == 30);
  CHECK(many[top[10]].pid == 1);
  for (auto& s : many) s.rss_bytes = s.pid * 1000ull;  // now the same processes lead both
  CHECK(select_top_processes(many, 10).size() == 10);
  CHECK(select_top_processes({}, 10).empty());
}

TEST_CASE("sensors: thermal zones and hwmon chips, and a machine without sensors") {
  auto temps = read_temperatures(collector_fixture_dir() / "sys", 64);
  REQUIRE(temps.size() == 5);
  CHECK(temps[0].chip == "thermal_zone");
  CHECK(temps[0].label == "x86_pkg_temp");
  CHECK(temps[0].celsius == doctest::Approx(45.0));  // zone1 reads garbage: skipped
  CHECK(temps[1].chip == "coretemp");
  CHECK(temps[1].label == "Package id 0");
  CHECK(temps[1].celsius == doctest::Approx(52.0));
  CHECK(temps[2].label == "Core 0");
  CHECK(temps[2].celsius == doctest::Approx(-1.5));
  CHECK(temps[3].label == "temp3");  // no label file
  CHECK(temps[4].chip == "nvme");
  CHECK(temps[4].celsius == doctest::Approx(38.85));
  CHECK(read_temperatures(collector_fixture_dir() / "sys", 2).size() == 2);
  CHECK(read_temperatures(collector_fixture_dir() / "no-sensors-here", 64).empty());

  CHECK(parse_millidegrees("45000\n") == 45.0f);
  CHECK_FALSE(parse_millidegrees("-273150").has_value());
  CHECK_FALSE(parse_millidegrees("255000").has_value());
  CHECK_FALSE(parse_millidegrees("").has_value());
}

TEST_CASE("utmp: distinct users of login sessions") {
  auto record = [](short type, const char* user) {
    utmpx u{};
    u.ut_type = type;
    std::strncpy(u.ut_user, user, sizeof u.ut_user);
    return std::string(reinterpret_cast<const char*>(&u), sizeof u);
  };
  std::string file = record(BOOT_TIME, "reboot") + record(USER_PROCESS, "alice") +
                     record(USER_PROCESS, "bob") + record(USER_PROCESS, "alice") +
                     record(DEAD_PROCESS, "carol") + record(LOGIN_PROCESS, "LOGIN");
  CHECK(count_logged_in_users(file) == 2);
  CHECK(count_logged_in_users(file + "partial") == 2);
  CHECK(count_logged_in_users("") == 0);
}

TEST_CASE("dpkg status: installed packages only, limits") {
  const PackageLimits big{10'000, 1 << 20};
  auto real = parse_dpkg_status(collector_fixture("dpkg_status"), big);
  CHECK(real.packages.size() == 40);
  CHECK_FALSE(real.truncated);
  for (const auto& p : real.packages) {
    CHECK_FALSE(p.name.empty());
    CHECK_FALSE(p.version.empty());
    CHECK_FALSE(p.arch.empty());
  }

  auto edge = parse_dpkg_status(collector_fixture("dpkg_status.edge"), big);
  REQUIRE(edge.packages.size() == 2);
  CHECK(edge.packages[0].name == "kept");
  CHECK(edge.packages[0].version == "1:2.3-4");  // not the "Version:" inside the description
  CHECK(edge.packages[0].arch == "amd64");
  CHECK(edge.packages[1].name == "noarch-tail");  // last stanza without a trailing blank line
  CHECK(edge.packages[1].arch.empty());

  auto capped = parse_dpkg_status(collector_fixture("dpkg_status"), {5, 1 << 20});
  CHECK(capped.packages.size() == 5);
  CHECK(capped.truncated);
  auto byte_capped = parse_dpkg_status(collector_fixture("dpkg_status"), {10'000, 100});
  CHECK(byte_capped.truncated);
  CHECK(byte_capped.packages.size() < 10);
}

TEST_CASE("rpm -qa output") {
  auto list = parse_rpm_qa(collector_fixture("rpm_qa"), {10'000, 1 << 20});
  REQUIRE(list.packages.size() == 3);
  CHECK(list.packages[0].name == "bash");
  CHECK(list.packages[0].version == "5.1.8-6.el9_1");
  CHECK(list.packages[0].arch == "x86_64");
  CHECK(list.packages[2].arch.empty());  // gpg-pubkey's "(none)"
}

TEST_CASE("systemctl list-units output") {
  auto list = parse_systemctl_units(collector_fixture("systemctl_units"), 100);
  REQUIRE(list.services.size() == 5);
  CHECK(list.services[0].name == "cron.service");
  CHECK(list.services[0].load_state == "loaded");
  CHECK(list.services[0].active_state == "active");
  CHECK(list.services[0].sub_state == "running");
  CHECK(list.services[2].name == "nfs-server.service");  // bullet skipped
  CHECK(list.services[2].load_state == "not-found");
  CHECK(list.services[4].active_state == "failed");
  auto capped = parse_systemctl_units(collector_fixture("systemctl_units"), 2);
  CHECK(capped.services.size() == 2);
  CHECK(capped.truncated);
}

TEST_CASE("CPU topology and machine-id") {
  auto t = parse_cpu_topology(collector_fixture("../cpuinfo.x86_64"));
  CHECK(t.threads == 2);
  CHECK(t.sockets >= 1);
  CHECK(t.cores >= 1);
  CHECK(t.cores <= t.threads);
  auto two_sockets = parse_cpu_topology(
      "processor: 0\nphysical id: 0\ncore id: 0\nprocessor: 1\nphysical id: 0\ncore id: 0\n"
      "processor: 2\nphysical id: 1\ncore id: 0\nprocessor: 3\nphysical id: 1\ncore id: 1\n");
  CHECK(two_sockets.sockets == 2);
  CHECK(two_sockets.cores == 3);
  CHECK(two_sockets.threads == 4);
  auto arm = parse_cpu_topology("processor: 0\nBogoMIPS: 50\n\nprocessor: 1\n");
  CHECK(arm.sockets == 1);
  CHECK(arm.cores == 2);

  CHECK(is_valid_machine_id("3d1219c7c4c5404aaa1f6d2a48adfda4\n"));
  CHECK_FALSE(is_valid_machine_id("3D1219C7C4C5404AAA1F6D2A48ADFDA4"));
  CHECK_FALSE(is_valid_machine_id("uninitialized\n"));
  CHECK_FALSE(is_valid_machine_id(""));
}

TEST_CASE("clip_text: bounded, valid UTF-8, no control characters") {
  using rmm::agent::platform::clip_text;
  CHECK(clip_text("plain") == "plain");
  CHECK(clip_text(std::string(1000, 'a')).size() == 256);
  CHECK(clip_text("tab\there\nnl") == "tab here nl");
  CHECK(clip_text("\xff\xfe ok") == "?? ok");
  CHECK(clip_text("caf\xc3\xa9", 4) == "caf");  // never half a character
  CHECK(clip_text("caf\xc3\xa9", 5) == "caf\xc3\xa9");
  CHECK(clip_text("\xed\xa0\x80") == "???");  // a UTF-16 surrogate is not UTF-8
  CHECK(clip_text("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");
}
