#include "agent/platform/linux/proc_parsers.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "common/files.h"

using namespace rmm::agent::linux_proc;

namespace {
std::string fixture(const char* name) {
  auto text =
      rmm::files::read_all(std::filesystem::path(RMM_SOURCE_DIR) / "tests/agent/fixtures" / name);
  REQUIRE(text.has_value());
  return *text;
}
}  // namespace

TEST_CASE("os-release: quoted and unquoted values") {
  auto deb = parse_os_release(fixture("os-release.debian12"));
  CHECK(deb.name == "Debian GNU/Linux");
  CHECK(deb.version == "12");
  auto rocky = parse_os_release(fixture("os-release.rocky9"));
  CHECK(rocky.name == "Rocky Linux");
  CHECK(rocky.version == "9.3");
  CHECK(rocky.pretty == "Rocky Linux 9.3 (Blue Onyx)");
  CHECK(parse_os_release("garbage without equals\n").name.empty());
}

TEST_CASE("cpuinfo: model and logical CPU count") {
  auto c = parse_cpuinfo(fixture("cpuinfo.x86_64"));
  CHECK(c.logical_cpus == 2);
  CHECK_FALSE(c.model.empty());
  CHECK(c.model.find(':') == std::string::npos);
  CHECK(parse_cpuinfo("").logical_cpus == 0);
}

TEST_CASE("meminfo and uptime") {
  auto total = parse_meminfo_bytes(fixture("meminfo"), "MemTotal");
  REQUIRE(total.has_value());
  CHECK(*total > 1024ULL * 1024 * 1024);
  CHECK(*total % 1024 == 0);
  CHECK_FALSE(parse_meminfo_bytes(fixture("meminfo"), "NoSuchKey").has_value());
  CHECK(parse_meminfo_bytes("MemTotal:  2048 kB\n", "MemTotal") == 2048u * 1024);
  CHECK(parse_uptime_seconds(fixture("uptime")) == 12345u);
  CHECK_FALSE(parse_uptime_seconds("x").has_value());
}
