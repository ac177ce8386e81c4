// Both .debs installed into a throwaway root with dpkg (maintainer scripts included), gururmm-setup
// run against an existing PostgreSQL, and the server started from its units' ExecStart lines as
// their User= (no systemd here), then set up again without changing a secret, removed and purged
// (issue 14 §5). The installed tree is bind-mounted at its real paths in this process's own mount
// namespace, so the programs run with their installed defaults and the host's /etc, /usr and
// /var stay as they were.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"
#include "tests/packaging/package_helpers.h"

namespace {

namespace fs = std::filesystem;
using namespace rmm::test;
using namespace rmm::test::packaging;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The installed tree at its real paths, in this process's mount namespace only. A mount point
// the host lacks is created for the test and removed after it.
class InstalledTree {
 public:
  explicit InstalledTree(const fs::path& root) {
    if (::unshare(CLONE_NEWNS) != 0) throw std::runtime_error("unshare(CLONE_NEWNS) failed");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      throw std::runtime_error("making / private failed");
    }
    for (const char* p : {"/usr/lib/gururmm", "/usr/share/gururmm", "/etc/gururmm",
                          "/var/lib/gururmm", "/etc/passwd", "/etc/group"}) {
      if (!fs::exists(p)) {
        fs::create_directories(p);
        created_.emplace_back(p);
      }
      if (::mount((root / (p + 1)).c_str(), p, nullptr, MS_BIND, nullptr) != 0) {
        throw std::runtime_error(std::string("bind mount of ") + p + " failed");
      }
      mounted_.emplace_back(p);
    }
  }
  ~InstalledTree() {
    for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it)
      ::umount2(it->c_str(), MNT_DETACH);
    std::error_code ec;
    for (const auto& p : created_) fs::remove(p, ec);
  }
  InstalledTree(const InstalledTree&) = delete;
  InstalledTree& operator=(const InstalledTree&) = delete;

 private:
  std::vector<fs::path> mounted_;
  std::vector<fs::path> created_;
};

// Starts a unit's ExecStart as its User= with its EnvironmentFile, as systemd would (plus the
// RuntimeDirectory the broker's pid file goes to).
Process start_unit(const fs::path& root, const std::string& name, const fs::path& log) {
  auto u = read_unit(root / "lib/systemd/system" / (name + ".service"));
  REQUIRE_FALSE(u.exec_start.empty());
  ProcessOptions o{.program = "setpriv", .log_file = log};
  if (!u.user.empty()) {
    o.args = {"--reuid=" + u.user, "--regid=" + u.user, "--clear-groups", "--"};
  }
  o.args.insert(o.args.end(), u.exec_start.begin(), u.exec_start.end());
  if (!u.environment_file.empty()) o.env = read_env_file(u.environment_file);
  return Process::start(o);
}

// Waits until `url` answers 2xx (curl: the API may be HTTPS with the installation's CA).
bool wait_url(const std::string& url, const fs::path& ca, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (sh("curl -fsS -m 2 -o /dev/null --cacert " + quote(ca) + " " + url).code == 0) return true;
    std::this_thread::sleep_for(250ms);
  }
  return false;
}

struct Secrets {
  std::string pgpass, ca, server_key, admin_password, services_creds;
};
// The seed of a .creds file (rmm-admin init signs a new JWT for the same key on every run).
std::string creds_seed(const fs::path& creds) {
  auto text = slurp(creds);
  auto at = text.find("SEED-----");
  return at == std::string::npos ? std::string{} : text.substr(at, 80);
}
Secrets secrets_of(const fs::path& etc) {
  return {slurp(etc / "pgpass"), slurp(etc / "tls/ca.pem"), slurp(etc / "tls/server.key"),
          slurp(etc / "admin-password"), creds_seed(etc / "nats/services.creds")};
}

}  // namespace

TEST_CASE("installed server: gururmm-setup, units' ExecStart, healthy, set up again, purged") {
  if (::geteuid() != 0) {
    MESSAGE(
        "skipped: installing into another root, bind mounts and the gururmm user need root "
        "(CI runs as root)");
    return;
  }
  for (const char* v : {"RMM_MIGRATIONS_DIR", "RMM_STREAMS_DIR", "RMM_WEB_DIR"}) ::unsetenv(v);
  TempDir dir("pkg-install");
  const fs::path root = dir / "root";
  for (const char* d : {"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"}) {
    fs::create_directories(root / d);
  }
  std::ofstream(root / "var/lib/dpkg/status").flush();
  std::ofstream(root / "var/lib/dpkg/available").flush();
  for (const char* f : {"passwd", "group", "shadow", "gshadow"}) {
    fs::copy_file(fs::path("/etc") / f, root / "etc" / f);
  }
  // The dependencies are the host's (where the programs run), not the empty root's.
  const std::string dpkg =
      "dpkg --root=" + quote(root) + " --force-script-chrootless --force-depends --log=/dev/null ";
  auto installed = sh(dpkg + "-i " + quote(server_deb()) + " " + quote(agent_deb()));
  REQUIRE_MESSAGE(installed.code == 0, installed.output);
  CHECK(slurp(root / "etc/passwd").find("\ngururmm:") != std::string::npos);
  CHECK(fs::exists(root / "var/lib/gururmm/jetstream"));
  CHECK((fs::status(root / "var/lib/gururmm/agent").permissions() & fs::perms::others_read) ==
        fs::perms::none);
  CHECK(fs::exists(root / "etc/gururmm/agent.env"));

  PostgresFixture pg;
  InstalledTree tree(root);
  const int nats_port = free_tcp_port(), monitor_port = free_tcp_port(),
            projector_port = free_tcp_port(), api_port = free_tcp_port();
  const fs::path etc = "/etc/gururmm";
  const std::string setup =
      "/usr/lib/gururmm/bin/gururmm-setup --no-start --public-name localhost"
      " --pg-admin-url postgresql://postgres@127.0.0.1:" +
      std::to_string(pg.port()) + "/postgres --pg-port " + std::to_string(pg.port()) +
      " --api-listen 127.0.0.1:" + std::to_string(api_port) +
      " --nats-host 127.0.0.1 --nats-port " + std::to_string(nats_port) + " --nats-monitor-port " +
      std::to_string(monitor_port) + " --projector-port " + std::to_string(projector_port) +
      " --agent-deb " + quote(agent_deb());

  // 1. Nothing runs yet: database, certificates, identity and settings, then what to start.
  auto first = sh(setup);
  REQUIRE_MESSAGE(first.code == 0, first.output);
  CHECK_MESSAGE(first.output.find("start gururmm-nats") != std::string::npos, first.output);
  CHECK((fs::status(etc / "pgpass").permissions() & fs::perms::group_all) == fs::perms::none);
  CHECK(slurp(etc / "api.env").find("RMM_LISTEN=127.0.0.1:" + std::to_string(api_port)) !=
        std::string::npos);
  CHECK(fs::exists(fs::path("/var/lib/gururmm/downloads") / agent_deb().filename()));
  // Every client of the broker must speak TLS, pinned to the installation's CA.
  CHECK(slurp(etc / "nats/nats-server.conf").find("cert_file") != std::string::npos);
  CHECK(slurp(etc / "api.env").find("RMM_NATS_CA=/etc/gururmm/tls/ca.pem") != std::string::npos);
  fs::create_directories("/run/gururmm-nats");
  REQUIRE(sh("chown gururmm:gururmm /run/gururmm-nats").code == 0);

  std::vector<Process> services;
  services.push_back(start_unit(root, "gururmm-nats", dir / "nats.log"));
  const fs::path ca = etc / "tls/ca.pem";
  REQUIRE_MESSAGE(
      wait_url("http://127.0.0.1:" + std::to_string(monitor_port) + "/healthz", ca, 20s),
      slurp(dir / "nats.log"));

  // 2. The broker runs: the streams; the first owner waits for the projector.
  auto second = sh(setup);
  REQUIRE_MESSAGE(second.code == 0, second.output);
  CHECK_MESSAGE(second.output.find("start gururmm-projector") != std::string::npos, second.output);
  for (const char* unit : {"gururmm-projector", "gururmm-api", "gururmm-rollout"}) {
    services.push_back(start_unit(root, unit, dir / (std::string(unit) + ".log")));
  }
  CHECK_MESSAGE(wait_url("http://127.0.0.1:" + std::to_string(projector_port) + "/readyz", ca, 60s),
                slurp(dir / "gururmm-projector.log"));
  // HTTPS once rmm-api has TLS settings (the api-https branch), plain HTTP before.
  const bool https =
      sh("/usr/lib/gururmm/bin/rmm-api --help").output.find("tls-cert") != std::string::npos;
  const std::string api =
      (https ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(api_port);
  CHECK_MESSAGE(wait_url(api + "/healthz", ca, 30s), slurp(dir / "gururmm-api.log"));
  // The dashboard from /usr/share/gururmm/web, the API's default web-dir.
  CHECK(sh("curl -fsS -m 5 --cacert " + quote(ca) + " " + api + "/").output.find("<html") !=
        std::string::npos);

  // 3. The projector is ready: the first owner, who can sign in.
  auto third = sh(setup);
  REQUIRE_MESSAGE(third.code == 0, third.output);
  CHECK_MESSAGE(third.output.find("first owner created") != std::string::npos, third.output);
  CHECK(third.output.find("not done yet") == std::string::npos);
  const std::string login = "printf '{\"username\":\"admin\",\"password\":\"%s\"}' \"$(cat " +
                            quote(etc / "admin-password") +
                            ")\" | curl -fsS -m 5 -H 'content-type: application/json' "
                            "--data-binary @- --cacert " +
                            quote(ca) + " " + api + "/api/v1/auth/login";
  bool signed_in = false;
  for (int i = 0; i < 40 && !signed_in; ++i) {
    signed_in = sh(login).output.find("\"token\"") != std::string::npos;
    if (!signed_in) std::this_thread::sleep_for(250ms);
  }
  CHECK(signed_in);

  // 4. Again: nothing to do, no secret replaced, still healthy.
  const auto before = secrets_of(etc);
  auto fourth = sh(setup);
  REQUIRE_MESSAGE(fourth.code == 0, fourth.output);
  CHECK(fourth.output.find("first owner created") == std::string::npos);
  const auto after = secrets_of(etc);
  CHECK_MESSAGE(after.pgpass == before.pgpass, "pgpass");
  CHECK_MESSAGE(after.ca == before.ca, "ca.pem");
  CHECK_MESSAGE(after.server_key == before.server_key, "server.key");
  CHECK_MESSAGE(after.admin_password == before.admin_password, "admin-password");
  CHECK_FALSE(after.services_creds.empty());
  CHECK_MESSAGE(after.services_creds == before.services_creds, "services.creds seed");
  CHECK(wait_url(api + "/healthz", ca, 10s));
  // All still up: the rollout controller waited for the projector's migrations (it exited on
  // the missing tables before).
  const std::vector<std::string> names = {"nats", "projector", "api", "rollout"};
  for (std::size_t i = 0; i < services.size(); ++i) CHECK_MESSAGE(services[i].running(), names[i]);

  // 5. The operator's own certificate for rmm-api (say from ACME); the broker keeps the private
  // CA. Setup refuses files the services' user cannot read, then the API serves the new pair.
  const TlsFiles own = make_tls_files(etc / "own-tls", {"localhost"});
  const std::string with_own =
      setup + " --api-cert " + quote(own.cert) + " --api-key " + quote(own.key);
  auto unreadable = sh(with_own);
  CHECK(unreadable.code != 0);
  CHECK_MESSAGE(unreadable.output.find("the gururmm user cannot read it") != std::string::npos,
                unreadable.output);
  REQUIRE(sh("chgrp -R gururmm " + quote(own.dir) + " && chmod 0640 " + quote(own.key)).code == 0);
  auto fifth = sh(with_own);
  REQUIRE_MESSAGE(fifth.code == 0, fifth.output);
  CHECK(slurp(etc / "api.env").find("RMM_TLS_CERT=" + own.cert.string()) != std::string::npos);
  CHECK(slurp(etc / "api.env").find("RMM_NATS_CA=/etc/gururmm/tls/ca.pem") != std::string::npos);
  services[2].terminate();
  services[2] = start_unit(root, "gururmm-api", dir / "gururmm-api-own.log");
  CHECK_MESSAGE(wait_url(api + "/healthz", own.ca, 30s), slurp(dir / "gururmm-api-own.log"));
  CHECK(sh("curl -fsS -m 5 --cacert " + quote(ca) + " " + api + "/healthz").code != 0);

  for (auto it = services.rbegin(); it != services.rend(); ++it) it->terminate();
  // The operator's own files are theirs: purge leaves them (and so would leave /etc/gururmm).
  fs::remove_all(own.dir);
  std::error_code ec;
  fs::remove_all("/run/gururmm-nats", ec);

  // Remove keeps the data and settings; purge deletes them.
  auto removed = sh(dpkg + "-r gururmm-server gururmm-agent");
  REQUIRE_MESSAGE(removed.code == 0, removed.output);
  CHECK(fs::exists(root / "var/lib/gururmm/jetstream"));
  CHECK(fs::exists(root / "etc/gururmm/pgpass"));
  CHECK_FALSE(fs::exists(root / "usr/lib/gururmm/bin/rmm-api"));
  auto purged = sh(dpkg + "-P gururmm-server gururmm-agent");
  REQUIRE_MESSAGE(purged.code == 0, purged.output);
  CHECK_FALSE(fs::exists(root / "var/lib/gururmm"));
  CHECK_MESSAGE(!fs::exists(root / "etc/gururmm"),
                sh("ls -la " + quote(root / "etc/gururmm")).output);
}
