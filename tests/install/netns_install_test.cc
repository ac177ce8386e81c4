// Issue 14 §3 and §5: a second machine (a network namespace with overlays over /etc, /usr, /var)
// runs the dashboard's one-line install against a stack across a veth link: the line downloads
// and checks the script, the script the package, the code is checked before anything is
// installed, the agent enrolls, reports and runs a command.
//
// Over TLS: the broker and rmm-api serve one certificate for the veth address from the
// installation's CA (as an installation does); the line pins rmm-api's key, the agent the CA; the
// same agent with another CA, and plaintext clients, are refused.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <pqxx/nontransaction>
#include <thread>

#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/intents.h"
#include "api/app.h"
#include "api/auth/authenticator.h"
#include "api/auth/passwords.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/pg.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/projector_process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The gururmm-agent package of this build (the `debs` test fixture: tools/rmm package's CPack
// configuration over the test build's programs), offered from the server's downloads directory.
fs::path offer_agent_deb(const fs::path& dir) {
  const fs::path deb = RMM_AGENT_DEB;
  REQUIRE_MESSAGE(fs::exists(deb), deb.string() << " is missing: the package_build test makes it");
  fs::create_directories(dir / "downloads");
  fs::copy_file(deb, dir / "downloads" / deb.filename(), fs::copy_options::overwrite_existing);
  return dir / "downloads" / deb.filename();
}

// The server side: nats-server and rmm-api on the host's veth address, PostgreSQL and the
// projector on loopback (they never face the second machine).
class LinkStack {
 public:
  explicit LinkStack(NetNamespace& ns)
      : ns_(ns),
        nats_(NatsServerOptions{.apply_streams = true, .tls = true, .host = ns.host_address()}) {
    auto& pg = PostgresFixture::shared();
    db_url_ = pg.create_database(pg.unique_name("netns"));
    pg_ = value_or_throw(pg::connect(db_url_), "pg connect");
    projector_ = start_projector(RMM_BIN_DIR, nats_, db_url_, *pg_, dir_ / "projector.log");
    services_ = value_or_throw(nats::Connection::connect({.url = nats_.url(),
                                                          .creds_file = nats_.services_creds(),
                                                          .tls_ca_file = nats_.tls().ca_file}),
                               "services connect");
    js_ = value_or_throw(nats::JetStream::create(*services_, {}), "jetstream");
    publisher_ = std::make_unique<tenancy::ControlPublisher>(*js_, "test", real_clock());
    tenancy::Intents intents(*publisher_, nullptr, real_clock());
    auto client = value_or_throw(intents.create_client("Branch office", "test"), "client");
    auto site = value_or_throw(intents.create_site(ClientId(client.id), "Site", "test"), "site");
    wait_projected(site.stream_seq.value);
    site_ = SiteId(site.id);
    token_ = owner_token();

    deb_ = offer_agent_deb(dir_.path());
    api::ApiConfig c;
    c.listen_host = ns.host_address();
    c.listen_port = 0;
    c.pg_url = db_url_;
    c.nats_url = nats_.url();
    c.nats_creds = nats_.identity().api_creds().string();
    c.web_dir = (dir_ / "web").string();
    c.request_timeout = 30s;
    c.shutdown_grace = 2s;
    c.enroll_home = nats_.home().string();
    c.command_keys = nats_.command_keys_dir().string();
    c.agent_packages_dir = deb_.parent_path().string();
    c.public_nats_url = nats_.url();
    c.nats_tls = nats_.tls();
    c.install_ca_file = nats_.tls_files().ca.string();
    c.tls_cert = nats_.tls_files().cert.string();
    c.tls_key = nats_.tls_files().key.string();
    app_ = value_or_throw(api::App::create(c), "app");
    if (auto s = app_->start(); !s) throw std::runtime_error(s.error().message);
  }
  ~LinkStack() {
    if (app_) app_->stop();
    app_.reset();
    projector_.terminate();
  }

  NatsServerFixture& nats() { return nats_; }
  int api_port() const { return app_->port(); }
  const fs::path& deb() const { return deb_; }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    std::map<std::string, std::string> h{{"Authorization", "Bearer " + token_}};
    if (!body.empty()) h["Content-Type"] = "application/json";
    return https_request(
        app_->port(),
        TlsTrust{
            .ca = nats_.tls_files().ca, .host = ns_.host_address(), .address = ns_.host_address()},
        method, target, body, h, 30s);
  }
  boost::json::object new_code() {
    auto r = call("POST", "/api/v1/enrollment-codes?wait=5000",
                  R"({"site_id":")" + site_.str() + R"("})");
    REQUIRE_MESSAGE(r.status == 202, r.body);
    return boost::json::parse(r.body).as_object();
  }
  void wait_projected(std::uint64_t seq) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (core_checkpoint(*pg_) < seq) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("projector lag");
      std::this_thread::sleep_for(20ms);
    }
  }

 private:
  std::string owner_token() {
    UserId id = UserId::generate(real_clock());
    codec::UserCreatedInfo info{id, "owner", "Owner", schema::UserRole::Owner, {}, {"test", ""}};
    auto ack = value_or_throw(
        publisher_->publish(schema::Payload::UserCreated,
                            [&](const auto& h) { return codec::build_user_created(h, info); }),
        "user");
    wait_projected(ack.seq.value);
    std::string token = api::new_session_token();
    pqxx::nontransaction tx(*pg_);
    tx.exec_params(
        "INSERT INTO auth.credentials (user_id, username, password_hash) "
        "VALUES ($1::uuid, 'owner', 'x')",
        id.str());
    tx.exec_params(
        "INSERT INTO auth.sessions (token_hash, user_id, expires_at) "
        "VALUES (decode($1, 'hex'), $2::uuid, now() + interval '1 hour')",
        api::Authenticator::token_hash_hex(token), id.str());
    return token;
  }

  NetNamespace& ns_;
  TempDir dir_{"netns-stack"};
  NatsServerFixture nats_;
  std::string db_url_;
  Process projector_;
  std::unique_ptr<nats::Connection> services_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<pqxx::connection> pg_;
  std::unique_ptr<tenancy::ControlPublisher> publisher_;
  std::unique_ptr<api::App> app_;
  SiteId site_;
  std::string token_;
  fs::path deb_;
};

void require_netns() {
  // Fail, not skip: CI runs as root, and a silently skipped end-to-end test proves nothing.
  if (auto why = netns_unavailable()) FAIL(*why);
}

}  // namespace

TEST_CASE("netns: the fixture's second machine reaches the host's veth address and nothing else") {
  require_netns();
  std::string name;
  {
    NetNamespace ns({.overlay = true});
    name = ns.name();
    CHECK(ns.host_address().starts_with("198.1"));
    auto ping =
        ns.run(fmt::format("ping -c1 -W2 {} >/dev/null 2>&1 || "
                           "(exec 3<>/dev/tcp/{}/9) 2>/dev/null; ip -4 -o addr show",
                           ns.host_address(), ns.host_address()));
    CHECK(ping.output.find(ns.address() + "/30") != std::string::npos);
    // No default route: nothing leaves through the link for anywhere else.
    CHECK(ns.run("ip route get 192.0.2.1").exit_code != 0);
    // The overlay: a file written in /etc and /usr inside is not on the host.
    const std::string marker = fmt::format("/etc/rmm-netns-test-{}", ::getpid());
    CHECK(ns.run("echo x > " + marker + " && test -f " + marker).exit_code == 0);
    CHECK_FALSE(fs::exists(marker));
    CHECK(ns.run("test -d /run/systemd/system").exit_code != 0);
  }
  CHECK(run_shell("ip netns list | grep -qw " + name).exit_code != 0);  // gone with the fixture
}

TEST_CASE(
    "netns: the one-line install on a second machine enrolls an agent that reports and runs "
    "a command") {
  require_netns();
  NetNamespace ns({.overlay = true});
  LinkStack stack(ns);

  // A revoked code stops the script before anything is installed, with the server's message.
  auto revoked = stack.new_code();
  REQUIRE(stack
              .call("POST",
                    fmt::format("/api/v1/enrollment-codes/{}/revoke?wait=5000",
                                std::string(revoked.at("id").as_string())),
                    "{}")
              .status == 202);
  auto refused = ns.run(std::string(revoked.at("install").at("linux").as_string()));
  CHECK(refused.exit_code != 0);
  CHECK_MESSAGE(
      refused.output.find("this enrollment code was revoked: ask for a new install line") !=
          std::string::npos,
      refused.output);
  CHECK(ns.run("dpkg -s gururmm-agent >/dev/null 2>&1").exit_code != 0);

  // A line whose script changed on the way (a checksum that does not match) runs nothing.
  auto created = stack.new_code();
  const std::string line(created.at("install").at("linux").as_string());
  std::string tampered = line;
  auto sum_at = tampered.find("echo '") + 6;
  tampered[sum_at] = tampered[sum_at] == '0' ? '1' : '0';
  auto bad_sum = ns.run(tampered);
  CHECK(bad_sum.exit_code != 0);
  CHECK(ns.run("dpkg -s gururmm-agent >/dev/null 2>&1").exit_code != 0);

  // Settings the machine already has stay; the broker's URL is replaced.
  REQUIRE(
      ns.run("mkdir -p /etc/gururmm && printf 'RMM_LOG_LEVEL=debug\\nRMM_NATS_URL=nats://old:1\\n' "
             "> /etc/gururmm/agent.env")
          .exit_code == 0);
  // The line pins rmm-api's key: the new machine has no CA yet.
  CHECK(line.find("curl -fsSk --proto =https --pinnedpubkey '" + stack.nats().tls_files().pin +
                  "'") != std::string::npos);
  // What the host's own dpkg database says of the package, to compare after the install.
  const std::string host_dpkg_before = run_shell("dpkg -s gururmm-agent 2>&1").output;
  auto installed = ns.run(line);
  INFO(installed.output);
  REQUIRE(installed.exit_code == 0);
  CHECK(installed.output.find("systemd is not running here") != std::string::npos);
  auto id_text = ns.run("cat /var/lib/gururmm/agent/agent_id");
  REQUIRE(id_text.exit_code == 0);
  auto agent = AgentId::parse(id_text.output.substr(0, id_text.output.find('\n')));
  REQUIRE(agent);
  CHECK(ns.run("dpkg -s gururmm-agent | grep -q 'Status: install ok installed'").exit_code == 0);
  auto env = ns.run("stat -c %a /etc/gururmm/agent.env && cat /etc/gururmm/agent.env");
  CHECK(env.output == "600\nRMM_LOG_LEVEL=debug\nRMM_NATS_URL=" + stack.nats().url() + "\n");
  // The host is untouched: the package went into the second machine's overlay.
  const bool host_has_it =
      files::read_all("/var/lib/gururmm/agent/agent_id").value_or("") == id_text.output;
  CHECK_FALSE(host_has_it);
  CHECK(run_shell("dpkg -s gururmm-agent 2>&1").output == host_dpkg_before);

  // Run again on the enrolled machine: nothing to do.
  auto again = ns.run(line);
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("already enrolled as agent " + agent->str()) != std::string::npos);

  TempDir logs("netns-agent");
  auto running =
      ns.start({.program = "/usr/lib/gururmm/bin/rmm-agent",
                .args = {"--state-dir=/var/lib/gururmm/agent", "--nats-url=" + stack.nats().url(),
                         "--updater=", "--heartbeat-interval=1s"},
                .log_file = logs / "agent.log"});
  auto deadline = std::chrono::steady_clock::now() + 60s;
  HttpResponse seen;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = stack.call("GET", "/api/v1/agents/" + agent->str());
    if (seen.status == 200 && seen.body.find("\"online\"") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  REQUIRE_MESSAGE(seen.status == 200, files::read_all(logs / "agent.log").value_or(""));
  CHECK(seen.body.find(R"("status":"online")") != std::string::npos);

  auto issued = stack.call(
      "POST", "/api/v1/commands",
      R"({"agent_ids":[")" + agent->str() +
          R"j("],"kind":"shell","script":"echo hello-from-$(hostname -I)","timeout_s":30})j");
  REQUIRE_MESSAGE(issued.status == 202, issued.body);
  const std::string command(
      boost::json::parse(issued.body).at("commands").as_array()[0].at("id").as_string());
  HttpResponse result;
  deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    result = stack.call("GET", "/api/v1/commands/" + command);
    if (result.body.find(R"("status":"completed")") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  INFO(result.body);
  CHECK(result.body.find(R"("status":"completed")") != std::string::npos);
  // The command ran on the second machine: its only address is the namespace's.
  CHECK(result.body.find("hello-from-" + ns.address()) != std::string::npos);

  running.terminate();

  // The same agent with another installation's CA: the broker's certificate does not chain to it.
  TempDir other("netns-other-ca");
  auto wrong = make_tls_files(other / "tls", {ns.host_address()});
  // The shared credential (the temporary directory is visible inside: only /etc, /usr, /var are
  // the second machine's own).
  const fs::path creds = stack.nats().home() / "nats" / "enroll.creds";
  auto wrong_ca = ns.run(fmt::format(
      "cp -a /var/lib/gururmm/agent /tmp/rmm-wrong-ca-$$ && cp {} /tmp/rmm-wrong-ca-$$/ca.pem && "
      "timeout 10 /usr/lib/gururmm/bin/rmm-agent --state-dir=/tmp/rmm-wrong-ca-$$ "
      "--nats-url={} --updater= --heartbeat-interval=1s; rc=$?; rm -rf /tmp/rmm-wrong-ca-$$; "
      "exit $rc",
      wrong.ca.string(), stack.nats().url()));
  INFO(wrong_ca.output);
  CHECK(wrong_ca.output.find("certificate") != std::string::npos);
  auto enroll_wrong =
      ns.run(fmt::format("/usr/lib/gururmm/bin/rmm-agent enroll --server={} --ca-file={} "
                         "--state-dir=/tmp/rmm-wrong-enroll --enroll-creds={}",
                         stack.nats().url(), wrong.ca.string(), creds.string()),
             {{"RMM_CODE", std::string(created.at("code").as_string())}});
  CHECK(enroll_wrong.exit_code != 0);
  CHECK(enroll_wrong.output.find("certificate") != std::string::npos);

  // A plaintext client: the broker requires TLS of everyone, and rmm-api speaks only HTTPS.
  auto plain_nats =
      ns.run(fmt::format("printf 'CONNECT {{}}\\r\\nPING\\r\\n' | "
                         "curl -s --max-time 3 telnet://{}:{}",
                         ns.host_address(), stack.nats().port()));
  INFO(plain_nats.output);
  CHECK(plain_nats.output.find("\"tls_required\":true") != std::string::npos);
  CHECK(plain_nats.output.find("PONG") == std::string::npos);
  auto plain_enroll =
      ns.run(fmt::format("/usr/lib/gururmm/bin/rmm-agent enroll --server=nats://{}:{} "
                         "--state-dir=/tmp/rmm-plain-enroll --enroll-creds={}",
                         ns.host_address(), stack.nats().port(), creds.string()),
             {{"RMM_CODE", std::string(created.at("code").as_string())}});
  CHECK(plain_enroll.exit_code != 0);
  CHECK(plain_enroll.output.find("plaintext") != std::string::npos);
  CHECK(ns.run(fmt::format("curl -s --max-time 5 http://{}:{}/healthz", ns.host_address(),
                           stack.api_port()))
            .exit_code != 0);
}

}  // namespace rmm::test
