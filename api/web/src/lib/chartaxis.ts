// Time axis helpers of the metric charts (import-free, unit-tested with node): the x window a
// chart shows, and tick labels short enough for uPlot's spacing at every range.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The x window (Unix seconds) of a chart: the chosen range, never fitted to the data (uPlot pads
 * a lone point by years). Live samples newer than `to` slide the window, keeping its length.
 */
export function xWindow(from: number, to: number, lastTime: number | undefined): [number, number] {
  if (lastTime === undefined || lastTime <= to) return [from, to];
  return [from + (lastTime - to), lastTime];
}

/**
 * Labels of ticks `splits` (Unix seconds, local time) `incr` seconds apart: a date where ticks are
 * days apart or the tick is at midnight, else the time of day.
 */
export function tickLabels(splits: number[], incr: number): string[] {
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
    if (incr >= 86400 || midnight) return `${MONTHS[d.getMonth()]} ${d.getDate()}`;
    if (incr < 60) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  });
}

/** Pixels uPlot keeps between x ticks: room for the widest label of the increment. */
export function tickSpace(span: number): number {
  return span <= 3600 ? 70 : 80;
}

/** "as of" text of data loaded at `at` (ms), relative to `now`. */
export function asOfText(at: number, now: number): string {
  const d = new Date(at);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const age = Math.max(0, Math.round((now - at) / 1000));
  const ago = age < 60 ? `${age}s` : age < 3600 ? `${Math.floor(age / 60)}m`
    : `${Math.floor(age / 3600)}h`;
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return `${sameDay ? '' : `${MONTHS[d.getMonth()]} ${d.getDate()} `}${time} (${ago} ago)`;
}
