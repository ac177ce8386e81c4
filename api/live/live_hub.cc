#include "api/live/live_hub.h"

#include <boost/json.hpp>
#include <pqxx/transaction>
#include <set>

#include "api/auth/authenticator.h"
#include "api/db/sql_params.h"
#include "api/intents/json_input.h"
#include "common/log.h"

namespace rmm::api::live {
namespace {

using Steady = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kWake{250};
constexpr std::chrono::seconds kOfflineCheck{1};
constexpr std::chrono::seconds kMissRetry{5};
constexpr int kMaxPendingMsgs = 200'000;
constexpr int kMaxPendingBytes = 256 << 20;
constexpr std::size_t kMaxAlerts = 10'000;

constexpr const char* kSubjects[] = {"rmm.p.*.evt.>", "rmm.ctl.>"};

std::string ts(const char* column) {
  return fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", column);
}

boost::json::value text_or_null(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return boost::json::string(f.c_str(), f.size());
}

boost::json::value number_or_null(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return f.as<double>();
}

std::optional<UuidBytes> uuid_or_none(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  auto u = uuid_from_string(f.c_str());
  if (!u) return std::nullopt;
  return *u;
}

}  // namespace

LiveHub::LiveHub(nats::Connection& nc, PgPool& pool, const Clock& clock, LiveOptions options)
    : nc_(nc), pool_(pool), clock_(clock), options_(options) {}

LiveHub::~LiveHub() {
  stop();
}

Status LiveHub::start() {
  for (const char* subject : kSubjects) {
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_Subscribe(&sub, nc_.raw(), subject, &LiveHub::on_message, this);
    if (s != NATS_OK) {
      return failf("subscribing to {}: {} ({})", subject, natsStatus_GetText(s),
                   nats_GetLastError(nullptr));
    }
    natsSubscription_SetPendingLimits(sub, kMaxPendingMsgs, kMaxPendingBytes);
    subs_.push_back(sub);
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void LiveHub::stop() {
  for (auto* sub : subs_) {
    // Unsubscribe, then wait for a callback that may be running, before `this` can go away.
    if (natsSubscription_Drain(sub) == NATS_OK) {
      natsSubscription_WaitForDrainCompletion(sub, 2000);
    } else {
      natsSubscription_Unsubscribe(sub);
    }
    natsSubscription_Destroy(sub);
  }
  subs_.clear();
  {
    std::lock_guard lock(in_mutex_);
    stopping_ = true;
  }
  in_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(conn_mutex_);
  for (auto& s : conns_) {
    if (auto c = s.conn.lock()) c->push(sse_frame("bye", "{}"));
  }
}

void LiveHub::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<LiveHub*>(closure);
  Inbound in;
  in.subject = natsMsg_GetSubject(msg);
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
  in.data.assign(data, data + natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
  {
    std::lock_guard lock(self->in_mutex_);
    if (self->inbound_.size() >= self->options_.max_inbound) {
      self->in_dropped_ = true;
      return;
    }
    self->inbound_.push_back(std::move(in));
  }
  self->in_cv_.notify_one();
}

template <class Pick>
bool LiveHub::replace_oldest(Pick pick) {
  for (auto it = conns_.begin(); it != conns_.end(); ++it) {
    if (!pick(*it)) continue;
    if (auto c = it->conn.lock()) c->finish(sse_frame("bye", R"({"reason":"replaced"})"));
    conns_.erase(it);
    return true;
  }
  return false;
}

Result<std::shared_ptr<LiveConnection>> LiveHub::connect(const Principal& principal) {
  const bool owner = principal.role == schema::UserRole::Owner;
  std::lock_guard lock(conn_mutex_);
  std::erase_if(conns_, [](const Subscriber& s) {
    auto c = s.conn.lock();
    return !c || c->closed();
  });
  auto count = [&](auto pred) {
    return static_cast<std::size_t>(std::count_if(conns_.begin(), conns_.end(), pred));
  };
  auto same_session = [&](const Subscriber& s) { return s.session == principal.session; };
  auto same_user = [&](const Subscriber& s) { return s.user == principal.user; };
  // Bounded loops: each pass removes one subscriber.
  while (count(same_session) >= options_.max_per_session && replace_oldest(same_session)) {
  }
  while (count(same_user) >= options_.max_per_user && replace_oldest(same_user)) {
  }
  const std::size_t for_others = options_.max_connections > options_.max_per_user
                                     ? options_.max_connections - options_.max_per_user
                                     : 0;
  if (!owner && conns_.size() >= for_others) {
    return fail(Error::Code::kConflict, "too many live connections");
  }
  if (owner && conns_.size() >= options_.max_connections &&
      !replace_oldest([](const Subscriber& s) { return !s.owner; })) {
    return fail(Error::Code::kConflict, "too many live connections");
  }
  auto conn = std::make_shared<LiveConnection>(Visibility::of(principal), options_.max_queued_bytes,
                                               options_.heartbeat);
  conns_.push_back(Subscriber{conn, principal.user, principal.session, owner});
  return conn;
}

std::size_t LiveHub::connections() {
  std::lock_guard lock(conn_mutex_);
  return static_cast<std::size_t>(std::count_if(conns_.begin(), conns_.end(), [](const auto& s) {
    auto c = s.conn.lock();
    return c && !c->closed();
  }));
}

void LiveHub::run() {
  auto next_offline = Steady::now();
  auto next_alerts = Steady::now();
  auto next_scopes = Steady::now();
  auto next_sessions = Steady::now() + options_.session_check;
  while (true) {
    std::deque<Inbound> batch;
    bool dropped = false;
    {
      std::unique_lock lock(in_mutex_);
      in_cv_.wait_for(lock, kWake, [&] { return stopping_ || !inbound_.empty() || in_dropped_; });
      if (stopping_) return;
      batch.swap(inbound_);
      dropped = std::exchange(in_dropped_, false);
    }
    auto now = Steady::now();
    if (now >= next_scopes) {
      refresh_scopes();
      next_scopes = now + options_.scope_refresh;
    }
    if (dropped) {
      log::warn("live.inbound_dropped", {{"queued", options_.max_inbound}});
      resync_all();
    }
    for (const auto& in : batch) {
      if (auto event = decode_live_event(in.subject, in.data)) handle(*event);
    }
    if (now >= next_offline) {
      check_offline();
      next_offline = now + kOfflineCheck;
    }
    if (now >= next_alerts) {
      poll_alerts();
      next_alerts = now + options_.alert_poll;
    }
    if (now >= next_sessions) {
      end_signed_out();
      next_sessions = now + options_.session_check;
    }
  }
}

void LiveHub::end_signed_out() {
  std::set<std::string> sessions;
  {
    std::lock_guard lock(conn_mutex_);
    for (const auto& s : conns_) {
      if (!s.session.empty()) sessions.insert(s.session);
    }
  }
  if (sessions.empty()) return;
  // PostgreSQL unreachable: every stream is kept (requests fail anyway) until the next check.
  auto lease = pool_.acquire();
  if (!lease) return;
  std::set<std::string> valid;
  try {
    pqxx::read_transaction tx(lease->conn());
    valid = Authenticator::valid_sessions(tx, sessions, clock_.now());
    tx.commit();
  } catch (const std::exception& e) {
    lease->discard();
    log::warn("live.session_check_failed", {{"error", e.what()}});
    return;
  }
  std::lock_guard lock(conn_mutex_);
  std::erase_if(conns_, [&](const Subscriber& s) {
    if (s.session.empty() || !sessions.contains(s.session) || valid.contains(s.session)) {
      return false;
    }
    if (auto c = s.conn.lock()) c->finish(sse_frame("bye", R"({"reason":"signed_out"})"));
    return true;
  });
}

void LiveHub::handle(const LiveEvent& event) {
  switch (event.kind) {
    case LiveKind::kPresence: {
      auto& p = presence_[event.agent];
      p.last_seen_ns = std::max(p.last_seen_ns, event.occurred_at_ns);
      if (p.online) return;
      p.online = true;
      boost::json::object o{{"id", event.agent.str()},
                            {"status", "online"},
                            {"last_seen", intents::format_rfc3339(p.last_seen_ns)}};
      broadcast(scope_of(event.agent), sse_frame("agent", boost::json::serialize(o)));
      return;
    }
    case LiveKind::kAgentRevoked:
      presence_.erase(event.agent);
      broadcast(scope_of(event.agent), sse_frame("agent", event.data));
      return;
    case LiveKind::kCommand:
      broadcast(scope_of(event.agent), sse_frame("command", event.data));
      return;
    case LiveKind::kCommandOutput:
      broadcast(scope_of(event.agent), sse_frame("command_output", event.data));
      return;
    case LiveKind::kMetrics:
      broadcast(scope_of(event.agent), sse_frame("metrics", event.data));
      return;
  }
}

void LiveHub::check_offline() {
  const std::int64_t now = clock_.now();
  const std::int64_t window = std::chrono::nanoseconds(options_.offline_after).count();
  for (auto& [agent, p] : presence_) {
    if (!p.online || now - p.last_seen_ns <= window) continue;
    p.online = false;
    boost::json::object o{{"id", agent.str()},
                          {"status", "offline"},
                          {"last_seen", intents::format_rfc3339(p.last_seen_ns)}};
    broadcast(scope_of(agent), sse_frame("agent", boost::json::serialize(o)));
  }
}

void LiveHub::poll_alerts() {
  auto lease = pool_.acquire();
  if (!lease) return;
  std::vector<std::string> known;
  known.reserve(alerts_.size());
  for (const auto& [id, _] : alerts_) known.push_back(id);
  pqxx::result rows;
  try {
    pqxx::read_transaction tx(lease->conn());
    SqlParams q;
    std::string sql =
        "SELECT al.id::text, al.agent_id::text, a.hostname, al.rule, al.subject, al.severity, "
        "al.status, al.message, al.value, al.threshold, " +
        ts("al.raised_at") + ", " + ts("al.resolved_at") + ", al.resolved_by, " +
        ts("al.acknowledged_at") + ", al.acknowledged_by, " + ts("al.suppressed_until") +
        " FROM alerts al LEFT JOIN agents a ON a.id = al.agent_id WHERE al.status = 'active' OR "
        "al.id = ANY(" +
        q.bind(array_literal(known)) + "::uuid[]) ORDER BY al.raised_at DESC LIMIT " +
        std::to_string(kMaxAlerts);
    rows = q.exec(tx, sql);
    tx.commit();
  } catch (const std::exception& e) {
    lease->discard();
    log::warn("live.alert_poll_failed", {{"error", e.what()}});
    return;
  }
  static constexpr const char* kNames[] = {
      "id",          "agent_id",        "hostname",        "rule",
      "subject",     "severity",        "status",          "message",
      "value",       "threshold",       "raised_at",       "resolved_at",
      "resolved_by", "acknowledged_at", "acknowledged_by", "suppressed_until"};
  std::map<std::string, std::pair<AgentId, std::string>> current;
  for (const auto& row : rows) {
    boost::json::object item;
    for (int i = 0; i < 16; ++i) {
      item[kNames[i]] = (i == 8 || i == 9) ? number_or_null(row[i]) : text_or_null(row[i]);
    }
    auto agent = AgentId::parse(row[1].c_str());
    if (!agent) continue;
    std::string json = boost::json::serialize(item);
    auto it = alerts_.find(row[0].c_str());
    bool changed = it == alerts_.end() || it->second.second != json;
    if (alerts_primed_ && changed) broadcast(scope_of(*agent), sse_frame("alert", json));
    // Resolved alerts are reported once and then forgotten.
    if (row[6].as<std::string>() == "active")
      current.emplace(row[0].c_str(), std::pair{*agent, json});
  }
  alerts_ = std::move(current);
  alerts_primed_ = true;
}

void LiveHub::refresh_scopes() {
  auto lease = pool_.acquire();
  if (!lease) return;
  try {
    pqxx::read_transaction tx(lease->conn());
    auto rows = tx.exec(
        "SELECT a.id::text, s.client_id::text, a.site_id::text FROM agents a "
        "LEFT JOIN sites s ON s.id = a.site_id");
    tx.commit();
    std::unordered_map<AgentId, AgentScope> fresh;
    fresh.reserve(rows.size());
    for (const auto& row : rows) {
      auto id = AgentId::parse(row[0].c_str());
      if (id) fresh[*id] = AgentScope{uuid_or_none(row[1]), uuid_or_none(row[2])};
    }
    scopes_ = std::move(fresh);
    scope_misses_.clear();
  } catch (const std::exception& e) {
    lease->discard();
    log::warn("live.scope_refresh_failed", {{"error", e.what()}});
  }
}

std::optional<AgentScope> LiveHub::scope_of(const AgentId& agent) {
  auto it = scopes_.find(agent);
  if (it != scopes_.end()) return it->second;
  // An agent enrolled since the last refresh: ask once, then not again for a while.
  auto now = Steady::now();
  auto miss = scope_misses_.find(agent);
  if (miss != scope_misses_.end() && now - miss->second < kMissRetry) return std::nullopt;
  scope_misses_[agent] = now;
  auto lease = pool_.acquire();
  if (!lease) return std::nullopt;
  try {
    pqxx::read_transaction tx(lease->conn());
    auto rows = tx.exec_params(
        "SELECT s.client_id::text, a.site_id::text FROM agents a "
        "LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = $1::uuid",
        agent.str());
    tx.commit();
    if (rows.empty()) return std::nullopt;
    AgentScope scope{uuid_or_none(rows[0][0]), uuid_or_none(rows[0][1])};
    if (scope.site) scopes_[agent] = scope;  // a site-less agent may still be enrolled: ask again
    return scope;
  } catch (const std::exception& e) {
    lease->discard();
    log::warn("live.scope_lookup_failed", {{"error", e.what()}});
    return std::nullopt;
  }
}

void LiveHub::broadcast(const std::optional<AgentScope>& scope, const std::string& frame) {
  // An agent the read models do not know yet is shown to global users only.
  const AgentScope unknown{};
  std::lock_guard lock(conn_mutex_);
  for (auto& s : conns_) {
    auto c = s.conn.lock();
    if (!c || c->closed()) continue;
    if (c->visibility().sees(scope ? *scope : unknown)) c->push(frame);
  }
}

void LiveHub::resync_all() {
  std::string frame = sse_frame("resync", "{}");
  std::lock_guard lock(conn_mutex_);
  for (auto& s : conns_) {
    if (auto c = s.conn.lock()) c->push(frame);
  }
}

}  // namespace rmm::api::live
