// The policy editor. A policy document per scope (global, client, site, agent); the most specific
// scope wins. For the chosen scope the table shows the value set here (editable; empty inherits),
// the value in effect, and where that value comes from.
import { useEffect, useState } from 'react';
import { api, getAll, getPage, NIL_UUID } from '../lib/api';
import { can, useAuth } from '../lib/auth';
import { useAsync } from '../lib/hooks';
import { Link, setQuery, type Location } from '../lib/router';
import type { Client, EffectivePolicy, Policy, ScopeName } from '../lib/types';
import { ErrorBox, Loading } from '../components/status';

/** The keys rmm-projector knows (projector/policy/policy_keys.cc), with their built-in defaults. */
export const POLICY_KEYS: { key: string; def: string; help: string }[] = [
  { key: 'alert.cpu.percent', def: '90', help: 'CPU alert when use stays above this (1-100)' },
  { key: 'alert.cpu.minutes', def: '5', help: '... for this many minutes (0: first sample)' },
  { key: 'alert.memory.percent', def: '90', help: 'memory alert threshold (1-100)' },
  { key: 'alert.memory.minutes', def: '5', help: '... for this many minutes (0: first sample)' },
  { key: 'alert.disk.percent', def: '90', help: 'disk alert per filesystem (1-100)' },
  { key: 'alert.temperature.celsius', def: '85', help: 'temperature alert per sensor' },
  { key: 'alert.offline.after_s', def: '120', help: 'offline alert after this many seconds' },
  { key: 'alert.hysteresis.percent', def: '5', help: 'an alert clears below threshold minus this' },
  { key: 'alert.cpu.severity', def: 'warning', help: 'info/warning/critical: the CPU alert\'s severity' },
  { key: 'alert.memory.severity', def: 'warning', help: 'info/warning/critical: the memory alert\'s severity' },
  { key: 'alert.disk.severity', def: 'critical', help: 'info/warning/critical: the disk alert\'s severity' },
  { key: 'alert.temperature.severity', def: 'critical', help: 'info/warning/critical: the temperature alert\'s severity' },
  { key: 'alert.offline.severity', def: 'critical', help: 'info/warning/critical: the offline alert\'s severity' },
  { key: 'agent.heartbeat_interval_s', def: '30', help: 'heartbeat interval (seconds)' },
  { key: 'agent.metrics_interval_s', def: '60', help: 'metrics interval (seconds)' },
  { key: 'auto_update', def: 'off', help: 'on/off: rollouts may update the agent' },
];

interface Level { scope: ScopeName | 'default'; id: string | null; label: string;
                  settings: Record<string, string> }

async function policyAt(scope: ScopeName, id: string, signal: AbortSignal):
    Promise<Record<string, string>> {
  const p = await getPage<Policy>('/api/v1/policies', { scope, scope_id: id }, signal);
  // The global document's scope_id may come back as the nil uuid or as null.
  return p.items.find((x) => x.scope === scope && (scope === 'global' || x.scope_id === id))
    ?.settings ?? {};
}

export function PoliciesPage({ loc }: { loc: Location }) {
  const { user } = useAuth();
  const scope = (loc.query.get('scope') ?? 'global') as ScopeName;
  const scopeId = scope === 'global' ? NIL_UUID : loc.query.get('scope_id') ?? '';
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const [agentText, setAgentText] = useState(scope === 'agent' ? scopeId : '');

  const levels = useAsync(async (signal): Promise<Level[]> => {
    if (scope !== 'global' && !scopeId) return [];
    const out: Level[] = [{ scope: 'default', id: null, label: 'built-in default',
      settings: Object.fromEntries(POLICY_KEYS.map((k) => [k.key, k.def])) }];
    if (scope === 'agent') {
      const eff = await api.get<EffectivePolicy>(
        `/api/v1/agents/${encodeURIComponent(scopeId)}/effective-policy`, undefined, signal);
      const own = await policyAt('agent', scopeId, signal);
      // Effective values carry their source; present them as one level per source.
      const bySource = new Map<string, Level>();
      for (const [k, v] of Object.entries(eff.settings)) {
        const key = `${v.source_scope}:${v.source_id ?? ''}`;
        if (!bySource.has(key)) {
          bySource.set(key, { scope: v.source_scope as ScopeName, id: v.source_id,
                              label: v.source_name ? `${v.source_scope} ${v.source_name}`
                                : v.source_scope, settings: {} });
        }
        bySource.get(key)!.settings[k] = v.value;
      }
      return [...out, ...bySource.values(), { scope: 'agent', id: scopeId, label: 'this agent',
                                               settings: own }];
    }
    out.push({ scope: 'global', id: NIL_UUID, label: 'global',
               settings: await policyAt('global', NIL_UUID, signal) });
    const all = await getAll<Client>('/api/v1/clients', {}, 5000, signal);
    let clientId = scope === 'client' ? scopeId : '';
    if (scope === 'site') clientId = all.find((c) => c.sites.some((s) => s.id === scopeId))?.id ?? '';
    if (clientId) {
      const name = all.find((c) => c.id === clientId)?.name ?? clientId;
      out.push({ scope: 'client', id: clientId, label: `client ${name}`,
                 settings: await policyAt('client', clientId, signal) });
    }
    if (scope === 'site') {
      const name = all.flatMap((c) => c.sites).find((s) => s.id === scopeId)?.name ?? scopeId;
      out.push({ scope: 'site', id: scopeId, label: `site ${name}`,
                 settings: await policyAt('site', scopeId, signal) });
    }
    return out;
  }, [scope, scopeId]);

  const own = levels.data?.[levels.data.length - 1];
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [extraKey, setExtraKey] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  useEffect(() => {
    setDraft({ ...(own?.scope === scope ? own.settings : {}) });
    setSaved('');
  }, [own, scope]);

  const inherited = (key: string): { value: string; from: Level } | null => {
    const ls = levels.data ?? [];
    for (let i = ls.length - 2; i >= 0; i--) {
      if (key in ls[i].settings) return { value: ls[i].settings[key], from: ls[i] };
    }
    return null;
  };
  const keys = Array.from(new Set([...POLICY_KEYS.map((k) => k.key), ...Object.keys(draft),
    ...(levels.data ?? []).flatMap((l) => Object.keys(l.settings))]));
  // Why the fields are read-only, when they are: said next to them, not left to guess.
  const readOnlyWhy = !can(user, 'admin')
    ? `Read-only: your role (${user?.role ?? 'none'}) cannot change policies; admins and owners can.`
    // Owners see everything (api/auth/principal.cc, Principal::global()).
    : scope === 'global' && user?.role !== 'owner' && !user?.scopes.some((x) => x.scope === 'global')
      ? 'Read-only: setting the global policy needs a global grant; yours covers only some clients.'
      : '';
  const editable = !readOnlyWhy;

  const save = async () => {
    setSaveError(null);
    setSaved('');
    const settings = Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== ''));
    try {
      await api.put('/api/v1/policies', { scope, scope_id: scopeId, settings }, { wait: 5000 });
      setSaved('Saved.');
      levels.reload();
    } catch (err) {
      setSaveError(err);
    }
  };

  const sites = (clients.data ?? []).flatMap((c) => c.sites.map((s) => ({ ...s, client: c.name })));
  return (
    <section>
      <h1>Policies</h1>
      <form className="toolbar" onSubmit={(e) => { e.preventDefault();
        if (scope === 'agent') setQuery(loc, { scope_id: agentText.trim() }); }}>
        <label>
          Scope
          <select value={scope} onChange={(e) => setQuery(loc, { scope: e.target.value, scope_id: null })}>
            <option value="global">global</option>
            <option value="client">client</option>
            <option value="site">site</option>
            <option value="agent">agent</option>
          </select>
        </label>
        {scope === 'client' && (
          <label>
            Client
            <select value={scopeId} onChange={(e) => setQuery(loc, { scope_id: e.target.value })}>
              <option value="">choose…</option>
              {(clients.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
        )}
        {scope === 'site' && (
          <label>
            Site
            <select value={scopeId} onChange={(e) => setQuery(loc, { scope_id: e.target.value })}>
              <option value="">choose…</option>
              {sites.map((s) => <option key={s.id} value={s.id}>{`${s.client} / ${s.name}`}</option>)}
            </select>
          </label>
        )}
        {scope === 'agent' && (
          <>
            <label>
              Agent id
              <input value={agentText} onChange={(e) => setAgentText(e.target.value)}
                     placeholder="agent id (from its page)" />
            </label>
            <button type="submit">Show</button>
          </>
        )}
      </form>
      {scope !== 'global' && !scopeId && <p className="note">Choose a {scope} to see its policy.</p>}
      {levels.loading && scopeId && <Loading what="policies" />}
      <ErrorBox error={levels.error} what="load the policy" onRetry={levels.reload} />
      {levels.data && levels.data.length > 0 && (
        <>
          {readOnlyWhy && <p className="note" id="policy-readonly">{readOnlyWhy}</p>}
          <table className="grid policy">
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">Set at this {scope}</th>
                <th scope="col">In effect</th>
                <th scope="col">Comes from</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => {
                const help = POLICY_KEYS.find((x) => x.key === k)?.help;
                const here = draft[k] ?? '';
                const inh = inherited(k);
                const fromHere = here.trim() !== '';
                const src = inh?.from;
                return (
                  <tr key={k}>
                    <td><code>{k}</code>{help && <div className="muted small">{help}</div>}</td>
                    <td>
                      <input aria-label={`${k} at this ${scope}`} value={here} readOnly={!editable}
                             aria-readonly={!editable || undefined}
                             aria-describedby={readOnlyWhy ? 'policy-readonly' : undefined}
                             title={readOnlyWhy || undefined}
                             placeholder={inh ? `inherited: ${inh.value}` : 'inherit'}
                             onChange={(e) => setDraft((d) => ({ ...d, [k]: e.target.value }))} />
                      {!fromHere && inh && (
                        <div className="readonly-why">inherited from {inh.from.label}</div>
                      )}
                    </td>
                    <td>{fromHere ? here : inh?.value ?? '—'}</td>
                    <td>
                      {fromHere ? `this ${scope}` : !src ? '—'
                        : src.scope === 'client' || src.scope === 'site'
                          ? <Link to="/policies" query={{ scope: src.scope, scope_id: src.id ?? '' }}>{src.label}</Link>
                          : src.scope === 'global' && scope !== 'global'
                            ? <Link to="/policies">global</Link>
                            : src.label}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {editable && (
            <div className="toolbar">
              <label>
                Other key
                <input value={extraKey} onChange={(e) => setExtraKey(e.target.value)} />
              </label>
              <button type="button" disabled={!extraKey.trim()}
                      onClick={() => { setDraft((d) => ({ ...d, [extraKey.trim()]: '' })); setExtraKey(''); }}>
                Add key
              </button>
              <button type="button" className="primary" onClick={() => void save()}>
                Save {scope} policy
              </button>
              <span role="status">{saved}</span>
            </div>
          )}
          <ErrorBox error={saveError} what="save the policy" />
        </>
      )}
    </section>
  );
}
