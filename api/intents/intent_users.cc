// POST /api/v1/users and PATCH /api/v1/users/{id}. The password goes to auth.credentials as an
// Argon2id hash (api/auth/passwords.h); the UserCreated/UserUpdated events carry no secret.
//
// Rules: owners manage everyone; admins only users below admin, inside their own scopes, and may
// neither create nor promote anyone to admin or owner. Nobody changes their own role or disables
// themselves (an owner cannot lock the installation out by mistake).
//
// A user without grants is inside no client or site, so it belongs to nobody's scope: only owners
// and global admins may change it (Lookups::user), and a client- or site-scoped admin may neither
// create one nor take a user's last grant away (that would hand the user to whoever grants it
// next).
#include <fmt/format.h>

#include <pqxx/transaction>

#include "api/auth/passwords.h"
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"
#include "common/log.h"

namespace rmm::api::intents {
namespace {

constexpr std::size_t kMaxUsernameBytes = 64;
constexpr std::size_t kMaxDisplayNameBytes = 200;
constexpr std::size_t kMaxScopes = 256;

Status check_username(std::string_view name) {
  if (name.empty() || name.size() > kMaxUsernameBytes) {
    return invalid(fmt::format("'username' must be 1-{} bytes", kMaxUsernameBytes));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return invalid("'username' may hold letters, digits and . _ - @ only");
  }
  return {};
}

// The new password, checked for shape only (hashing it comes last: it is the expensive step).
Result<std::string> password_of(const Body& body) {
  const auto* v = body.raw("password");
  if (v == nullptr || !v->is_string()) return invalid("'password' must be a string");
  std::string_view pw = v->get_string();
  if (pw.size() < kMinPasswordLength || pw.size() > kMaxPasswordLength) {
    return invalid(
        fmt::format("'password' must be {}-{} bytes", kMinPasswordLength, kMaxPasswordLength));
  }
  return std::string(pw);
}

// Argon2id through the gate. kTimeout (503) when it is full or gives no turn in time.
Result<std::string> hash_of(PasswordGate& gate, const std::string& password) {
  auto ticket = gate.enter();
  if (!ticket) return fail(Error::Code::kTimeout, "the password hashing gate is full");
  // kTimeout: no turn in time (503); anything else is out of memory (a logged 500).
  return ticket->hash(password);
}

Result<schema::UserRole> parse_role(const Body& body) {
  auto text = body.required_text("role", 16);
  if (!text) return std::unexpected(text.error());
  auto role = codec::role_from_name(*text);
  if (!role) return invalid("'role' must be read_only, technician, admin or owner");
  return *role;
}

// [{"scope": "global"|"client"|"site", "id": uuid}], each inside what `p` sees.
Result<std::vector<codec::ScopeRef>> parse_scopes(PgPool& pool, const Principal& p,
                                                  const boost::json::value& v) {
  if (!v.is_array() || v.get_array().size() > kMaxScopes) {
    return invalid(fmt::format("'scopes' must be an array of at most {} grants", kMaxScopes));
  }
  std::vector<codec::ScopeRef> out;
  for (const auto& item : v.get_array()) {
    const auto* obj = item.if_object();
    if (obj == nullptr || obj->size() > 2 || !obj->contains("scope")) {
      return invalid("each scope is {\"scope\": \"global\"|\"client\"|\"site\", \"id\": uuid}");
    }
    const auto& name = obj->at("scope");
    auto scope = name.is_string() ? codec::scope_from_name(std::string_view(name.get_string()))
                                  : std::nullopt;
    if (!scope || *scope == schema::PolicyScope::Agent) {
      return invalid("a scope's 'scope' must be global, client or site");
    }
    codec::ScopeRef ref{*scope, {}};
    if (*scope != schema::PolicyScope::Global) {
      const auto* id = obj->if_contains("id");
      if (id == nullptr) return invalid("a client or site scope needs 'id'");
      auto bytes = parse_uuid_field("id", *id);
      if (!bytes) return std::unexpected(bytes.error());
      ref.id = *bytes;
    } else if (obj->size() == 2 && !obj->contains("id")) {
      return invalid("unknown field in a scope");
    }
    auto inside = scope_within(pool, p, ref);
    if (!inside) return std::unexpected(inside.error());
    if (!*inside) {
      // Granting something the granter cannot see: say "not found", as for any foreign id.
      return not_found("a granted client or site was not found");
    }
    out.push_back(ref);
  }
  return out;
}

// What a client- or site-scoped admin may not do: leave a user without grants.
Status need_grants(const Principal& p, const std::vector<codec::ScopeRef>& scopes) {
  if (scopes.empty() && !p.global()) {
    return forbidden("a client or site admin must grant at least one of its clients or sites");
  }
  return {};
}

// Runs `fn` in a read-write transaction of the credential pool. `fn` touches nothing but that
// transaction, so it is run again on a new connection when PostgreSQL dropped the first one
// before COMMIT (nothing of it was committed; see PgPool::run).
template <class Fn>
Status with_credentials(PgPool& pool, Fn&& fn) {
  try {
    return pool.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
      pqxx::work tx(c);
      Status s = fn(tx);
      if (s) tx.commit();
      return s;
    });
  } catch (const std::exception& e) {
    return fail(fmt::format("credential store: {}", e.what()));
  }
}

}  // namespace

Response IntentRoutes::create_user(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"username", "display_name", "password", "role", "scopes"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto username = body->required_text("username", kMaxUsernameBytes);
  if (!username) return problem_for(username.error(), req, ctx);
  if (auto s = check_username(*username); !s) return problem_for(s.error(), req, ctx);
  auto display = body->text("display_name", kMaxDisplayNameBytes);
  if (!display) return problem_for(display.error(), req, ctx);
  auto role = parse_role(*body);
  if (!role) return problem_for(role.error(), req, ctx);
  auto password = password_of(*body);
  if (!password) return problem_for(password.error(), req, ctx);
  if (p.role != schema::UserRole::Owner && *role >= schema::UserRole::Admin) {
    return problem_for(
        Error{Error::Code::kNotSupported, "only an owner may create admins and owners"}, req, ctx);
  }
  std::vector<codec::ScopeRef> scopes;
  if (const auto* v = body->raw("scopes")) {
    auto parsed = parse_scopes(d_.read, p, *v);
    if (!parsed) return problem_for(parsed.error(), req, ctx);
    scopes = std::move(*parsed);
  }
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (auto g = need_grants(p, scopes); !g) return problem_for(g.error(), req, ctx);
  auto taken = lookups_.username_taken(*username);
  if (!taken) return problem_for(taken.error(), req, ctx);
  if (*taken) {
    return problem_for(Error{Error::Code::kConflict, "that username is taken"}, req, ctx);
  }
  auto hash = hash_of(d_.passwords, *password);
  if (!hash) return problem_for(hash.error(), req, ctx);

  auto id = UserId::generate(d_.clock);
  auto stored = with_credentials(d_.credentials, [&](pqxx::work& tx) -> Status {
    auto r = tx.exec_params(
        "INSERT INTO auth.credentials (user_id, username, password_hash) VALUES ($1::uuid, $2, $3) "
        "ON CONFLICT DO NOTHING",
        id.str(), *username, *hash);
    if (r.affected_rows() == 0) return fail(Error::Code::kConflict, "that username is taken");
    return {};
  });
  if (!stored) return problem_for(stored.error(), req, ctx);

  codec::UserCreatedInfo info{id, *username, display->value_or(""), *role, scopes, p.actor()};
  auto seq = publish(schema::Payload::UserCreated,
                     [&](const auto& h) { return codec::build_user_created(h, info); });
  if (!seq) {
    // No event, no user: take the credential back so the name is free again.
    auto undo = with_credentials(d_.credentials, [&](pqxx::work& tx) -> Status {
      tx.exec_params("DELETE FROM auth.credentials WHERE user_id = $1::uuid", id.str());
      return {};
    });
    if (!undo) log::error("intent.user_undo_failed", {{"error", undo.error().message}});
    return problem_for(seq.error(), req, ctx);
  }
  return accepted(d_.read, req, ctx, {{"id", id.str()}}, *seq, *wait);
}

Response IntentRoutes::update_user(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<UserId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto body = Body::parse(req.body(), {"role", "scopes", "disabled", "password"});
  if (!body) return problem_for(body.error(), req, ctx);
  if (!body->has("role") && !body->has("scopes") && !body->has("disabled") &&
      !body->has("password")) {
    return problem_for(
        Error{Error::Code::kInvalidInput, "give at least one of role, scopes, disabled, password"},
        req, ctx);
  }
  std::optional<std::string> password;
  if (body->has("password")) {
    auto pw = password_of(*body);
    if (!pw) return problem_for(pw.error(), req, ctx);
    password = std::move(*pw);
  }
  auto current = lookups_.user(p, *id);
  if (!current) return problem_for(current.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);

  codec::UserUpdatedInfo info{*id, current->role, current->scopes, current->disabled, p.actor()};
  if (body->has("role")) {
    auto role = parse_role(*body);
    if (!role) return problem_for(role.error(), req, ctx);
    if (p.role != schema::UserRole::Owner && *role >= schema::UserRole::Admin) {
      return problem_for(
          Error{Error::Code::kNotSupported, "only an owner may make admins and owners"}, req, ctx);
    }
    info.role = *role;
  }
  auto disabled = body->boolean("disabled");
  if (!disabled) return problem_for(disabled.error(), req, ctx);
  if (*disabled) info.disabled = **disabled;
  if (*id == p.user && (info.role != current->role || info.disabled)) {
    return problem_for(
        Error{Error::Code::kNotSupported, "you cannot change your own role or disable yourself"},
        req, ctx);
  }
  if (const auto* v = body->raw("scopes")) {
    auto parsed = parse_scopes(d_.read, p, *v);
    if (!parsed) return problem_for(parsed.error(), req, ctx);
    info.scopes = std::move(*parsed);
    if (auto g = need_grants(p, info.scopes); !g) return problem_for(g.error(), req, ctx);
  }
  std::optional<std::string> hash;
  if (password) {
    auto h = hash_of(d_.passwords, *password);
    if (!h) return problem_for(h.error(), req, ctx);
    hash = std::move(*h);
  }
  if (hash || info.disabled) {
    // A new password or a disabled account ends every open session of the user.
    auto stored = with_credentials(d_.credentials, [&](pqxx::work& tx) -> Status {
      if (hash) {
        auto r = tx.exec_params(
            "UPDATE auth.credentials SET password_hash = $2, updated_at = now() "
            "WHERE user_id = $1::uuid",
            id->str(), *hash);
        if (r.affected_rows() == 0) return not_found("the user has no credential");
      }
      tx.exec_params(
          "UPDATE auth.sessions SET revoked_at = now() WHERE (user_id = $1::uuid OR "
          "acting_as_user_id = $1::uuid) AND revoked_at IS NULL",
          id->str());
      return {};
    });
    if (!stored) return problem_for(stored.error(), req, ctx);
  }
  auto seq = publish(schema::Payload::UserUpdated,
                     [&](const auto& h) { return codec::build_user_updated(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, *seq, *wait);
}

}  // namespace rmm::api::intents
