// The audit page's helpers (src/lib/audit.ts): readable actions and details, time filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLib, needsTs } from './ts_lib.mjs';

const m = await loadLib('audit');

test('actions and details read as words, not JSON', needsTs, () => {
  assert.equal(m.actionLabel('site_created'), 'Site created');
  assert.deepEqual(m.detailLines({
    name: 'Branch', client_id: 'c1', reenrolled: true, note: '', expires_at_ns: 1.7e18,
    settings: { 'alert.cpu.percent': '90' }, empty: {},
  }), [
    ['name', 'Branch'], ['client id', 'c1'], ['reenrolled', 'yes'],
    ['expires at', '2023-11-14T22:13:20Z'], ['settings', 'alert.cpu.percent = 90'],
  ]);
  assert.deepEqual(m.detailLines(null), []);
  assert.deepEqual(m.detailLines('text'), [['detail', 'text']]);
});

test('time filters round-trip between the input and RFC 3339', needsTs, () => {
  assert.equal(m.localToUtc(''), '');
  assert.equal(m.localToUtc('garbage'), '');
  const utc = m.localToUtc('2026-03-01T10:30');
  assert.match(utc, /^2026-0[23]-\d\dT\d\d:30:00Z$/);
  assert.equal(m.utcToLocal(utc), '2026-03-01T10:30');
});
