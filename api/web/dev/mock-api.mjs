// A stand-in for rmm-api during dashboard development only (the committed e2e test runs against
// the real stack): serves dist/ and a small in-memory version of docs/api.md.
//   node dev/mock-api.mjs [port] [agents]   (login: owner / owner-password)
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] ?? 8099);
const nAgents = Number(process.argv[3] ?? 25);
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const TOKEN = 'mock-token';
const now = () => new Date().toISOString();
const clients = [{ id: randomUUID(), name: 'Acme', sites: [{ id: randomUUID(), name: 'HQ' }] },
                 { id: randomUUID(), name: 'Globex', sites: [{ id: randomUUID(), name: 'Lab' }] }];
// A client with no agents: the overview lists it all the same.
const emptyClient = { id: randomUUID(), name: 'Initech', sites: [] };
const agents = Array.from({ length: nAgents }, (_, i) => {
  const c = clients[i % 2];
  return { id: randomUUID(), hostname: i === 1 ? '<img src=x onerror=alert(1)>' : `host-${String(i).padStart(5, '0')}`,
    os: i % 3 ? 'linux' : 'windows', version: '0.1.0', status: i % 5 ? 'online' : 'offline',
    client_id: c.id, client_name: c.name, site_id: c.sites[0].id, site_name: c.sites[0].name,
    last_seen: now(), cpu_percent: (i * 7) % 100, memory_percent: (i * 13) % 100,
    disk_percent_max: (i * 3) % 100, active_alerts: 0 };
});
// The registry of every Windows agent: "hive\\key" -> { subkeys, values }, answered like the
// agent's registry action (docs/agent.md, "Registry editor").
const registry = new Map([['HKLM\\', { subkeys: ['SOFTWARE', 'SYSTEM'], values: [] }],
  ['HKLM\\SOFTWARE', { subkeys: ['Acme'], values: [] }],
  ['HKLM\\SOFTWARE\\Acme', { subkeys: [], values: [
    { name: '', type: 'string', data: 'default' }, { name: 'Mode', type: 'dword', data: 2 },
    { name: 'Blob', type: 'binary', data: '00ff10' }, { name: 'List', type: 'multi_string', data: ['a', 'b'] }] }]]);
function mockRegistry(b) {
  const id = `${b.hive}\\${b.key ?? ''}`;
  const k = registry.get(id) ?? { subkeys: [], values: [] };
  if (b.op === 'list') return JSON.stringify({ hive: b.hive, key: b.key ?? '', ...k, truncated: false });
  if (b.op === 'set') {
    k.values = k.values.filter((v) => v.name !== b.name).concat([{ name: b.name, ...b.value }]);
    registry.set(id, k);
    return JSON.stringify({ done: true, operation: 'set', hive: b.hive, key: b.key, name: b.name, ...b.value });
  }
  if (b.op === 'create_key') registry.set(id, { subkeys: [], values: [] });
  return JSON.stringify({ done: true, operation: b.op, hive: b.hive, key: b.key });
}
const alerts = [];
const users = new Map();  // username -> { id, password, user }
const commands = new Map();
const streams = new Set();
const tickets = new Set();
const policies = new Map();
const send = (type, data) => streams.forEach((res) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`));

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function problem(res, status, title, detail) {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail, correlation_id: randomUUID() }));
}
function page(items, url) {
  const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 100));
  const start = Number(url.searchParams.get('cursor') ?? 0);
  const slice = items.slice(start, start + limit);
  return { items: slice, next_cursor: start + limit < items.length ? String(start + limit) : null };
}
async function body(req) {
  let s = '';
  for await (const c of req) s += c;
  return s ? JSON.parse(s) : {};
}

function raiseAlert(agent) {
  const a = { id: randomUUID(), agent_id: agent.id, hostname: agent.hostname, rule: 'cpu', subject: '',
    severity: 'warning', status: 'active', message: `CPU above threshold on ${agent.hostname}`, value: 99,
    threshold: 1, raised_at: now(), resolved_at: null, resolved_by: null, acknowledged_at: null,
    acknowledged_by: null, suppressed_until: null };
  alerts.push(a);
  agent.active_alerts++;
  send('alert', a);
}
raiseAlert(agents[0]);
if (agents.length > 1) raiseAlert(agents[1]);

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (!p.startsWith('/api/')) {
    let f = join(dist, p === '/' ? 'index.html' : p);
    if (!f.startsWith(dist) || !existsSync(f) || !statSync(f).isFile()) return problem(res, 404, 'no such resource', p);
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
    res.writeHead(200, { 'content-type': types[extname(f)] ?? 'application/octet-stream',
      'content-security-policy': "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'" });
    return res.end(readFileSync(f));
  }
  if (p === '/api/v1/auth/login' && req.method === 'POST') {
    const b = await body(req);
    const made = users.get(b.username);
    if (made && made.password === b.password) {
      return json(res, 200, { token: `${TOKEN}-${made.id}`, expires_at: now(), user: made.user });
    }
    if (b.username !== 'owner' || b.password !== 'owner-password') return problem(res, 401, 'bad credentials', 'the username or password is wrong');
    return json(res, 200, { token: TOKEN, expires_at: now(), user: { id: 'u1', username: 'owner', display_name: 'Owner', role: 'owner', scopes: [] } });
  }
  // Users made through POST /users sign in with a token of their own (their role shows in /auth/me).
  const given = (req.headers.authorization ?? '').replace(/^Bearer /, '') || url.searchParams.get('access_token');
  const other = [...users.values()].find((u) => given === `${TOKEN}-${u.id}`);
  // Live-stream tickets: single use, like rmm-api's (docs/api.md "Live updates").
  const ticket = url.searchParams.get('ticket');
  const ticketOk = p === '/api/v1/live' && ticket !== null && tickets.delete(ticket);
  const auth = given === TOKEN || !!other || ticketOk;
  if (!auth) return problem(res, 401, 'not signed in', 'a bearer token is required');
  const seg = p.split('/').slice(3);
  if (p === '/api/v1/live/ticket' && req.method === 'POST') {
    const t = `t${Math.random().toString(36).slice(2)}${Date.now()}`;
    tickets.add(t);
    return json(res, 200, { ticket: t, expires_at: new Date(Date.now() + 30000).toISOString() });
  }
  if (p === '/api/v1/live') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': hello\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return;
  }
  if (p === '/api/v1/auth/me' && other) return json(res, 200, { ...other.user, impersonator: other.impersonated ? { id: 'u1', username: 'owner' } : null });
  if (p === '/api/v1/auth/impersonate' && req.method === 'POST') {
    const b = await body(req);
    const u = [...users.values()].find((x) => x.id === b.user_id);
    if (!u) return problem(res, 404, 'not found', 'no such user');
    u.impersonated = true;
    return json(res, 200, { token: `${TOKEN}-${u.id}`, expires_at: now() });
  }
  if (p === '/api/v1/auth/logout' && other) { other.impersonated = false; return json(res, 204); }
  if (p === '/api/v1/users' && req.method === 'POST') {
    const b = await body(req);
    const id = randomUUID();
    users.set(b.username, { id, password: b.password, user: { id, username: b.username,
      display_name: b.display_name ?? '', role: b.role, scopes: b.scopes ?? [] } });
    return json(res, 202, { id, stream_seq: 1, applied: true });
  }
  if (p === '/api/v1/auth/me') return json(res, 200, { id: 'u1', username: 'owner', display_name: 'Owner', role: 'owner', scopes: [], impersonator: null });
  if (p === '/api/v1/auth/logout') return json(res, 204);
  if (p === '/api/v1/overview') {
    const online = agents.filter((a) => a.status === 'online').length;
    const act = alerts.filter((a) => a.status === 'active');
    // The busiest online agents by a metric, as the real route answers them (top 5).
    const ref = (a) => ({ id: a.id, hostname: a.hostname, client_name: a.client_name });
    const worst = (key) => agents.filter((a) => a.status === 'online' && a[key] !== null)
      .sort((x, y) => y[key] - x[key]).slice(0, 5).map((a) => ({ ...ref(a), percent: a[key] }));
    const failures = [...commands.values()].filter((c) => c.status === 'failed' || (c.exit_code ?? 0) !== 0)
      .slice(-10).reverse().map((c) => ({ kind: 'command', command_id: c.id, agent_id: c.agent_id,
        hostname: agents.find((a) => a.id === c.agent_id)?.hostname ?? null,
        status: c.status === 'completed' ? `exit ${c.exit_code}` : c.status, summary: c.summary, at: c.finished_at ?? now() }));
    return json(res, 200, { agents: { total: agents.length, online, offline: agents.length - online },
      alerts: { critical: act.filter((a) => a.severity === 'critical').length, warning: act.filter((a) => a.severity === 'warning').length, info: 0 },
      clients: [...clients.map((c) => ({ id: c.id, name: c.name, agents: agents.filter((a) => a.client_id === c.id).length,
        online: agents.filter((a) => a.client_id === c.id && a.status === 'online').length, active_alerts: 0 })),
        { id: emptyClient.id, name: emptyClient.name, agents: 0, online: 0, active_alerts: 0 }],
      unassigned: { agents: 0, online: 0, active_alerts: 0 },
      offline_agents: agents.filter((a) => a.status === 'offline').slice(0, 5).map((a) => ({ ...ref(a), last_seen: a.last_seen })),
      worst: { cpu: worst('cpu_percent'), memory: worst('memory_percent'), disk: worst('disk_percent_max') },
      updates: { in_progress: 0, failed_24h: 0 }, failures, recent_hours: 24 });
  }
  if (p === '/api/v1/agents') {
    let list = agents.slice();
    const q = url.searchParams;
    if (q.get('q')) list = list.filter((a) => a.hostname.includes(q.get('q')));
    if (q.get('status')) list = list.filter((a) => a.status === q.get('status'));
    if (q.get('client_id')) list = list.filter((a) => a.client_id === q.get('client_id'));
    const sort = q.get('sort') ?? 'hostname';
    const key = { hostname: 'hostname', cpu: 'cpu_percent', memory: 'memory_percent', disk: 'disk_percent_max', last_seen: 'last_seen' }[sort.replace('-', '')];
    list.sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) * (sort.startsWith('-') ? -1 : 1));
    return json(res, 200, page(list, url));
  }
  if (seg[0] === 'agents' && seg[1] && seg[2] === 'updates') return json(res, 200, { items: [] });
  if (seg[0] === 'agents' && seg[1] && seg[2] === 'move' && req.method === 'POST') {
    // A move within the agent's client (issue 18), as rmm-api checks it.
    const b = await body(req);
    const a = agents.find((x) => x.id === seg[1]);
    const c = clients.find((x) => x.id === a?.client_id);
    const site = c?.sites.find((x) => x.id === b.site_id);
    if (!a) return problem(res, 404, 'agent not found', '');
    if (!site) return problem(res, 409, 'an agent moves only between sites of its own client', '');
    a.site_id = site.id; a.site_name = site.name;
    return json(res, 202, { id: a.id, site_id: site.id, stream_seq: 4, applied: true });
  }
  if (p === '/api/v1/sites' && req.method === 'POST') {
    const b = await body(req);
    const c = clients.find((x) => x.id === b.client_id);
    if (!c) return problem(res, 404, 'client not found', '');
    const site = { id: randomUUID(), name: b.name };
    c.sites.push(site);
    return json(res, 202, { id: site.id, stream_seq: 5, applied: true });
  }
  if (seg[0] === 'agents' && seg[1]) {
    const a = agents.find((x) => x.id === seg[1]);
    if (!a) return problem(res, 404, 'no such agent', seg[1]);
    if (seg[2] === 'metrics') {
      const to = Date.parse(url.searchParams.get('to') ?? '') || Date.now();
      const from = Date.parse(url.searchParams.get('from') ?? '') || to - 3600e3;
      const step = (to - from) / 120;
      const points = Array.from({ length: 120 }, (_, i) => ({ ts: new Date(from + i * step).toISOString(),
        cpu_percent: 20 + 10 * Math.sin(i / 8), memory_percent: 55, disk_percent_max: 40,
        rx_bytes_per_s: 1000 * i, tx_bytes_per_s: 500 * i, temperature_max_c: i % 7 ? 50 : null }));
      return json(res, 200, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), step_s: Math.round(step / 1000), no_source: [], points });
    }
    if (seg[2] === 'effective-policy') return json(res, 200, { settings: { 'alert.cpu.percent': { value: '90', source_scope: 'default', source_id: null } } });
    return json(res, 200, { ...a, inventory: { hostname: a.hostname, kernel: '6.1', cpus: [{ model: '<b>x</b>', cores: 2 }] },
      latest_metrics: {}, processes: [{ pid: 1, name: 'init', user: 'root', cpu_percent: 0.1, rss_bytes: 1e6, cmdline: '/sbin/init' },
        { pid: 420, name: 'postgres', user: 'postgres', cpu_percent: 3.5, rss_bytes: 2e8, cmdline: 'postgres -D /var/lib/pg' },
        { pid: 77, name: 'sshd', user: 'root', cpu_percent: 0.0, rss_bytes: 5e6, cmdline: '/usr/sbin/sshd -D' }],
      alerts: alerts.filter((x) => x.agent_id === a.id && x.status === 'active'), recent_commands: [...commands.values()].filter((c) => c.agent_id === a.id) });
  }
  if (p === '/api/v1/commands' && req.method === 'POST' && seg.length === 1) {
    const b = await body(req);
    if (b.agent_ids && b.agent_ids.length > 1) {
      // A bulk request: one command per agent, grouped by a batch id (docs/api.md).
      const batch = randomUUID();
      const made = b.agent_ids.map((agentId, i) => {
        const host = agents.find((x) => x.id === agentId)?.hostname ?? null;
        const c = { id: randomUUID(), agent_id: agentId, hostname: host, batch_id: batch, kind: b.kind,
          summary: b.script ?? (b.argv ?? []).join(' '), status: 'queued', issuer: 'owner', issued_at: now(),
          finished_at: null, exit_code: null, reason: null, stdout: '', stderr: '',
          stdout_truncated: false, stderr_truncated: false };
        commands.set(c.id, c);
        setTimeout(() => { c.status = 'started'; }, 200 + 50 * i);
        setTimeout(() => {
          c.stdout = (b.script ?? '').startsWith('echo ') ? b.script.slice(5) + '\n' : 'ran\n';
          c.status = 'completed'; c.exit_code = 0; c.finished_at = now();
        }, 700 + 50 * i);
        return c;
      });
      return json(res, 202, { commands: made.map((c) => ({ id: c.id, agent_id: c.agent_id })), batch_id: batch, stream_seq: 1 });
    }
    const c = { id: randomUUID(), agent_id: b.agent_ids[0], kind: b.kind, summary: b.script ?? (b.kind === 'kill_process' ? `kill process ${b.pid} (${b.name})` : `registry ${b.op}`), status: 'queued', issuer: 'owner',
      issued_at: now(), expires_at: new Date(Date.now() + 1000 * (b.expires_in_s ?? 86400)).toISOString(),
      stdout: '', stderr: '', exit_code: null };
    commands.set(c.id, c);
    setTimeout(() => { c.status = 'started'; send('command', { id: c.id, agent_id: c.agent_id, status: 'started' }); }, 300);
    setTimeout(() => {
      const out = b.kind === 'registry' ? mockRegistry(b)
        : b.kind === 'kill_process' ? `process ${b.pid} (${b.name}) stopped (SIGTERM)\n`
        : b.script.startsWith('echo ') ? b.script.slice(5) + '\n' : `ran ${b.script}\n`;
      send('command_output', { id: c.id, stream: 'stdout', offset: 0, data: out });
      c.stdout = out; c.status = 'completed'; c.exit_code = b.script === 'false' ? 1 : 0; c.finished_at = now();
      send('command', { id: c.id, agent_id: c.agent_id, status: 'completed' });
    }, 800);
    return json(res, 202, { commands: [{ id: c.id, agent_id: c.agent_id }], stream_seq: 1 });
  }
  if (seg[0] === 'command-batches' && seg[1]) {
    const items = [...commands.values()].filter((c) => c.batch_id === seg[1]);
    return items.length ? json(res, 200, { id: seg[1], items }) : problem(res, 404, 'no such batch', '');
  }
  if (seg[0] === 'alerts' && (seg[1] === 'acknowledge' || seg[1] === 'resolve') && !seg[2] && req.method === 'POST') {
    const b = await body(req);
    for (const id of b.ids ?? []) {
      const a = alerts.find((x) => x.id === id);
      if (!a) return problem(res, 404, 'alert not found', '');
      if (seg[1] === 'acknowledge') { a.acknowledged_at = now(); a.acknowledged_by = 'owner'; }
      else {
        a.status = 'resolved'; a.resolved_at = now(); a.resolved_by = 'owner';
        // A lowered threshold still holds: the alert comes back and says why, as the projector's.
        const lowered = policies.get(`agent:${a.agent_id}`)?.settings?.['alert.cpu.percent'];
        const agent = agents.find((x) => x.id === a.agent_id);
        if (lowered && agent) {
          setTimeout(() => {
            raiseAlert(agent);
            const back = alerts[alerts.length - 1];
            back.message = `raised again: CPU still above ${lowered}% after a resolve; ${back.message}`;
          }, 500);
        }
      }
      if (b.note) a.ack_note = a.ack_note ?? b.note;
      send('alert', a);
    }
    return json(res, 202, { ids: b.ids, stream_seq: 3, applied: true });
  }
  if (seg[0] === 'commands' && seg[1]) {
    const c = commands.get(seg[1]);
    return c ? json(res, 200, c) : problem(res, 404, 'no such command', seg[1]);
  }
  if (p === '/api/v1/alerts') {
    const st = url.searchParams.get('status') ?? 'active';
    return json(res, 200, page(alerts.filter((a) => st === 'all' || a.status === st), url));
  }
  if (seg[0] === 'alerts' && seg[2] && req.method === 'POST') {
    const a = alerts.find((x) => x.id === seg[1]);
    if (!a) return problem(res, 404, 'no such alert', seg[1]);
    if (seg[2] === 'acknowledge') { a.acknowledged_at = now(); a.acknowledged_by = 'owner'; }
    if (seg[2] === 'resolve') { a.status = 'resolved'; a.resolved_at = now(); a.resolved_by = 'owner'; }
    if (seg[2] === 'suppress') a.suppressed_until = (await body(req)).until;
    send('alert', a);
    return json(res, 202, { stream_seq: 2, applied: true });
  }
  if (p === '/api/v1/clients') return json(res, 200, page(clients.map((c) => ({ ...c, agents: 0 })), url));
  if (p === '/api/v1/policies' && req.method === 'PUT') {
    const b = await body(req);
    policies.set(`${b.scope}:${b.scope_id}`, { ...b, set_by: 'owner', set_at: now() });
    // A lowered CPU threshold raises the agent's CPU alert, as on the real stack.
    const target = b.scope === 'agent' && b.settings?.['alert.cpu.percent'] && agents.find((x) => x.id === b.scope_id);
    if (target && !alerts.some((x) => x.agent_id === target.id && x.status === 'active')) raiseAlert(target);
    return json(res, 202, { stream_seq: 3, applied: true });
  }
  if (p === '/api/v1/policies') {
    const k = `${url.searchParams.get('scope')}:${url.searchParams.get('scope_id')}`;
    return json(res, 200, { items: policies.has(k) ? [policies.get(k)] : [], next_cursor: null });
  }
  if (p === '/api/v1/enrollment-codes' && req.method === 'POST') return json(res, 202, { id: randomUUID(), code: 'ABCD-EFGH-IJKL', expires_at: now(), install: { linux: "f=$(mktemp) && { curl -fsS --proto =http -o \"$f\" 'http://127.0.0.1:8080/install/linux.sh' && echo '0000000000000000000000000000000000000000000000000000000000000000  '\"$f\" | sha256sum -c --quiet && { [ \"$(id -u)\" = 0 ] && s= || s=sudo; } && echo 'ABCD-EFGH-IJKL' | $s sh \"$f\"; }; r=$?; rm -f \"$f\"; [ $r = 0 ]" } });
  if (p === '/api/v1/enrollment-codes') return json(res, 200, { items: [], next_cursor: null });
  const installer = /^\/api\/v1\/sites\/([^/]+)\/installer$/.exec(p);
  if (installer && url.searchParams.get('platform') === 'windows') {
    // Not a real MSI: the dashboard only saves the bytes under the name it is given.
    res.writeHead(200, { 'Content-Type': 'application/x-msi', 'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="gururmm-agent-0.1.0-x64-site-${installer[1]}.msi"`,
      'X-Enrollment-Code-Id': randomUUID(), 'X-Enrollment-Code-Expires': now() });
    return res.end('\xD0\xCF\x11\xE0 mock installer');
  }
  if (p === '/api/v1/audit') return json(res, 200, { items: [{ stream_seq: 1, occurred_at: now(), actor: 'user:u1', actor_name: 'Owner', impersonator: null, action: 'policy_set', target_kind: 'policy', target_id: 'global', target_name: null, client_id: null, site_id: null, detail: { a: '<i>b</i>' } }], next_cursor: null });
  if (p === '/api/v1/audit.csv') {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="audit.csv"' });
    return res.end('"occurred_at","actor"\r\n');
  }
  if (p === '/api/v1/users') return json(res, 200, { items: [{ id: 'u1', username: 'owner', display_name: 'Owner', role: 'owner', disabled: false, scopes: [] },
    ...[...users.values()].map((u) => ({ ...u.user, disabled: false }))], next_cursor: null });
  return problem(res, 404, 'no such route', `${req.method} ${p} is not in the mock`);
}

setInterval(() => {
  for (const a of agents.slice(0, 3)) send('metrics', { agent_id: a.id, ts: now(), cpu_percent: Math.random() * 100, memory_percent: 50 });
}, 2000).unref();

createServer((req, res) => handle(req, res).catch((e) => problem(res, 500, 'mock failed', String(e))))
  .listen(port, '127.0.0.1', function () {
    console.log(`mock api on http://127.0.0.1:${this.address().port}/ (${nAgents} agents)`);
  });
