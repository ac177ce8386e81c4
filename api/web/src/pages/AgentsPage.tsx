// The agents table: server-side search, filters and sort (all in the URL), pages fetched as
// the user scrolls, and only the visible rows in the DOM (@tanstack/react-virtual), so 10,000
// agents stay fast. Status and metrics change live.
import { useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { getAll, getPage } from '../lib/api';
import { fmtAgo, fmtPct } from '../lib/format';
import { useLive } from '../lib/live';
import { Link, setQuery, type Location } from '../lib/router';
import type { AgentRow, Client } from '../lib/types';
import { Badge, Empty, ErrorBox } from '../components/status';
import { useAsync, useInterval } from '../lib/hooks';
import { can, useAuth } from '../lib/auth';
import { BulkBar, useSelection } from '../components/BulkAgents';

const COLUMNS: { key: string; label: string; sort?: string; num?: boolean }[] = [
  { key: 'hostname', label: 'Hostname', sort: 'hostname' },
  { key: 'status', label: 'Status' },
  { key: 'client', label: 'Client / site' },
  { key: 'os', label: 'OS' },
  { key: 'cpu', label: 'CPU', sort: 'cpu', num: true },
  { key: 'memory', label: 'Memory', sort: 'memory', num: true },
  { key: 'disk', label: 'Disk max', sort: 'disk', num: true },
  { key: 'alerts', label: 'Alerts', num: true },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen' },
];

const PAGE = 500;
const ROW_HEIGHT = 36;

export function AgentsPage({ loc }: { loc: Location }) {
  const q = loc.query.get('q') ?? '';
  const status = loc.query.get('status') ?? '';
  const os = loc.query.get('os') ?? '';
  const clientId = loc.query.get('client_id') ?? '';
  const siteId = loc.query.get('site_id') ?? '';
  const sort = loc.query.get('sort') ?? 'hostname';
  const [search, setSearch] = useState(q);
  const [rows, setRows] = useState<AgentRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const filters = { q, status, os, client_id: clientId, site_id: siteId, sort };
  const key = JSON.stringify(filters);
  const scrollRef = useRef<HTMLDivElement>(null);
  // Bulk work (checkboxes) for those who may run commands.
  const { user } = useAuth();
  const selectable = can(user, 'technician');
  const selection = useSelection();

  // Debounced search box -> URL.
  useEffect(() => setSearch(q), [q]);
  useEffect(() => {
    if (search === q) return;
    const t = window.setTimeout(() => setQuery(loc, { q: search || null }), 250);
    return () => window.clearTimeout(t);
  }, [search, q, loc]);

  // First page whenever the filters change, from the top.
  useEffect(() => {
    const ctl = new AbortController();
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    setLoading(true);
    setError(null);
    getPage<AgentRow>('/api/v1/agents', { ...filters, limit: PAGE }, ctl.signal).then(
      (p) => {
        setRows(p.items);
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (e) => {
        if (ctl.signal.aborted) return;
        setRows([]);
        setCursor(null);
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, gen]);

  const loadMore = () => {
    if (!cursor || loading) return;
    setLoading(true);
    getPage<AgentRow>('/api/v1/agents', { ...filters, limit: PAGE, cursor }).then(
      (p) => {
        setRows((old) => old.concat(p.items));
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (e) => {
        setError(e);
        setLoading(false);
      },
    );
  };

  // Live changes are batched: at 10,000 agents heartbeats alone are hundreds of events a second,
  // so patches collect here and are applied once a second in one copy of the rows.
  const patches = useRef(new Map<string, Partial<AgentRow>>());
  const patch = (id: string, p: Partial<AgentRow>) => {
    patches.current.set(id, { ...patches.current.get(id), ...p });
  };
  useLive<{ id: string; status?: string; last_seen?: string }>('agent', (ev) => {
    const p: Partial<AgentRow> = {};
    if (ev.status) p.status = ev.status;
    if (ev.last_seen) p.last_seen = ev.last_seen;
    patch(ev.id, p);
  });
  useLive<{ agent_id: string; cpu_percent?: number; memory_percent?: number }>('metrics', (ev) => {
    const p: Partial<AgentRow> = {};
    if (typeof ev.cpu_percent === 'number') p.cpu_percent = ev.cpu_percent;
    if (typeof ev.memory_percent === 'number') p.memory_percent = ev.memory_percent;
    patch(ev.agent_id, p);
  });
  useLive('resync', () => setGen((g) => g + 1));
  useInterval(() => {
    if (patches.current.size === 0) return;
    const pending = patches.current;
    patches.current = new Map();
    setRows((old) => {
      let changed = false;
      const next = old.map((r) => {
        const p = pending.get(r.id);
        if (!p) return r;
        changed = true;
        return { ...r, ...p };
      });
      return changed ? next : old;
    });
  }, 1000);

  const virt = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virt.getVirtualItems();
  const last = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (cursor && last >= rows.length - 50) loadMore();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [last, rows.length, cursor]);

  const sortBy = (col: string) => {
    const next = sort === col ? `-${col}` : col;
    setQuery(loc, { sort: next === 'hostname' ? null : next });
  };
  const sortState = (col?: string): 'ascending' | 'descending' | 'none' => {
    if (!col) return 'none';
    if (sort === col) return 'ascending';
    if (sort === `-${col}`) return 'descending';
    return 'none';
  };
  const sites = (clients.data ?? []).flatMap((c) => c.sites.map((s) => ({ ...s, client: c.name })));
  const anyFilter = q || status || os || clientId || siteId;

  return (
    <section className={`agents-page${selectable ? ' selectable' : ''}`}>
      <h1>Agents</h1>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search hostname
          <input type="search" value={search} placeholder="hostname contains…"
                 onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setQuery(loc, { status: e.target.value })}>
            <option value="">any</option>
            <option value="online">online</option>
            <option value="offline">offline</option>
            <option value="revoked">revoked</option>
          </select>
        </label>
        <label>
          OS
          <select value={os} onChange={(e) => setQuery(loc, { os: e.target.value })}>
            <option value="">any</option>
            <option value="linux">linux</option>
            <option value="windows">windows</option>
            <option value="macos">macos</option>
          </select>
        </label>
        <label>
          Client
          <select value={clientId}
                  onChange={(e) => setQuery(loc, { client_id: e.target.value, site_id: null })}>
            <option value="">any</option>
            {(clients.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>{c.name}</option>
            ))}
          </select>
        </label>
        <label>
          Site
          <select value={siteId} onChange={(e) => setQuery(loc, { site_id: e.target.value })}>
            <option value="">any</option>
            {sites
              .filter((s) => !clientId || (clients.data ?? []).find((c) => c.id === clientId)
                ?.sites.some((x) => x.id === s.id))
              .map((s) => (
                <option key={s.id} value={s.id}>{`${s.client} / ${s.name}`}</option>
              ))}
          </select>
        </label>
        {anyFilter && (
          <button type="button" onClick={() => setQuery(loc, { q: null, status: null, os: null,
                                                                client_id: null, site_id: null })}>
            Clear filters
          </button>
        )}
      </form>
      <p className="count" role="status" aria-live="polite">
        {loading && rows.length === 0 ? 'Loading agents…'
          : `${rows.length.toLocaleString()}${cursor ? '+' : ''} agent${rows.length === 1 ? '' : 's'}` +
            (loading ? ' (loading more…)' : '')}
      </p>
      <ErrorBox error={error} what="load agents" onRetry={() => setGen((g) => g + 1)} />
      {selectable && <BulkBar selection={selection} rows={rows} filters={filters} />}
      <div className="vtable" role="table" aria-label="Agents" aria-rowcount={rows.length + 1}>
        <div className="vrow vhead" role="row">
          {selectable && (
            <div role="columnheader" className="vcell col-select">
              <input type="checkbox" aria-label="Select every loaded agent"
                     checked={rows.length > 0 && rows.every((r) => selection.has(r.id))}
                     onChange={(e) => selection.set(rows.map((r) => r.id), e.target.checked)} />
            </div>
          )}
          {COLUMNS.map((c) => (
            <div key={c.key} role="columnheader" className={`vcell col-${c.key}${c.num ? ' num' : ''}`}
                 aria-sort={sortState(c.sort)}>
              {c.sort ? (
                <button type="button" className="sort" onClick={() => sortBy(c.sort!)}>
                  {c.label}
                  <span aria-hidden="true">
                    {sortState(c.sort) === 'ascending' ? ' ▲' : sortState(c.sort) === 'descending' ? ' ▼' : ''}
                  </span>
                </button>
              ) : (
                c.label
              )}
            </div>
          ))}
        </div>
        <div className="vbody" ref={scrollRef}>
          {!loading && rows.length === 0 && !error && (
            <Empty>{anyFilter ? 'No agent matches these filters.' : 'No agents enrolled yet.'}</Empty>
          )}
          <div style={{ height: virt.getTotalSize(), position: 'relative' }} role="rowgroup">
            {items.map((v) => {
              const a = rows[v.index];
              return (
                <div key={a.id} role="row" className="vrow" aria-rowindex={v.index + 2}
                     data-agent-id={a.id}
                     style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT,
                              transform: `translateY(${v.start}px)` }}>
                  {selectable && (
                    <div role="cell" className="vcell col-select">
                      <input type="checkbox" aria-label={`Select ${a.hostname || a.id}`}
                             checked={selection.has(a.id)}
                             onChange={(e) => selection.set([a.id], e.target.checked)} />
                    </div>
                  )}
                  <div role="cell" className="vcell col-hostname">
                    <Link to={`/agents/${encodeURIComponent(a.id)}`}>{a.hostname || a.id}</Link>
                  </div>
                  <div role="cell" className="vcell col-status">
                    <Badge kind={a.status}>{a.status}</Badge>
                  </div>
                  <div role="cell" className="vcell col-client">
                    {[a.client_name, a.site_name].filter(Boolean).join(' / ') || '—'}
                  </div>
                  <div role="cell" className="vcell col-os">{a.os}</div>
                  <div role="cell" className="vcell col-cpu num">{fmtPct(a.cpu_percent)}</div>
                  <div role="cell" className="vcell col-memory num">{fmtPct(a.memory_percent)}</div>
                  <div role="cell" className="vcell col-disk num">{fmtPct(a.disk_percent_max)}</div>
                  <div role="cell" className="vcell col-alerts num">
                    {a.active_alerts ? <Badge kind="warning">{String(a.active_alerts)}</Badge> : '0'}
                  </div>
                  <div role="cell" className="vcell col-last_seen" title={a.last_seen ?? ''}>
                    {fmtAgo(a.last_seen)}
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
