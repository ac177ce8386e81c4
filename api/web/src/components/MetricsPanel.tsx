// Live charts of one agent: CPU, memory, disk, network and temperature over a chosen range
// (from /agents/{id}/metrics, downsampled by the server), extended by live `metrics` events.
import { useMemo, useState } from 'react';
import { api } from '../lib/api';
import { fmtBytes } from '../lib/format';
import { useAsync, useInterval } from '../lib/hooks';
import { useLive } from '../lib/live';
import { setQuery, type Location } from '../lib/router';
import type { MetricPoint, Metrics } from '../lib/types';
import { Chart } from './Chart';
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
    return {
      times: pts.map((p) => Date.parse(p.ts) / 1000),
      cpu: col((p) => p.cpu_percent),
      mem: col((p) => p.memory_percent),
      disk: col((p) => p.disk_percent_max),
      rx: col((p) => p.rx_bytes_per_s),
      tx: col((p) => p.tx_bytes_per_s),
      temp: col((p) => p.temperature_max_c),
    };
  }, [metrics.data, live]);

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
      {metrics.data && (
        <div className="charts">
          <Chart title="CPU" times={data.times} unit={pct} max={100}
                 series={[{ label: 'CPU', color: '#2563eb', values: data.cpu }]} />
          <Chart title="Memory" times={data.times} unit={pct} max={100}
                 series={[{ label: 'Memory', color: '#7c3aed', values: data.mem }]} />
          <Chart title="Disk (fullest volume)" times={data.times} unit={pct} max={100}
                 series={[{ label: 'Disk', color: '#b45309', values: data.disk }]} />
          <Chart title="Network" times={data.times} unit={rate}
                 series={[{ label: 'Received', color: '#059669', values: data.rx },
                          { label: 'Sent', color: '#dc2626', values: data.tx }]} />
          <Chart title="Temperature (hottest sensor)" times={data.times} unit={temp}
                 series={[{ label: 'Temperature', color: '#db2777', values: data.temp }]} />
        </div>
      )}
    </section>
  );
}
