// A uPlot time-series chart. uPlot draws on a canvas (no markup from data); series labels are
// our own constants. The chart follows its container's width. Its x scale is the window given
// (the chosen range), not fitted to the data; after each draw the holder carries what was drawn
// as data attributes (x window, points per series) for the browser test.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { tickLabels, tickSpace } from '../lib/chartaxis';
import { cssColor, seriesColor, useTheme } from '../lib/theme';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

export function Chart({ title, times, series, unit, max, window: xw, stale = false }: {
  title: string;
  times: number[]; // Unix seconds
  series: ChartSeries[];
  unit: (v: number) => string;
  max?: number;
  window: [number, number]; // x range, Unix seconds
  stale?: boolean; // last-known values: drawn greyed
}) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const xRef = useRef(xw);
  xRef.current = xw;
  const shape = series.map((s) => s.label).join('|');
  // Axis, grid and series colours come from CSS variables: the chart is redrawn with the theme.
  const theme = useTheme().effective;
  const [x0, x1] = xw;
  const span = x1 - x0;

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 160,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => xRef.current },
        // From zero: auto-ranged rates of a steady link put equal labels on a sliver of axis.
        y: { range: (_u, _min, dataMax) =>
          [0, max ?? (dataMax !== null && dataMax > 0 ? dataMax * 1.15 : 1)] },
      },
      axes: [
        { stroke: cssColor('var(--chart-axis)'), grid: { stroke: cssColor('var(--chart-grid)') },
          space: tickSpace(span),
          values: (_u, splits, _axis, _space, incr) => tickLabels(splits, incr) },
        { stroke: cssColor('var(--chart-axis)'), grid: { stroke: cssColor('var(--chart-grid)') },
          size: 84,
          values: (_u, vals) => vals.map((v) => (v === null ? '' : unit(v))) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: seriesColor(s.label, s.color),
          width: 1.5,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : unit(v)),
        })),
      ],
      hooks: {
        draw: [(u: uPlot) => {
          el.dataset.xMin = String(u.scales.x.min ?? '');
          el.dataset.xMax = String(u.scales.x.max ?? '');
          el.dataset.points = u.data.slice(1)
            .map((vals, i) => `${series[i]?.label}:${
              Array.from(vals as ArrayLike<number | null>).filter((v) => v != null).length}`)
            .join(',');
        }],
      },
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth),
                                                     height: 160 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // A new range changes the tick spacing: build the chart again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, max, span, theme]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series, x0, x1, theme]);

  const lastValues = series
    .map((s) => {
      const v = s.values.length ? s.values[s.values.length - 1] : null;
      return `${s.label} ${v === null || v === undefined ? 'no data' : unit(v)}`;
    })
    .join(', ');
  return (
    <figure className={stale ? 'chart chart-stale' : 'chart'}>
      <figcaption>{title}</figcaption>
      <div ref={holder} role="img" data-chart={title}
           aria-label={`${title}: ${stale ? 'last known' : 'latest'} ${lastValues}`} />
      {times.length === 0 && <p className="empty">No data in this time range.</p>}
    </figure>
  );
}

/** In place of a chart whose series the machine has no source for. */
export function NoSourceChart({ title, text }: { title: string; text: string }) {
  return (
    <figure className="chart chart-no-source" data-chart={title}>
      <figcaption>{title}</figcaption>
      <p className="empty">{text}</p>
    </figure>
  );
}
