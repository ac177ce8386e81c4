// Live charts of one agent: CPU, memory, disk, network and temperature over a chosen range
// (from /agents/{id}/metrics, downsampled by the server), extended by live `metrics` events.
// Every chart spans the chosen range (the answer's from..to); a series the machine has no
// source for (the answer's `no_source`) is said in words instead of an empty chart; while the
// data may be out of date (live stream down, refresh failed) the charts are greyed with an
// "as of" time.
import { useMemo, useState } from 'react';
import { api } from '../lib/api';
import { fmtBytes } from '../lib/format';
import { useAsync, useInterval } from '../lib/hooks';
import { useLive } from '../lib/live';
import { setQuery, type Location } from '../lib/router';
import type { MetricPoint, Metrics } from '../lib/types';
import { xWindow } from '../lib/chartaxis';
import { useFreshness } from '../lib/freshness';
import { Chart, NoSourceChart } from './Chart';
import { StaleNote } from './StaleNote';
import { ErrorBox, Loading } from './status';

export const RANGES: [string, string, number][] = [
  ['15m', '15 minutes', 15 * 60],
  ['1h', '1 hour', 3600],
  ['6h', '6 hours', 6 * 3600],
  ['24h', '24 hours', 86400],
  ['7d', '7 days', 7 * 86400],
  ['30d', '30 days', 30 * 86400],
];

const pct = (v: number) => `${v.toFixed(0)} %`;
const rate = (v: number) => `${fmtBytes(v)}/s`;
const temp = (v: number) => `${v.toFixed(0)} °C`;

export function MetricsPanel({ agentId, loc }: { agentId: string; loc: Location }) {
  const range = loc.query.get('range') ?? '1h';
  const seconds = (RANGES.find((r) => r[0] === range) ?? RANGES[1])[2];
  const [live, setLive] = useState<MetricPoint[]>([]);
  const metrics = useAsync(
    (signal) => {
      const to = new Date();
      const from = new Date(to.getTime() - seconds * 1000);
      return api.get<Metrics>(`/api/v1/agents/${encodeURIComponent(agentId)}/metrics`, {
        from: from.toISOString(), to: to.toISOString(), points: 300,
        series: 'cpu,memory,disk,network,temperature',
      }, signal).then((m) => {
        setLive([]);
        return m;
      });
    },
    [agentId, seconds],
  );
  useInterval(metrics.reload, seconds <= 6 * 3600 ? 30000 : 300000);
  useLive('resync', metrics.reload);
  useLive<{ agent_id: string; ts: string; cpu_percent: number; memory_percent: number }>(
    'metrics', (ev) => {
      if (ev.agent_id !== agentId) return;
      setLive((old) => old.concat({ ts: ev.ts, cpu_percent: ev.cpu_percent,
        memory_percent: ev.memory_percent, disk_percent_max: null, rx_bytes_per_s: null,
        tx_bytes_per_s: null, temperature_max_c: null }).slice(-600));
    });

  const data = useMemo(() => {
    const base = metrics.data?.points ?? [];
    const lastTs = base.length ? Date.parse(base[base.length - 1].ts) : 0;
    const pts = base.concat(live.filter((p) => Date.parse(p.ts) > lastTs));
    const col = (f: (p: MetricPoint) => number | null | undefined) =>
      pts.map((p) => { const v = f(p); return v === undefined ? null : v; });
    const times = pts.map((p) => Date.parse(p.ts) / 1000);
    const m = metrics.data;
    const now = Date.now() / 1000;
    return {
      window: xWindow(m ? Date.parse(m.from) / 1000 : now - seconds,
                      m ? Date.parse(m.to) / 1000 : now,
                      times.length ? times[times.length - 1] : undefined),
      noSource: new Set(m?.no_source ?? []),
      times,
      cpu: col((p) => p.cpu_percent),
      mem: col((p) => p.memory_percent),
      disk: col((p) => p.disk_percent_max),
      rx: col((p) => p.rx_bytes_per_s),
      tx: col((p) => p.tx_bytes_per_s),
      temp: col((p) => p.temperature_max_c),
    };
  }, [metrics.data, live, seconds]);
  const fresh = useFreshness(metrics.data, metrics.error);
  const stale = fresh.stale;

  return (
    <section aria-labelledby="metrics-h">
      <div className="section-head">
        <h2 id="metrics-h">Metrics</h2>
        <div role="group" aria-label="Time range" className="segmented">
          {RANGES.map(([key, label]) => (
            <button key={key} type="button" aria-pressed={range === key} title={label}
                    onClick={() => setQuery(loc, { range: key === '1h' ? null : key })}>
              {key}
            </button>
          ))}
        </div>
      </div>
      {metrics.loading && !metrics.data && <Loading what="metrics" />}
      <ErrorBox error={metrics.error} what="load metrics" onRetry={metrics.reload} />
      {metrics.data && <StaleNote fresh={fresh} onRetry={metrics.reload} />}
      {metrics.data && (
        <div className="charts" data-from={metrics.data.from} data-to={metrics.data.to}
             data-step={metrics.data.step_s}>
          <Chart title="CPU" times={data.times} window={data.window} stale={stale} unit={pct}
                 max={100}
                 series={[{ label: 'CPU', color: '#2563eb', values: data.cpu }]} />
          <Chart title="Memory" times={data.times} window={data.window} stale={stale} unit={pct}
                 max={100}
                 series={[{ label: 'Memory', color: '#7c3aed', values: data.mem }]} />
          {data.noSource.has('disk') ? (
            <NoSourceChart title="Disk (fullest volume)"
                           text="No file systems reported by this machine" />
          ) : (
            <Chart title="Disk (fullest volume)" times={data.times} window={data.window}
                   stale={stale} unit={pct} max={100}
                   series={[{ label: 'Disk', color: '#b45309', values: data.disk }]} />
          )}
          {data.noSource.has('network') ? (
            <NoSourceChart title="Network" text="No network interfaces reported by this machine" />
          ) : (
            <Chart title="Network" times={data.times} window={data.window} stale={stale}
                   unit={rate}
                   series={[{ label: 'Received', color: '#059669', values: data.rx },
                            { label: 'Sent', color: '#dc2626', values: data.tx }]} />
          )}
          {data.noSource.has('temperature') ? (
            <NoSourceChart title="Temperature (hottest sensor)"
                           text="No temperature sensors reported by this machine" />
          ) : (
            <Chart title="Temperature (hottest sensor)" times={data.times} window={data.window}
                   stale={stale} unit={temp}
                   series={[{ label: 'Temperature', color: '#db2777', values: data.temp }]} />
          )}
        </div>
      )}
    </section>
  );
}
