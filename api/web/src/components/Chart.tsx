// A uPlot time-series chart. uPlot draws on a canvas (no markup from data); series labels are
// our own constants. The chart follows its container's width.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { cssColor, seriesColor, useTheme } from '../lib/theme';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

export function Chart({ title, times, series, unit, max }: {
  title: string;
  times: number[]; // Unix seconds
  series: ChartSeries[];
  unit: (v: number) => string;
  max?: number;
}) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');
  // Axis, grid and series colours come from CSS variables: the chart is redrawn with the theme.
  const theme = useTheme().effective;

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 160,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { y: max !== undefined ? { range: [0, max] } : { auto: true } },
      axes: [
        { stroke: cssColor('var(--chart-axis)'), grid: { stroke: cssColor('var(--chart-grid)') } },
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
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, max, theme]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series, theme]);

  const lastValues = series
    .map((s) => {
      const v = s.values.length ? s.values[s.values.length - 1] : null;
      return `${s.label} ${v === null || v === undefined ? 'no data' : unit(v)}`;
    })
    .join(', ');
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={holder} role="img" aria-label={`${title}: latest ${lastValues}`} />
      {times.length === 0 && <p className="empty">No data in this time range.</p>}
    </figure>
  );
}
