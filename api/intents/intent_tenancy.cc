// Clients, sites, enrollment codes and agent revocation. Creation, codes and revocation reuse the
// tenancy intents shared with rmm-admin (admin/tenancy/intents.h: names, code generation and
// hashing, the agent's keys); the API adds visibility and role checks in front of them.
#include <fmt/format.h>

#include <charconv>
#include <pqxx/transaction>

#include "admin/revocations.h"
#include "admin/tenancy/intents.h"
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"
#include "api/problem.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::api::intents {
namespace {

constexpr std::size_t kMaxReasonBytes = 500;

Result<std::string> name_of(std::string_view body_text) {
  auto body = Body::parse(body_text, {"name"});
  if (!body) return std::unexpected(body.error());
  return body->required_text("name", tenancy::kMaxNameChars);
}

pid_t read_pid(const std::filesystem::path& file) {
  auto text = files::read_all(file);
  if (!text) return 0;
  long pid = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  return ec == std::errc() && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

Status IntentRoutes::unique_client_name(const std::string& name,
                                        const std::optional<ClientId>& except) {
  auto taken = lookups_.client_name_taken(name, except);
  if (!taken) return std::unexpected(taken.error());
  if (*taken) {
    return fail(Error::Code::kConflict,
                "a client named '" + name + "' exists already (names are compared ignoring case)");
  }
  return {};
}

Error from_tenancy(Error e) {
  if (e.code == Error::Code::kGeneric) e.code = Error::Code::kTimeout;
  return e;
}

Response IntentRoutes::create_client(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto name = name_of(req.body());
  if (!name) return problem_for(name.error(), req, ctx);
  // A new client is outside every client or site grant: only whoever sees everything may add one.
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (!p.global()) {
    return problem_for(Error{Error::Code::kNotSupported, "creating clients needs a global grant"},
                       req, ctx);
  }
  if (auto s = unique_client_name(*name, std::nullopt); !s) return problem_for(s.error(), req, ctx);
  tenancy::Intents intents(d_.publisher.control(), nullptr, d_.clock);
  intents.set_impersonator(p.actor().impersonator);
  auto created = intents.create_client(*name, p.actor().actor);
  if (!created) return problem_for(from_tenancy(created.error()), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", uuid_to_string(created->id)}}, created->stream_seq,
                  *wait);
}

Response IntentRoutes::rename_client(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<ClientId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto name = name_of(req.body());
  if (!name) return problem_for(name.error(), req, ctx);
  if (auto s = lookups_.client(p, *id, true); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (auto s = unique_client_name(*name, *id); !s) return problem_for(s.error(), req, ctx);
  codec::ClientRenamedInfo info{*id, *name, p.actor()};
  auto seq = publish(schema::Payload::ClientRenamed,
                     [&](const auto& h) { return codec::build_client_renamed(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, *seq, *wait);
}

Response IntentRoutes::delete_client(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<ClientId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  if (auto b = Body::parse(req.body(), {}); !b) return problem_for(b.error(), req, ctx);
  if (auto s = lookups_.client(p, *id, true); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  codec::ClientDeletedInfo info{*id, p.actor()};
  auto seq = publish(schema::Payload::ClientDeleted,
                     [&](const auto& h) { return codec::build_client_deleted(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, *seq, *wait);
}

Response IntentRoutes::create_site(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"client_id", "name"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto client = body->uuid("client_id");
  if (!client) return problem_for(client.error(), req, ctx);
  if (!*client)
    return problem_for(Error{Error::Code::kInvalidInput, "'client_id' is required"}, req, ctx);
  auto name = body->required_text("name", tenancy::kMaxNameChars);
  if (!name) return problem_for(name.error(), req, ctx);
  if (auto s = lookups_.client(p, ClientId(**client), true); !s) {
    return problem_for(s.error(), req, ctx);
  }
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  tenancy::Intents intents(d_.publisher.control(), nullptr, d_.clock);
  intents.set_impersonator(p.actor().impersonator);
  auto created = intents.create_site(ClientId(**client), *name, p.actor().actor);
  if (!created) return problem_for(from_tenancy(created.error()), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", uuid_to_string(created->id)}}, created->stream_seq,
                  *wait);
}

Response IntentRoutes::rename_site(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<SiteId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto name = name_of(req.body());
  if (!name) return problem_for(name.error(), req, ctx);
  if (auto s = lookups_.site(p, *id); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  codec::SiteRenamedInfo info{*id, *name, p.actor()};
  auto seq = publish(schema::Payload::SiteRenamed,
                     [&](const auto& h) { return codec::build_site_renamed(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, *seq, *wait);
}

Response IntentRoutes::delete_site(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<SiteId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  if (auto b = Body::parse(req.body(), {}); !b) return problem_for(b.error(), req, ctx);
  if (auto s = lookups_.site(p, *id); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  codec::SiteDeletedInfo info{*id, p.actor()};
  auto seq = publish(schema::Payload::SiteDeleted,
                     [&](const auto& h) { return codec::build_site_deleted(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, *seq, *wait);
}

Response IntentRoutes::create_code(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"site_id", "expires_in_s"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto site = body->uuid("site_id");
  if (!site) return problem_for(site.error(), req, ctx);
  if (!*site) {
    return problem_for(Error{Error::Code::kInvalidInput, "'site_id' is required"}, req, ctx);
  }
  auto ttl = body->integer("expires_in_s", kMinCodeTtlS, kMaxCodeTtlS);
  if (!ttl) return problem_for(ttl.error(), req, ctx);
  if (auto s = lookups_.site(p, SiteId(**site)); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  tenancy::Intents intents(d_.publisher.control(), nullptr, d_.clock);
  intents.set_impersonator(p.actor().impersonator);
  auto created = intents.create_enrollment_code(
      SiteId(**site), std::chrono::seconds(ttl->value_or(kDefaultCodeTtlS)), p.actor().actor);
  if (!created) return problem_for(from_tenancy(created.error()), req, ctx);
  boost::json::object out{{"id", created->id.str()},
                          {"code", created->code},
                          {"expires_at", format_rfc3339(created->expires_at)}};
  if (d_.install_line) {
    // A code is useful without the line (rmm-agent enroll by hand): a missing package or
    // setting is logged, not an error.
    auto line = d_.install_line(created->code);
    if (line) {
      out["install"] = boost::json::object{{"linux", *line}};
    } else {
      log::warn("intent.install_line_unavailable",
                {{"correlation_id", ctx.correlation_id}, {"error", line.error().message}});
    }
  }
  return accepted(d_.read, req, ctx, std::move(out), created->stream_seq, *wait);
}

Response IntentRoutes::revoke_code(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<EnrollmentCodeId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  if (auto b = Body::parse(req.body(), {}); !b) return problem_for(b.error(), req, ctx);
  if (auto s = lookups_.enrollment_code(p, *id); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  tenancy::Intents intents(d_.publisher.control(), nullptr, d_.clock);
  intents.set_impersonator(p.actor().impersonator);
  auto revoked = intents.revoke_enrollment_code(*id, p.actor().actor);
  if (!revoked) return problem_for(from_tenancy(revoked.error()), req, ctx);
  return accepted(d_.read, req, ctx, {{"id", id->str()}}, revoked->stream_seq, *wait);
}

Response IntentRoutes::revoke_agent(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<AgentId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto body = Body::parse(req.body(), {"reason"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto reason = body->text("reason", kMaxReasonBytes);
  if (!reason) return problem_for(reason.error(), req, ctx);
  auto agent = lookups_.agent(p, *id);
  if (!agent) return problem_for(agent.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (agent->revoked) {
    return problem_for(Error{Error::Code::kConflict, "the agent is already revoked"}, req, ctx);
  }
  if (d_.revoke.home.empty()) {
    return problem_for(Error{Error::Code::kTimeout, "agent revocation is not configured"}, req,
                       ctx);
  }

  // The event first (it records the intent and lists the keys), then the broker side, exactly as
  // rmm-admin revoke-agent does; repeating after a broker failure is harmless.
  auto lease = d_.read.acquire();
  if (!lease) return problem_for(Error{Error::Code::kTimeout, lease.error().message}, req, ctx);
  Result<tenancy::RevokedAgent> revoked = fail("unreachable");
  {
    tenancy::TenancyReadModel model(lease->conn());
    tenancy::Intents intents(d_.publisher.control(), &model, d_.clock);
    intents.set_impersonator(p.actor().impersonator);
    revoked = intents.revoke_agent(*id, p.actor().actor, reason->value_or("revoked in the API"));
  }
  if (!revoked) {
    if (revoked.error().code == Error::Code::kGeneric) lease->discard();
    return problem_for(from_tenancy(revoked.error()), req, ctx);
  }
  auto config = d_.revoke.nats_config.empty() ? broker::find_server_config(d_.revoke.home)
                                              : d_.revoke.nats_config;
  auto pid_file =
      d_.revoke.pid_file.empty() ? d_.revoke.home / "run" / "nats.pid" : d_.revoke.pid_file;
  auto st = broker::revoke_user_keys(broker::RevokeKeysRequest{
      .home = d_.revoke.home,
      .user_public_keys = revoked->public_keys,
      .at_unix_seconds = d_.clock.now() / 1'000'000'000,
      .server_config = config,
      .server_pid = read_pid(pid_file),
      .nats_url = d_.revoke.nats_url,
      .nats_tls = d_.revoke.nats_tls,
  });
  if (!st) {
    log::error("intent.revoke_broker_failed",
               {{"correlation_id", ctx.correlation_id}, {"error", st.error().message}});
    return internal_error(ctx, req.version());
  }
  return accepted(d_.read, req, ctx,
                  {{"id", id->str()}, {"revoked_keys", revoked->public_keys.size()}},
                  revoked->stream_seq, *wait);
}

}  // namespace rmm::api::intents
