// rmm-admin as a program: init, render-config, agent-credential, the command keys (no server
// needed).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "admin/files.h"
#include "common/files.h"
#include "common/ids.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
namespace fs = std::filesystem;

namespace {

int run_admin(const test::TempDir& dir, std::vector<std::string> args, std::string* output) {
  fs::path log = dir / "cli.log";
  fs::remove(log);
  auto p = test::Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-admin",
                                 .args = std::move(args),
                                 .env = {{"RMM_HOME", ""}},
                                 .log_file = log});
  auto status = p.wait(std::chrono::seconds(30));
  REQUIRE(status.has_value());
  if (output != nullptr) *output = files::read_all(log).value_or("");
  return *status;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("rmm-admin init, render-config and agent-credential") {
  test::TempDir dir("cli");
  std::string home = (dir / "home").string();
  std::string out;
  REQUIRE(run_admin(dir, {"init", "--home", home}, &out) == 0);
  CHECK(out.find("account RMM A") != std::string::npos);
  for (const auto& key : fs::directory_iterator(fs::path(home) / "nats/keys")) {
    auto seed = files::read_all(key.path());
    REQUIRE(seed.has_value());
    CHECK(out.find(seed->substr(0, 58)) == std::string::npos);  // no seed is ever printed
  }

  REQUIRE(run_admin(dir,
                    {"render-config", "--home", home, "--nats-port", "4555", "--out",
                     (dir / "server.conf").string()},
                    &out) == 0);
  auto conf = files::read_all(dir / "server.conf");
  REQUIRE(conf.has_value());
  CHECK(conf->find("listen: 127.0.0.1:4555") != std::string::npos);
  CHECK(conf->find(home + "/nats/jetstream") != std::string::npos);
  CHECK(conf->find("tls {") == std::string::npos);  // no certificate: plaintext, on loopback

  std::string state = (dir / "state").string();
  REQUIRE(run_admin(dir, {"agent-credential", "--home", home, "--state-dir", state}, &out) == 0);
  // The agent trusts the installation's command keys, as enrollment would have told it.
  CHECK(mode_of(dir / "state/command_keys") == 0600);
  CHECK(files::read_all(dir / "state/command_keys").value_or("a") ==
        files::read_all(fs::path(home) / "command-keys/trusted_keys").value_or("b"));
  auto printed = AgentId::parse(out.substr(0, out.find('\n')));
  REQUIRE(printed.has_value());
  auto id_file = files::read_all(dir / "state/agent_id");
  REQUIRE(id_file.has_value());
  CHECK(*id_file == printed->str() + "\n");
  CHECK(mode_of(dir / "state/agent.creds") == 0600);
  auto creds = files::read_all(dir / "state/agent.creds");
  REQUIRE(creds.has_value());
  CHECK(creds->find("-----BEGIN NATS USER JWT-----") != std::string::npos);
  CHECK(creds->find("-----BEGIN USER NKEY SEED-----\nSU") != std::string::npos);

  // Without an id, the stored one is reused; an explicit id replaces it.
  REQUIRE(run_admin(dir, {"agent-credential", "--home", home, "--state-dir", state}, &out) == 0);
  CHECK(out == printed->str() + "\n");
  auto explicit_id = AgentId::generate(real_clock()).str();
  REQUIRE(run_admin(dir, {"agent-credential", explicit_id, "--home", home, "--state-dir", state},
                    &out) == 0);
  CHECK(out == explicit_id + "\n");
  CHECK(files::read_all(dir / "state/agent_id").value_or("") == explicit_id + "\n");

  CHECK(run_admin(dir, {"agent-credential", "not-a-uuid", "--home", home, "--state-dir", state},
                  &out) != 0);
  CHECK(run_admin(dir,
                  {"render-config", "--home", (dir / "none").string(), "--nats-port", "1", "--out",
                   (dir / "x.conf").string()},
                  &out) != 0);
  CHECK(out.find("rmm-admin init") != std::string::npos);
  CHECK(run_admin(dir, {"bogus"}, nullptr) == 2);
  CHECK(run_admin(dir, {"init", "--help"}, &out) == 0);
  CHECK(out.find("--home") != std::string::npos);
}

// The rotation steps of docs/command-signing.md, on the files alone.
TEST_CASE("rmm-admin command keys: init, new, activate, retire") {
  test::TempDir dir("cli-keys");
  std::string home = (dir / "home").string();
  std::string out;
  REQUIRE(run_admin(dir, {"init", "--home", home}, &out) == 0);
  const fs::path keys = fs::path(home) / "command-keys";
  CHECK(mode_of(keys) == 0700);
  CHECK(mode_of(keys / "active.key") == 0600);
  auto seed = files::read_all(keys / "active.key");
  REQUIRE(seed.has_value());
  CHECK(seed->starts_with("rmm-command-ed25519 "));
  CHECK(out.find(seed->substr(20, 64)) == std::string::npos);  // the private key is never printed
  auto first_line = out.substr(out.find("command key ") + 12);
  const std::string first = first_line.substr(0, first_line.find('\n'));
  REQUIRE(first.size() == 16);
  // init again keeps the key.
  REQUIRE(run_admin(dir, {"init", "--home", home}, &out) == 0);
  CHECK(out.find("command key " + first) != std::string::npos);

  REQUIRE(run_admin(dir, {"command-key-new", "--home", home}, &out) == 0);
  const std::string second = out.substr(0, out.find('\n'));
  REQUIRE(second.size() == 16);
  CHECK(run_admin(dir, {"command-key-new", "--home", home}, &out) != 0);  // one at a time
  REQUIRE(run_admin(dir, {"command-key-list", "--home", home}, &out) == 0);
  CHECK(out.find(first + " ") != std::string::npos);
  CHECK(out.find(" active\n") != std::string::npos);
  CHECK(out.find(" next\n") != std::string::npos);
  CHECK(run_admin(dir, {"command-key-retire", "--home", home, "--key-id", first}, &out) != 0);

  REQUIRE(run_admin(dir, {"command-key-activate", "--home", home}, &out) == 0);
  CHECK(out == second + "\n");
  CHECK_FALSE(fs::exists(keys / "next.key"));
  REQUIRE(run_admin(dir, {"command-key-retire", "--home", home, "--key-id", first}, &out) == 0);
  REQUIRE(run_admin(dir, {"command-key-list", "--home", home}, &out) == 0);
  CHECK(out.find(first) == std::string::npos);
  CHECK(out.find(second + " ") == 0);
  CHECK(out.find(" active\n") != std::string::npos);
  CHECK(run_admin(dir, {"command-key-retire", "--home", home, "--key-id", second}, &out) != 0);
}

TEST_CASE("render-config: a TLS block with a certificate; plaintext refused off loopback") {
  test::TempDir dir("admin-cli-tls");
  std::string home = (dir / "home").string();
  REQUIRE(run_admin(dir, {"init", "--home", home}, nullptr) == 0);
  auto tls = test::make_tls_files(dir / "tls");
  std::string out;
  fs::path conf_path = dir / "server.conf";

  // Anything but loopback without a certificate would let plaintext leave the machine.
  CHECK(run_admin(dir,
                  {"render-config", "--home", home, "--nats-port", "4555", "--nats-host", "0.0.0.0",
                   "--out", conf_path.string()},
                  &out) != 0);
  CHECK(out.find("refusing to listen on 0.0.0.0 without TLS") != std::string::npos);
  CHECK_FALSE(fs::exists(conf_path));
  // A certificate without its key is a mistake, not plaintext.
  CHECK(run_admin(dir,
                  {"render-config", "--home", home, "--nats-port", "4555", "--tls-cert",
                   tls.cert.string(), "--out", conf_path.string()},
                  &out) != 0);
  CHECK(out.find("tls-cert and tls-key go together") != std::string::npos);
  CHECK(run_admin(dir,
                  {"render-config", "--home", home, "--nats-port", "4555", "--tls-cert",
                   (dir / "missing.pem").string(), "--tls-key", tls.key.string(), "--out",
                   conf_path.string()},
                  &out) != 0);
  CHECK(out.find("no such file") != std::string::npos);

  REQUIRE(run_admin(dir,
                    {"render-config", "--home", home, "--nats-port", "4555", "--nats-host",
                     "0.0.0.0", "--nats-monitor-port", "8555", "--tls-cert", tls.cert.string(),
                     "--tls-key", tls.key.string(), "--out", conf_path.string()},
                    &out) == 0);
  auto conf = files::read_all(conf_path);
  REQUIRE(conf.has_value());
  CHECK(conf->find("listen: 0.0.0.0:4555\n") != std::string::npos);
  CHECK(conf->find("http: 127.0.0.1:8555\n") != std::string::npos);  // the monitor stays local
  CHECK(conf->find("tls {\n") != std::string::npos);
  CHECK(conf->find("cert_file: \"" + tls.cert.string() + "\"\n") != std::string::npos);
  CHECK(conf->find("key_file: \"" + tls.key.string() + "\"\n") != std::string::npos);
  CHECK(conf->find("timeout: 5\n") != std::string::npos);
  CHECK(conf->find("allow_non_tls") == std::string::npos);
  CHECK(conf->find("@@") == std::string::npos);
}

TEST_CASE("render-config --cluster-nodes --node: node I of a cluster; apply-streams --replicas") {
  test::TempDir dir("admin-cli-cluster");
  std::string home = (dir / "home").string();
  REQUIRE(run_admin(dir, {"init", "--home", home}, nullptr) == 0);
  std::string out;
  fs::path conf_path = dir / "node3.conf";
  const std::string nodes = "127.0.0.1:6301,127.0.0.1:6302,127.0.0.1:6303";
  CHECK(run_admin(dir,
                  {"render-config", "--home", home, "--nats-port", "4555", "--cluster-nodes", nodes,
                   "--out", conf_path.string()},
                  &out) != 0);
  CHECK(out.find("--cluster-nodes needs --node") != std::string::npos);
  REQUIRE(run_admin(dir,
                    {"render-config", "--home", home, "--nats-port", "4555", "--cluster-nodes",
                     nodes, "--node", "3", "--out", conf_path.string()},
                    &out) == 0);
  auto conf = files::read_all(conf_path);
  REQUIRE(conf.has_value());
  CHECK(conf->find("server_name: gururmm-3\n") != std::string::npos);
  CHECK(conf->find("listen: 127.0.0.1:6303\n") != std::string::npos);
  CHECK(conf->find("nats-route://127.0.0.1:6301\n") != std::string::npos);

  // An even replica count is refused before any connection is tried.
  CHECK(
      run_admin(dir,
                {"apply-streams", "--nats-creds", (dir / "none.creds").string(), "--replicas", "2"},
                &out) != 0);
  CHECK(out.find("replicas 2: use 1 (one server), 3 or 5") != std::string::npos);
}
