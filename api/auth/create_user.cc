#include "api/auth/create_user.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "admin/tenancy/control_publisher.h"
#include "api/auth/credential_store.h"
#include "api/auth/passwords.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/control_plane_events.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/nats_tls_settings.h"
#include "common/pg.h"
#include "common/service_inboxes.h"

namespace rmm::api {
namespace {

using config::Setting;
using config::Type;

constexpr std::array kCreateUserSettings = {
    Setting{"username", Type::kString, "", "the new user's sign-in name"},
    Setting{"role", Type::kString, "owner", "read_only, technician, admin or owner"},
    Setting{"password-file", Type::kString, "", "file whose first line is the password"},
    Setting{"display-name", Type::kString, "", "shown in the dashboard"},
    Setting{"if-no-user", Type::kBool, "false",
            "do nothing (exit 3) when any user already has a credential"},
    Setting{"pg-url", Type::kString, "postgresql://127.0.0.1:5432/gururmm",
            "PostgreSQL URL (the auth schema, read-write)"},
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL(s)"},
    Setting{"nats-creds", Type::kString, "", "NATS credentials allowed to publish control events"},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"log-level", Type::kString, "warn", "debug, info, warn or error"},
};

int error(const std::string& message, int code = 1) {
  std::fprintf(stderr, "rmm-api create-user: %s\n", message.c_str());
  return code;
}

bool valid_username(std::string_view u) {
  if (u.empty() || u.size() > 128) return false;
  for (char c : u) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int create_user_main(int argc, const char* const* argv) {
  auto v = config::Values::load(kCreateUserSettings, argc, argv);
  if (!v) return error(v.error().message, 2);
  if (v->help_requested()) {
    std::fputs(
        config::usage("rmm-api create-user [options]",
                      "Creates a user (the first owner at installation).", kCreateUserSettings)
            .c_str(),
        stdout);
    return 0;
  }
  const std::string username = v->str("username");
  if (!valid_username(username)) {
    return error("--username: 1-128 characters of letters, digits and . _ - @", 2);
  }
  auto role = codec::role_from_name(v->str("role"));
  if (!role) return error("--role: read_only, technician, admin or owner", 2);
  std::ifstream in(v->str("password-file"));
  std::string password;
  if (!in || !std::getline(in, password)) return error("--password-file: cannot read it", 2);
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return error("the password must have 12 to 1024 characters", 2);
  }

  auto pg = pg::connect(v->str("pg-url"), pg::RetryPolicy{.attempts = 3});
  if (!pg) return error("PostgreSQL: " + pg.error().message);
  try {
    {
      pqxx::read_transaction tx(**pg);
      if (v->flag("if-no-user") && auth_store::owner_exists(tx, true)) {
        std::fprintf(stderr, "rmm-api create-user: a user already exists; nothing done\n");
        return 3;
      }
      auto taken = tx.exec_params(
          "SELECT 1 FROM auth.credentials WHERE username = $1 UNION ALL"
          " SELECT 1 FROM users WHERE username = $1",
          username);
      if (!taken.empty()) return error("username '" + username + "' is taken");
    }
    auto hash = hash_password(password);
    if (!hash) return error(hash.error().message);

    auto nc = nats::Connection::connect({.url = v->str("nats-url"),
                                         .creds_file = v->str("nats-creds"),
                                         .name = "rmm-api-create-user",
                                         .inbox_prefix = std::string(nats::kApiInboxPrefix),
                                         .tls_ca_file = v->str("nats-ca"),
                                         .tls_server_name = v->str("nats-tls-name"),
                                         .max_reconnect = 0});
    if (!nc) return error("NATS: " + nc.error().message);
    auto js = nats::JetStream::create(**nc, {});
    if (!js) return error("JetStream: " + js.error().message);
    const Clock& clock = real_clock();
    tenancy::ControlPublisher publisher(**js, "api-cli", clock);
    codec::UserCreatedInfo info;
    info.user = UserId::generate(clock);
    info.username = username;
    info.display_name = v->str("display-name");
    info.role = *role;
    if (*role == schema::UserRole::Owner) {
      info.scopes.push_back(codec::ScopeRef{schema::PolicyScope::Global, {}});
    }
    info.by = codec::Actor{tenancy::local_actor(), ""};
    auto ack = publisher.publish(
        schema::Payload::UserCreated,
        [&](const codec::ControlEventHeader& h) { return codec::build_user_created(h, info); });
    if (!ack) return error("publishing UserCreated: " + ack.error().message);

    pqxx::work tx(**pg);
    auth_store::put_credential(tx, info.user, username, *hash, clock.now());
    tx.commit();
    std::printf("%s\n", info.user.str().c_str());
    return 0;
  } catch (const std::exception& e) {
    return error(std::string("PostgreSQL: ") + e.what());
  }
}

}  // namespace rmm::api
