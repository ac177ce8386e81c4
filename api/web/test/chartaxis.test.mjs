// The metric charts' time axis (src/lib/chartaxis.ts): the x window is the chosen range, labels
// are short and never two times glued together, "as of" text of stale data.
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLib, needsTs } from './ts_lib.mjs';

const m = await loadLib('chartaxis');
const T = Date.parse('2026-12-07T20:18:00Z') / 1000;

test('the x window is the range, slid (same length) by live samples past its end', needsTs, () => {
  assert.deepEqual(m.xWindow(T - 3600, T, T - 60), [T - 3600, T]);
  assert.deepEqual(m.xWindow(T - 3600, T, undefined), [T - 3600, T]);
  assert.deepEqual(m.xWindow(T - 3600, T, T + 30), [T - 3570, T + 30]);
});

test('tick labels: time of day, dates for day ticks and midnight, seconds below a minute',
     needsTs, () => {
  assert.deepEqual(m.tickLabels([T, T + 60], 60), ['20:18', '20:19']);
  assert.deepEqual(m.tickLabels([T, T + 30], 30), ['20:18:00', '20:18:30']);
  const midnight = Date.parse('2026-12-08T00:00:00Z') / 1000;
  assert.deepEqual(m.tickLabels([midnight - 4 * 3600, midnight], 4 * 3600), ['20:00', 'Dec 8']);
  assert.deepEqual(m.tickLabels([midnight, midnight + 86400], 86400), ['Dec 8', 'Dec 9']);
  for (const incr of [60, 3600, 86400]) {
    for (const label of m.tickLabels([T], incr)) assert.ok(label.length <= 8, label);
  }
  assert.ok(m.tickSpace(900) >= 60 && m.tickSpace(30 * 86400) >= 60);
});

test('"as of": time and age, the date when not today', needsTs, () => {
  const at = Date.parse('2026-12-07T20:18:05Z');
  assert.equal(m.asOfText(at, at + 42000), '20:18:05 (42s ago)');
  assert.equal(m.asOfText(at, at + 5 * 60000), '20:18:05 (5m ago)');
  assert.equal(m.asOfText(at, at + 86400000), 'Dec 7 20:18:05 (24h ago)');
});
