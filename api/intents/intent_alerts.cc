// POST /api/v1/alerts/{id}/acknowledge | resolve | suppress, and the bulk
// POST /api/v1/alerts/acknowledge | resolve.
#include <fmt/format.h>

#include <algorithm>

#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"

namespace rmm::api::intents {
namespace {

constexpr std::size_t kMaxNoteBytes = 2000;
// A bulk action names at most this many alerts (one event each).
constexpr std::size_t kMaxBulkAlerts = 500;
constexpr std::int64_t kMaxSuppressNs = 366LL * 24 * 3600 * 1'000'000'000;

}  // namespace

Response IntentRoutes::alert_action(const Request& req, const RequestContext& ctx,
                                    schema::Payload action) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<AlertId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  if (auto s = lookups_.alert(p, *id); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Technician); !r)
    return problem_for(r.error(), req, ctx);
  const bool suppress = action == schema::Payload::AlertSuppressed;
  auto body = suppress ? Body::parse(req.body(), {"until"}) : Body::parse(req.body(), {"note"});
  if (!body) return problem_for(body.error(), req, ctx);

  std::string note;
  UnixNanos until = 0;
  if (suppress) {
    auto text = body->required_text("until", 64);
    if (!text) return problem_for(text.error(), req, ctx);
    auto t = parse_rfc3339(*text);
    if (!t) return problem_for(t.error(), req, ctx);
    const auto now = d_.clock.now();
    if (*t <= now || *t - now > kMaxSuppressNs) {
      return problem_for(
          Error{Error::Code::kInvalidInput, "'until' must be in the future, at most a year away"},
          req, ctx);
    }
    until = *t;
  } else {
    auto text = body->text("note", kMaxNoteBytes, true);
    if (!text) return problem_for(text.error(), req, ctx);
    note = text->value_or("");
  }

  const codec::Actor by = p.actor();
  Result<StreamSeq> seq = fail("unreachable");
  switch (action) {
    case schema::Payload::AlertAcknowledged: {
      codec::AlertAcknowledgedInfo info{*id, note, by};
      seq =
          publish(action, [&](const auto& h) { return codec::build_alert_acknowledged(h, info); });
      break;
    }
    case schema::Payload::AlertResolved: {
      codec::AlertResolvedInfo info{*id, note, by};
      seq = publish(action, [&](const auto& h) { return codec::build_alert_resolved(h, info); });
      break;
    }
    default: {
      codec::AlertSuppressedInfo info{*id, until, by};
      seq = publish(action, [&](const auto& h) { return codec::build_alert_suppressed(h, info); });
      break;
    }
  }
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, boost::json::object{{"id", id->str()}}, *seq, *wait);
}

Response IntentRoutes::alerts_action(const Request& req, const RequestContext& ctx,
                                     schema::Payload action) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"ids", "note"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto texts = body->strings("ids", kMaxBulkAlerts, 64);
  if (!texts) return problem_for(texts.error(), req, ctx);
  if (!*texts || (*texts)->empty()) {
    return problem_for(Error{Error::Code::kInvalidInput, "'ids' must name at least one alert"}, req,
                       ctx);
  }
  std::vector<AlertId> ids;
  for (const auto& t : **texts) {
    auto id = AlertId::parse(t);
    if (!id) {
      return problem_for(Error{Error::Code::kInvalidInput, "'ids' holds a malformed id"}, req, ctx);
    }
    if (std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  }
  auto note = body->text("note", kMaxNoteBytes, true);
  if (!note) return problem_for(note.error(), req, ctx);
  // Visibility first (a foreign id is 404 for every role), then the role.
  if (auto s = lookups_.alerts(p, ids); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Technician); !r)
    return problem_for(r.error(), req, ctx);

  const codec::Actor by = p.actor();
  const std::string text = note->value_or("");
  StreamSeq last{0};
  boost::json::array done;
  for (const auto& id : ids) {
    Result<StreamSeq> seq = fail("unreachable");
    if (action == schema::Payload::AlertAcknowledged) {
      codec::AlertAcknowledgedInfo info{id, text, by};
      seq =
          publish(action, [&](const auto& h) { return codec::build_alert_acknowledged(h, info); });
    } else {
      codec::AlertResolvedInfo info{id, text, by};
      seq = publish(action, [&](const auto& h) { return codec::build_alert_resolved(h, info); });
    }
    if (!seq) {
      // The earlier ones are out: say how far it got, so a retry can skip them.
      Error e = seq.error();
      if (!done.empty())
        e.message += fmt::format(" ({} of {} alerts done)", done.size(), ids.size());
      return problem_for(e, req, ctx);
    }
    last = *seq;
    done.push_back(boost::json::string(id.str()));
  }
  return accepted(d_.read, req, ctx, boost::json::object{{"ids", std::move(done)}}, last, *wait);
}

}  // namespace rmm::api::intents
