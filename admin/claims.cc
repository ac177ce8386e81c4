#include "admin/claims.h"

#include <boost/json/array.hpp>
#include <chrono>

namespace rmm::broker {
namespace {

namespace json = boost::json;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object base_claims(std::string_view subject, std::string_view name) {
  json::object c;
  c["iat"] = now_seconds();
  c["name"] = name;
  c["sub"] = subject;
  return c;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

void set_user_limits(json::object& o, const ConnectionLimits& limits) {
  o["subs"] = limits.subscriptions;
  o["data"] = -1;  // bytes a connection may send in all: not enforced by nats-server 2.9
  o["payload"] = limits.payload;
}

}  // namespace

json::object operator_claims(std::string_view operator_public_key, std::string_view name,
                             std::string_view system_account, std::int64_t issued_at) {
  auto c = base_claims(operator_public_key, name);
  if (issued_at > 0) c["iat"] = issued_at;
  json::object nats;
  nats["system_account"] = system_account;
  nats["type"] = "operator";
  nats["version"] = 2;
  c["nats"] = std::move(nats);
  return c;
}

json::object account_claims(std::string_view account_public_key, const AccountSpec& spec) {
  auto c = base_claims(account_public_key, spec.name);
  if (spec.issued_at > 0) c["iat"] = spec.issued_at;
  const auto& l = spec.limits;
  json::object limits;
  limits["subs"] = l.subscriptions;
  limits["data"] = -1;  // not enforced by nats-server 2.9
  limits["payload"] = l.payload;
  limits["imports"] = l.imports;
  limits["exports"] = l.exports;
  limits["wildcards"] = true;
  limits["conn"] = l.connections;
  limits["leaf"] = l.leaf_connections;
  limits["mem_storage"] = spec.jetstream ? l.mem_storage : 0;
  limits["disk_storage"] = spec.jetstream ? l.disk_storage : 0;
  if (spec.jetstream) {
    limits["streams"] = l.streams;
    limits["consumer"] = l.consumers;
    limits["max_bytes_required"] = l.max_bytes_required;
  }
  json::object nats;
  nats["limits"] = std::move(limits);
  if (!spec.mappings.empty()) {
    json::object mappings;
    for (const auto& m : spec.mappings) {
      json::object dest;
      dest["subject"] = m.to;
      dest["weight"] = 100;
      mappings[m.from] = json::array{std::move(dest)};
    }
    nats["mappings"] = std::move(mappings);
  }
  if (!spec.scoped_keys.empty()) {
    json::array keys;
    for (const auto& k : spec.scoped_keys) {
      json::object tmpl;
      tmpl["pub"] = json::object{{"allow", to_array(k.pub_allow)}};
      tmpl["sub"] = json::object{{"allow", to_array(k.sub_allow)}};
      set_user_limits(tmpl, k.limits);
      json::object scope;
      scope["kind"] = "user_scope";
      scope["key"] = k.key;
      scope["role"] = k.role;
      scope["template"] = std::move(tmpl);
      keys.emplace_back(std::move(scope));
    }
    nats["signing_keys"] = std::move(keys);
  }
  if (!spec.revocations.empty()) {
    json::object revoked;
    for (const auto& [key, at] : spec.revocations) revoked[key] = at;
    nats["revocations"] = std::move(revoked);
  }
  nats["type"] = "account";
  nats["version"] = 2;
  c["nats"] = std::move(nats);
  return c;
}

json::object user_claims(std::string_view user_public_key, const UserSpec& spec) {
  auto c = base_claims(user_public_key, spec.name);
  json::object nats;
  if (!spec.scoped) {
    nats["pub"] = spec.pub_allow.empty() && spec.sub_allow.empty()
                      ? json::object{}
                      : json::object{{"allow", to_array(spec.pub_allow)}};
    nats["sub"] = spec.pub_allow.empty() && spec.sub_allow.empty()
                      ? json::object{}
                      : json::object{{"allow", to_array(spec.sub_allow)}};
    set_user_limits(nats, ConnectionLimits{});  // within the account's
  }
  if (!spec.tags.empty()) nats["tags"] = to_array(spec.tags);
  if (!spec.issuer_account.empty()) nats["issuer_account"] = spec.issuer_account;
  nats["type"] = "user";
  nats["version"] = 2;
  c["nats"] = std::move(nats);
  return c;
}

}  // namespace rmm::broker
