// The .debs of this build against the layout of docs/operations.md ("Install") and
// common/install_paths.h: every program, unit, the dashboard, migrations and streams where the
// programs' defaults look; nothing under /usr/local or from the build tree; no RPATH; units that
// systemd-analyze accepts (issue 14 §5).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/install_paths.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/packaging/package_helpers.h"

namespace {

namespace fs = std::filesystem;
using namespace rmm::test::packaging;

// The programs' path settings come from the installed layout here, not the source tree the
// other tests point them at (tests/CMakeLists.txt, RMM_TEST_SOURCE_PATHS).
void clear_source_paths() {
  for (const char* v : {"RMM_MIGRATIONS_DIR", "RMM_STREAMS_DIR", "RMM_WEB_DIR"}) ::unsetenv(v);
}

std::string rel(const char* absolute) {
  return std::string(absolute).substr(1);
}

void check_files_of(const std::set<std::string>& paths, const fs::path& source_dir,
                    const std::string& ext, const std::string& installed_dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(source_dir)) {
    if (e.path().extension() != ext) continue;
    ++n;
    CHECK_MESSAGE(paths.contains(installed_dir + "/" + e.path().filename().string()),
                  e.path().filename());
  }
  CHECK(n > 0);
}

}  // namespace

TEST_CASE("gururmm-server: programs, units, dashboard, migrations and streams in FHS places") {
  auto paths = deb_paths(server_deb());
  const std::string bin = rel(rmm::install_paths::kBinDir);
  for (const char* p : {"rmm-api", "rmm-projector", "rmm-admin", "rmm-release", "rmm-replay",
                        "gururmm-certs", "gururmm-setup"}) {
    CHECK_MESSAGE(paths.contains(bin + "/" + p), p);
  }
  for (const char* p :
       {"rmm-admin", "rmm-release", "rmm-replay", "gururmm-certs", "gururmm-setup"}) {
    CHECK_MESSAGE(paths.contains(std::string("usr/bin/") + p), p);
  }
  for (const char* u : {"gururmm-nats", "gururmm-projector", "gururmm-api", "gururmm-rollout"}) {
    CHECK_MESSAGE(paths.contains(std::string("lib/systemd/system/") + u + ".service"), u);
  }
  CHECK(paths.contains(rel(rmm::install_paths::kWebDir) + "/index.html"));
  check_files_of(paths, fs::path(RMM_SOURCE_DIR) / "projector/migrations", ".sql",
                 rel(rmm::install_paths::kMigrationsDir));
  check_files_of(paths, fs::path(RMM_SOURCE_DIR) / "broker-config/streams", ".json",
                 rel(rmm::install_paths::kStreamsDir));
  CHECK(paths.contains("usr/share/gururmm/broker-config/nats-server.conf.in"));
  CHECK_FALSE(paths.contains(bin + "/rmm-agent"));

  auto depends = deb_field(server_deb(), "Depends");
  for (const char* d : {"nats-server", "openssl", "postgresql-client", "curl", "adduser",
                        "libnats3.4", "libpqxx"}) {
    CHECK_MESSAGE(depends.find(d) != std::string::npos, d, " in ", depends);
  }
}

TEST_CASE("gururmm-agent: the agent, updater, watchdog and their unit") {
  auto paths = deb_paths(agent_deb());
  const std::string bin = rel(rmm::install_paths::kBinDir);
  for (const char* p : {"rmm-agent", "rmm-updater", "rmm-watchdog"}) {
    CHECK_MESSAGE(paths.contains(bin + "/" + p), p);
  }
  CHECK(paths.contains("usr/bin/rmm-agent"));
  CHECK(paths.contains("lib/systemd/system/gururmm-agent.service"));
  CHECK(paths.contains("usr/share/gururmm/agent.env.example"));
  CHECK_FALSE(paths.contains(bin + "/rmm-api"));
  CHECK(deb_field(agent_deb(), "Depends").find("libnats3.4") != std::string::npos);
}

TEST_CASE("both packages: nothing outside the layout, no RPATH, defaults at the installed paths") {
  clear_source_paths();
  rmm::test::TempDir dir("pkg-contents");
  const fs::path root = dir / "root";
  for (const auto& deb : {server_deb(), agent_deb()}) {
    for (const auto& p : deb_paths(deb)) {
      bool allowed = p == "usr" || p == "usr/bin" || p == "usr/lib" || p == "usr/share" ||
                     p == "usr/share/doc" || p == "lib" || p == "lib/systemd" ||
                     p.starts_with("usr/lib/gururmm") || p.starts_with("usr/share/gururmm") ||
                     p.starts_with("usr/share/doc/gururmm-") ||
                     p.starts_with("lib/systemd/system") ||
                     (p.starts_with("usr/bin/") && p.find('/', 8) == std::string::npos);
      CHECK_MESSAGE(allowed, deb.filename(), ": ", p);
    }
    REQUIRE(sh("dpkg-deb -x " + quote(deb) + " " + quote(root)).code == 0);
  }

  // Programs find their shared libraries the system's way, never through the build tree.
  for (const auto& e : fs::directory_iterator(root / rel(rmm::install_paths::kBinDir))) {
    auto head = sh("head -c 4 " + quote(e.path()));
    if (head.output !=
        "\x7f"
        "ELF")
      continue;
    auto dynamic = sh("readelf -d " + quote(e.path()));
    REQUIRE(dynamic.code == 0);
    CHECK_MESSAGE(dynamic.output.find("RPATH") == std::string::npos, e.path().filename());
    CHECK_MESSAGE(dynamic.output.find("RUNPATH") == std::string::npos, e.path().filename());
  }

  // Every path setting's default is the installed place (it was the source tree before).
  const fs::path bin = root / rel(rmm::install_paths::kBinDir);
  auto projector = sh(quote(bin / "rmm-projector") + " --help");
  CHECK(projector.output.find("default /usr/share/gururmm/migrations") != std::string::npos);
  auto streams = sh(quote(bin / "rmm-admin") + " apply-streams --help");
  CHECK(streams.output.find("default /usr/share/gururmm/broker-config/streams") !=
        std::string::npos);
  auto api = sh(quote(bin / "rmm-api") + " --help");
  CHECK(api.output.find("default /usr/share/gururmm/web") != std::string::npos);
  auto agent = sh(quote(bin / "rmm-agent") + " --help");
  CHECK(agent.output.find("default /var/lib/gururmm/agent") != std::string::npos);
  CHECK(agent.output.find("default /usr/lib/gururmm/bin/rmm-updater") != std::string::npos);
  for (const auto* out : {&projector.output, &streams.output, &api.output, &agent.output}) {
    CHECK(out->find(RMM_SOURCE_DIR) == std::string::npos);
  }

  // systemd-analyze checks each unit, with the programs at the extracted tree's paths: it
  // warns on any unknown or misspelt key (a hardening option that silently does nothing).
  const fs::path units = dir / "units";
  fs::create_directories(units);
  int n = 0;
  for (const auto& e : fs::directory_iterator(root / "lib/systemd/system")) {
    ++n;
    auto u = read_unit(e.path());
    REQUIRE_FALSE(u.exec_start.empty());
    if (u.exec_start[0].starts_with("/usr/lib/gururmm/")) {
      CHECK_MESSAGE(fs::exists(root / u.exec_start[0].substr(1)), u.exec_start[0]);
    }
    auto copied = sh("sed 's|/usr/lib/gururmm|" + (root / "usr/lib/gururmm").string() + "|g' " +
                     quote(e.path()) + " > " + quote(units / e.path().filename()));
    REQUIRE(copied.code == 0);
  }
  CHECK(n == 5);
  if (sh("command -v systemd-analyze").code != 0) {
    MESSAGE("systemd-analyze is missing (Debian package systemd): units not verified");
    return;
  }
  auto verify = sh("systemd-analyze verify --man=no " + quote(units) + "/*.service");
  CHECK_MESSAGE(verify.code == 0, verify.output);
  CHECK_MESSAGE(verify.output.empty(), verify.output);
}
