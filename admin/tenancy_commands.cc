#include "admin/tenancy_commands.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>

#include "admin/files.h"
#include "admin/revocations.h"
#include "admin/tenancy/intents.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/nats_tls_settings.h"
#include "common/pg.h"

namespace rmm::admin {
namespace {

namespace fs = std::filesystem;
using config::Setting;
using config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();

// The settings every control command shares.
constexpr std::array<Setting, 6> kControl = {{
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    {"nats-creds", Type::kString, "", "services user .creds file", -kAny, kAny, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    {"pg-url", Type::kString, "",
     "read models: check references exist and wait for projection (empty: neither)"},
    {"wait", Type::kDuration, "10s", "how long to wait for the projector to apply the event", 0,
     600'000},
}};

template <std::size_t N>
constexpr std::array<Setting, N + kControl.size()> with_control(std::array<Setting, N> own) {
  std::array<Setting, N + kControl.size()> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = own[i];
  for (std::size_t i = 0; i < kControl.size(); ++i) out[N + i] = kControl[i];
  return out;
}

constexpr auto kCreateClient =
    with_control(std::array{Setting{"name", Type::kString, "", "client name", -kAny, kAny, true}});
constexpr auto kCreateSite =
    with_control(std::array{Setting{"client", Type::kString, "", "client id", -kAny, kAny, true},
                            Setting{"name", Type::kString, "", "site name", -kAny, kAny, true}});
constexpr auto kCreateCode =
    with_control(std::array{Setting{"site", Type::kString, "", "site id", -kAny, kAny, true},
                            Setting{"ttl", Type::kDuration, "24h", "how long the code is valid",
                                    1'000, 400LL * 86'400'000}});
constexpr auto kRevokeCode = with_control(
    std::array{Setting{"code-id", Type::kString, "", "enrollment code id", -kAny, kAny, true}});
constexpr auto kRevokeAgent = with_control(std::array{
    Setting{"agent", Type::kString, "", "agent id", -kAny, kAny, true},
    Setting{"home", Type::kString, "", "installation home (its nats/ holds the keys)", -kAny, kAny,
            true},
    Setting{"nats-config", Type::kString, "",
            "rendered nats-server config whose RMM account JWT is replaced (empty: none)"},
    Setting{"nats-pid", Type::kInt, "0", "nats-server pid to SIGHUP for a reload (0: none)", 0,
            kAny},
    Setting{"nats-pid-file", Type::kString, "", "file holding the nats-server pid (instead)"},
    Setting{"reason", Type::kString, "revoked by an operator", "why (kept in the event)"}});

// push-account takes no control settings: it talks to the broker as the system user of `home`.
constexpr auto kPushAccount = std::array{
    Setting{"home", Type::kString, "", "installation home (its nats/ holds the keys)", -kAny, kAny,
            true},
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222",
            "every broker node's URL, comma-separated"},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"nats-config", Type::kString, "",
            "rendered nats-server config whose RMM account JWT is replaced (empty: none)"},
    Setting{"nats-pid", Type::kInt, "0", "nats-server pid to SIGHUP for a reload (0: none)", 0,
            kAny},
    Setting{"nats-pid-file", Type::kString, "", "file holding the nats-server pid (instead)"}};

int fail_with(const Error& e) {
  std::fprintf(stderr, "rmm-admin: %s\n", e.message.c_str());
  return 1;
}

// Everything a control command needs, connected.
struct Session {
  std::unique_ptr<nats::Connection> nc;
  std::unique_ptr<nats::JetStream> js;
  std::unique_ptr<pqxx::connection> pg;
  std::unique_ptr<tenancy::ControlPublisher> publisher;
  std::unique_ptr<tenancy::TenancyReadModel> read_model;
  std::unique_ptr<tenancy::Intents> intents;
  std::chrono::milliseconds wait{0};
};

Result<Session> open_session(const config::Values& v) {
  Session s;
  nats::ConnectOptions opts;
  opts.url = v.str("nats-url");
  opts.creds_file = v.str("nats-creds");
  opts.tls_ca_file = v.str("nats-ca");
  opts.tls_server_name = v.str("nats-tls-name");
  opts.name = "rmm-admin";
  opts.max_reconnect = 0;
  auto nc = nats::Connection::connect(opts);
  if (!nc) return std::unexpected(nc.error());
  s.nc = std::move(*nc);
  auto js = nats::JetStream::create(*s.nc, {});
  if (!js) return std::unexpected(js.error());
  s.js = std::move(*js);
  if (!v.str("pg-url").empty()) {
    auto pg = pg::connect(v.str("pg-url"), pg::RetryPolicy{.attempts = 3});
    if (!pg) return std::unexpected(pg.error());
    s.pg = std::move(*pg);
    s.read_model = std::make_unique<tenancy::TenancyReadModel>(*s.pg);
  }
  s.publisher = std::make_unique<tenancy::ControlPublisher>(*s.js, "admin", real_clock());
  s.intents = std::make_unique<tenancy::Intents>(*s.publisher, s.read_model.get(), real_clock());
  return s;
}

// Waits for the projector when a read model is configured; a timeout is a warning, not a failure:
// the event is in the log and will be applied.
void wait_for_projection(Session& s, const config::Values& v, StreamSeq seq) {
  if (!s.read_model) return;
  auto done = s.read_model->wait_for_projection(seq, v.duration("wait"));
  if (!done) {
    std::fprintf(stderr, "rmm-admin: warning: %s\n", done.error().message.c_str());
  } else if (!*done) {
    std::fprintf(stderr,
                 "rmm-admin: warning: the projector has not applied stream sequence %llu yet "
                 "(is rmm-projector running?)\n",
                 static_cast<unsigned long long>(seq.value));
  }
}

template <class T>
Result<T> parse_id(const config::Values& v, std::string_view key) {
  auto id = T::parse(v.str(key));
  if (!id) return failf("setting '{}': not a UUID", key);
  return id;
}

Result<pid_t> server_pid(const config::Values& v) {
  if (v.integer("nats-pid") > 0) return static_cast<pid_t>(v.integer("nats-pid"));
  if (v.str("nats-pid-file").empty()) return pid_t{0};
  auto text = files::read_all(v.str("nats-pid-file"));
  if (!text) return std::unexpected(text.error());
  long pid = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  if (ec != std::errc() || pid <= 0) return failf("{}: no pid in it", v.str("nats-pid-file"));
  return static_cast<pid_t>(pid);
}

}  // namespace

std::span<const config::Setting> create_client_settings() {
  return kCreateClient;
}
std::span<const config::Setting> create_site_settings() {
  return kCreateSite;
}
std::span<const config::Setting> create_code_settings() {
  return kCreateCode;
}
std::span<const config::Setting> push_account_settings() {
  return kPushAccount;
}
std::span<const config::Setting> revoke_code_settings() {
  return kRevokeCode;
}
std::span<const config::Setting> revoke_agent_settings() {
  return kRevokeAgent;
}

int run_create_client(const config::Values& v) {
  auto s = open_session(v);
  if (!s) return fail_with(s.error());
  auto created = s->intents->create_client(v.str("name"), tenancy::local_actor());
  if (!created) return fail_with(created.error());
  wait_for_projection(*s, v, created->stream_seq);
  fmt::print("{}\n", uuid_to_string(created->id));
  return 0;
}

int run_create_site(const config::Values& v) {
  auto client = parse_id<ClientId>(v, "client");
  if (!client) return fail_with(client.error());
  auto s = open_session(v);
  if (!s) return fail_with(s.error());
  auto created = s->intents->create_site(*client, v.str("name"), tenancy::local_actor());
  if (!created) return fail_with(created.error());
  wait_for_projection(*s, v, created->stream_seq);
  fmt::print("{}\n", uuid_to_string(created->id));
  return 0;
}

int run_create_code(const config::Values& v) {
  auto site = parse_id<SiteId>(v, "site");
  if (!site) return fail_with(site.error());
  auto s = open_session(v);
  if (!s) return fail_with(s.error());
  auto created =
      s->intents->create_enrollment_code(*site, v.duration("ttl"), tenancy::local_actor());
  if (!created) return fail_with(created.error());
  wait_for_projection(*s, v, created->stream_seq);
  // The code goes to stdout once and nowhere else; its id (for revoking) to stderr.
  std::fprintf(stderr, "rmm-admin: enrollment code %s for site %s, valid %llds\n",
               created->id.str().c_str(), site->str().c_str(),
               static_cast<long long>(v.duration("ttl").count() / 1000));
  fmt::print("{}\n", created->code);
  return 0;
}

int run_revoke_code(const config::Values& v) {
  auto code = parse_id<EnrollmentCodeId>(v, "code-id");
  if (!code) return fail_with(code.error());
  auto s = open_session(v);
  if (!s) return fail_with(s.error());
  auto revoked = s->intents->revoke_enrollment_code(*code, tenancy::local_actor());
  if (!revoked) return fail_with(revoked.error());
  wait_for_projection(*s, v, revoked->stream_seq);
  fmt::print("{}\n", code->str());
  return 0;
}

int run_revoke_agent(const config::Values& v) {
  auto agent = parse_id<AgentId>(v, "agent");
  if (!agent) return fail_with(agent.error());
  auto pid = server_pid(v);
  if (!pid) return fail_with(pid.error());
  auto s = open_session(v);
  if (!s) return fail_with(s.error());
  // The event first: it records the intent; re-running after a failure below is harmless.
  auto revoked = s->intents->revoke_agent(*agent, tenancy::local_actor(), v.str("reason"));
  if (!revoked) return fail_with(revoked.error());
  auto st = broker::revoke_user_keys(broker::RevokeKeysRequest{
      .home = v.str("home"),
      .user_public_keys = revoked->public_keys,
      .at_unix_seconds = real_clock().now() / 1'000'000'000,
      .server_config = v.str("nats-config"),
      .server_pid = *pid,
      .nats_url = v.str("nats-url"),
      .nats_tls = nats::tls_options(v),
  });
  if (!st) return fail_with(with_context(st.error(), "revoking the agent's keys at the broker"));
  wait_for_projection(*s, v, revoked->stream_seq);
  fmt::print("{} revoked ({} key{})\n", agent->str(), revoked->public_keys.size(),
             revoked->public_keys.size() == 1 ? "" : "s");
  return 0;
}

// A node that was down during a revocation's push keeps its older account JWT: this sends the
// current one (the servers' revocations merged with this home's) to every node again.
int run_push_account(const config::Values& v) {
  auto pid = server_pid(v);
  if (!pid) return fail_with(pid.error());
  auto report = broker::revoke_user_keys(broker::RevokeKeysRequest{
      .home = v.str("home"),
      .at_unix_seconds = real_clock().now() / 1'000'000'000,
      .server_config = v.str("nats-config"),
      .server_pid = *pid,
      .nats_url = v.str("nats-url"),
      .nats_tls = nats::tls_options(v),
  });
  if (!report) return fail_with(with_context(report.error(), "pushing the account JWT"));
  std::string servers;
  for (const auto& s : report->servers) servers += (servers.empty() ? "" : ", ") + s;
  fmt::print("account JWT taken by {} server{}: {}\n", report->servers.size(),
             report->servers.size() == 1 ? "" : "s", servers);
  return 0;
}

}  // namespace rmm::admin
