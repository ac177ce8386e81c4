#include "tests/api/tenancy_matrix.h"

#include <fmt/format.h>

namespace rmm::test {

// Read routes (this issue's sections 3); the intents add theirs below (section 4).
const std::vector<PathRoute> kPathRoutes = {
    {"GET", "/api/v1/agents/{agent}", "", 200},
    {"GET", "/api/v1/agents/{agent}/metrics", "", 200},
    {"GET", "/api/v1/agents/{agent}/metrics?from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z", "",
     200},
    {"GET", "/api/v1/agents/{agent}/commands", "", 200},
    {"GET", "/api/v1/agents/{agent}/effective-policy", "", 200},
    {"GET", "/api/v1/commands/{command}", "", 200},
    {"GET", "/api/v1/clients/{client}", "", 200},
    {"GET", "/api/v1/sites/{site}", "", 200},
    {"GET", "/api/v1/rollouts/{rollout}", "", 200},
    {"GET", "/api/v1/agents/{agent}/updates", "", 200},
    // Intents: B's ids are 404 before anything is published (A's are covered by intents_test).
    {"POST", "/api/v1/commands", R"({"agent_ids":["{agent}"],"kind":"reboot"})", 0},
    {"POST", "/api/v1/commands", R"({"site_id":"{site}","kind":"refresh_inventory"})", 0},
    {"POST", "/api/v1/commands", R"({"client_id":"{client}","kind":"refresh_inventory"})", 0},
    {"POST", "/api/v1/commands/{command}/cancel", "", 0},
    {"POST", "/api/v1/alerts/{alert}/acknowledge", R"({"note":"x"})", 0},
    {"POST", "/api/v1/alerts/{alert}/resolve", "", 0},
    {"POST", "/api/v1/alerts/{alert}/suppress", R"({"until":"2099-01-01T00:00:00Z"})", 0},
    {"PATCH", "/api/v1/clients/{client}", R"({"name":"x"})", 0},
    {"DELETE", "/api/v1/clients/{client}", "", 0},
    {"POST", "/api/v1/sites", R"({"client_id":"{client}","name":"x"})", 0},
    {"PATCH", "/api/v1/sites/{site}", R"({"name":"x"})", 0},
    {"DELETE", "/api/v1/sites/{site}", "", 0},
    {"PUT", "/api/v1/policies", R"({"scope":"client","scope_id":"{client}","settings":{}})", 0},
    {"PUT", "/api/v1/policies", R"({"scope":"site","scope_id":"{site}","settings":{}})", 0},
    {"PUT", "/api/v1/policies", R"({"scope":"agent","scope_id":"{agent}","settings":{}})", 0},
    {"POST", "/api/v1/enrollment-codes", R"({"site_id":"{site}"})", 0},
    {"POST", "/api/v1/enrollment-codes/{code}/revoke", "", 0},
    {"GET", "/api/v1/sites/{site}/installer?platform=windows", "", 0},
    {"GET", "/api/v1/sites/{site}/installer?platform=linux", "", 0},
    {"POST", "/api/v1/agents/{agent}/revoke", "{}", 0},
    {"PATCH", "/api/v1/users/{user}", R"({"disabled":true})", 0},
    {"POST", "/api/v1/rollouts/{rollout}/halt", "", 0},
    {"POST", "/api/v1/rollouts",
     R"({"version":"1.0.0","scope":"client","scope_id":"{client}",)"
     R"("rings":[{"name":"all","percent":100}]})",
     0},
    {"POST", "/api/v1/rollouts",
     R"({"version":"1.0.0","scope":"agent","scope_id":"{agent}",)"
     R"("rings":[{"name":"canary","agent_ids":["{agent}"]}]})",
     0},
    {"POST", "/api/v1/users",
     R"({"username":"matrix","password":"a long enough password","role":"read_only",)"
     R"("scopes":[{"scope":"client","id":"{client}"}]})",
     0},
};

const std::vector<ListRoute> kListRoutes = {
    {"/api/v1/overview", true},
    {"/api/v1/agents", true},
    {"/api/v1/agents?sort=-cpu", true},
    {"/api/v1/agents?client_id={client}", true},
    {"/api/v1/agents?site_id={site}", true},
    {"/api/v1/agents?q=host", true},
    {"/api/v1/alerts", true},
    {"/api/v1/alerts?status=all", true},
    {"/api/v1/alerts?agent_id={agent}", true},
    {"/api/v1/alerts?client_id={client}", true},
    {"/api/v1/clients", true},
    {"/api/v1/policies", true},
    {"/api/v1/policies?scope=client&scope_id={client}", true},
    {"/api/v1/policies?scope=agent&scope_id={agent}", true},
    {"/api/v1/enrollment-codes", true},
    {"/api/v1/enrollment-codes?site_id={site}", true},
    {"/api/v1/audit", true},
    {"/api/v1/audit?client_id={client}", true},
    {"/api/v1/rollouts", true},
    {"/api/v1/rollouts?status=running", true},
    {"/api/v1/releases", false},
};

std::string fill(std::string text, const Tenant& t) {
  for (const auto& [name, id] : t.ids) {
    const std::string key = "{" + name + "}";
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key)) {
      text.replace(pos, key.size(), id);
    }
  }
  return text;
}

namespace {

Tenant seed_one(const ApiEnv& env, char tag, const std::string& name) {
  // Fixed, recognisable ids per tenant: ...-0000000000<tag><n>.
  auto id = [&](int n) { return fmt::format("0190a5c2-0000-7000-8000-0000000{}{:04}", tag, n); };
  Tenant t;
  t.ids = {{"client", id(1)}, {"site", id(2)}, {"agent", id(3)}, {"command", id(4)},
           {"alert", id(5)},  {"code", id(6)}, {"user", id(7)},  {"rollout", id(8)}};
  t.markers = {id(1), id(2),          id(3),          id(4),          id(5),
               id(6), name + " Corp", name + "-host", name + "-site", id(8)};
  env.exec(fill(fmt::format(R"sql(
    INSERT INTO clients (id, partner_id, name, created_by, created_at)
      VALUES ('{{client}}', '00000000-0000-7000-8000-000000000001', '{0} Corp', 'test', now());
    INSERT INTO sites (id, client_id, name, created_by, created_at)
      VALUES ('{{site}}', '{{client}}', '{0}-site', 'test', now());
    INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, site_id)
      VALUES ('{{agent}}', '{0}-host', 'linux', '0.1.0', '2026-01-01T00:00:00Z',
              '2026-01-02T03:04:30Z', 10, '{{site}}');
    INSERT INTO agent_latest_metrics (agent_id, ts, seq, cpu_percent, mem_total_bytes,
        mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes, swap_used_bytes,
        load1, load5, load15, uptime_s, process_count, logged_in_users, filesystems,
        collection_errors)
      VALUES ('{{agent}}', '2026-01-02T03:04:30Z', 9, 12.5, 1000, 250, 750, 0, 0, 0, 0.1, 0.1,
              0.1, 100, 50, 1, '[{{"mount": "/", "used_bytes": 40, "total_bytes": 100}}]',
              '[]');
    INSERT INTO commands (id, agent_id, status, kind, issuer, last_seq, updated_at, issued_at,
        summary, stdout)
      VALUES ('{{command}}', '{{agent}}', 'completed', 'shell', 'user:test', 3, now(),
              '2026-01-02T03:00:00Z', 'uptime', '{0} output');
    INSERT INTO alerts (id, agent_id, rule, severity, status, message, raised_at,
        raised_stream_seq)
      VALUES ('{{alert}}', '{{agent}}', 'cpu', 'critical', 'active', '{0}-host cpu high',
              '2026-01-02T03:01:00Z', 77);
    INSERT INTO policies (scope, scope_id, settings, set_by, set_at) VALUES
      ('client', '{{client}}', '{{"heartbeat-interval": "30s"}}', 'test', now()),
      ('site', '{{site}}', '{{"heartbeat-interval": "20s"}}', 'test', now()),
      ('agent', '{{agent}}', '{{"heartbeat-interval": "10s"}}', 'test', now());
    INSERT INTO effective_policies VALUES
      ('{{agent}}', 'heartbeat-interval', '10s', 'agent', '{{agent}}');
    INSERT INTO enrollment_codes (id, site_id, code_hash, expires_at, created_by, created_at)
      VALUES ('{{code}}', '{{site}}', 'hash-{0}', '2026-02-01T00:00:00Z', 'test', now());
    INSERT INTO audit_log (stream_seq, occurred_at, actor, action, target_kind, target_id,
        client_id, site_id)
      VALUES ({1}, now(), 'user:test', 'client_renamed', 'client', '{{client}}', '{{client}}',
              NULL),
             ({2}, now(), 'user:test', 'site_renamed', 'site', '{{site}}', '{{client}}',
              '{{site}}');
    INSERT INTO rollouts (id, version, platform, arch, scope, scope_id, advance_healthy_percent,
        halt_failed_percent, status, current_ring, created_by, created_at, updated_at)
      VALUES ('{{rollout}}', '1.0.0', 'linux', 'x86_64', 'client', '{{client}}', 100, 20,
              'running', 0, 'user:test', now(), now());
    INSERT INTO rollout_rings (rollout_id, ring_index, name, percent, agents, started_at)
      VALUES ('{{rollout}}', 0, 'all', 100, '{{{{agent}}}}', now());
    INSERT INTO agent_updates (agent_id, command_id, from_version, to_version, step, reason,
        started_at, updated_at, last_seq)
      VALUES ('{{agent}}', '{{command}}', '0.1.0', '1.0.0', 'refused', '{0}-reason', now(), now(),
              11);
    INSERT INTO metrics (agent_id, ts, seq, stream_seq, cpu_percent, cpu_interval_ms,
        mem_total_bytes, mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes,
        swap_used_bytes, load1, load5, load15, uptime_s, process_count, logged_in_users)
      VALUES ('{{agent}}', '2026-01-02T02:00:00Z', 1, 1, 10, 1000, 1000, 500, 500, 0, 0, 0, 0, 0,
              0, 1, 1, 1);
  )sql",
                            name, tag == 'a' ? 1001 : 2001, tag == 'a' ? 1002 : 2002),
                t));
  return t;
}

}  // namespace

TenancySeed seed_two_clients(const ApiEnv& env) {
  env.exec("SELECT rmm_ensure_metrics_day('2026-01-02')");
  TenancySeed s;
  s.a = seed_one(env, 'a', "Alpha");
  s.b = seed_one(env, 'b', "Beta");
  return s;
}

}  // namespace rmm::test
