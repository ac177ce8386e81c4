// PUT /api/v1/policies: replaces the policy document of one scope (PolicySet). Keys and values are
// checked with the projector's own list (projector/policy/policy_keys.h, library rmm_policy), so
// the API refuses exactly what the merge would skip.
#include <fmt/format.h>

#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"
#include "projector/policy/policy_keys.h"

namespace rmm::api::intents {
namespace {

constexpr std::size_t kMaxPolicyKeys = 128;
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxValueBytes = 1024;

Status check_policy_value(std::string_view key, std::string_view value) {
  if (value.size() > kMaxValueBytes) return invalid("a policy value is too long");
  if (auto s = policy::validate_policy_value(key, value); !s) {
    return fail(Error::Code::kInvalidInput, s.error().message);
  }
  return {};
}

// JSON scalars become the text the event carries: strings as they are, integers and booleans in
// their JSON spelling. Anything else is refused.
Result<std::string> value_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  return fail(Error::Code::kInvalidInput, "policy values must be strings, integers or booleans");
}

}  // namespace

Response IntentRoutes::put_policy(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"scope", "scope_id", "settings"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto scope_text = body->required_text("scope", 16);
  if (!scope_text) return problem_for(scope_text.error(), req, ctx);
  auto scope = codec::scope_from_name(*scope_text);
  if (!scope) {
    return problem_for(
        Error{Error::Code::kInvalidInput, "'scope' must be global, client, site or agent"}, req,
        ctx);
  }
  auto scope_id = body->uuid("scope_id");
  if (!scope_id) return problem_for(scope_id.error(), req, ctx);
  const bool global = *scope == schema::PolicyScope::Global;
  if (global && scope_id->has_value() && **scope_id != UuidBytes{}) {
    return problem_for(Error{Error::Code::kInvalidInput, "a global policy has no 'scope_id'"}, req,
                       ctx);
  }
  if (!global && !scope_id->has_value()) {
    return problem_for(Error{Error::Code::kInvalidInput, "'scope_id' is required"}, req, ctx);
  }

  const auto* settings = body->raw("settings");
  if (settings == nullptr || !settings->is_object()) {
    return problem_for(
        Error{Error::Code::kInvalidInput, "'settings' must be an object of key: value"}, req, ctx);
  }
  if (settings->get_object().size() > kMaxPolicyKeys) {
    return problem_for(Error{Error::Code::kInvalidInput,
                             fmt::format("'settings' holds at most {} keys", kMaxPolicyKeys)},
                       req, ctx);
  }
  codec::PolicySetInfo info;
  info.scope = {*scope, global ? UuidBytes{} : **scope_id};
  info.by = p.actor();
  for (const auto& kv : settings->get_object()) {
    std::string_view key = kv.key();
    if (key.empty() || key.size() > kMaxKeyBytes || !check_text("key", key, kMaxKeyBytes)) {
      return problem_for(Error{Error::Code::kInvalidInput, "a policy key is malformed"}, req, ctx);
    }
    auto value = value_text(kv.value());
    if (!value) return problem_for(value.error(), req, ctx);
    if (auto s = check_policy_value(key, *value); !s) return problem_for(s.error(), req, ctx);
    info.values.emplace_back(std::string(key), std::move(*value));
  }

  // The scope must be visible; a global policy needs a global grant.
  Status visible = lookups_.scope(p, info.scope, "setting the global policy needs a global grant");
  if (!visible) return problem_for(visible.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);

  auto seq = publish(schema::Payload::PolicySet,
                     [&](const auto& h) { return codec::build_policy_set(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  boost::json::object out{{"scope", std::string(codec::scope_name(*scope))},
                          {"scope_id", global ? boost::json::value(nullptr)
                                              : boost::json::value(uuid_to_string(info.scope.id))}};
  return accepted(d_.read, req, ctx, std::move(out), *seq, *wait);
}

}  // namespace rmm::api::intents
