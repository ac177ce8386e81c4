// The pure helpers of the Releases & rollouts page (src/lib/rollouts.ts), compiled on the fly
// with the project's TypeScript (the file has no imports), and the page's wiring in the shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLib, needsTs, src } from './ts_lib.mjs';

const m = await loadLib('rollouts');
const A = '0190a5c2-0000-7000-8000-0000000a0003';
const B = '0190a5c2-0000-7000-8000-0000000b0003';
const form = (over = {}) => ({
  version: '1.4.0', scope: 'global', scopeId: '', advance: '100', halt: '20',
  rings: [{ name: 'canary', kind: 'agents', agents: `${A}, ${B}`, percent: '' },
          { name: 'all', kind: 'percent', agents: '', percent: '100' }],
  ...over,
});

test('progress counts healthy, failed, in flight and pending shares', needsTs, () => {
  const p = m.progressOf({ pending: 2, started: 1, installed: 1, healthy: 4, refused: 1,
                           rolled_back: 1, failed: 0 });
  assert.equal(p.total, 10);
  assert.equal(p.healthy, 4);
  assert.equal(p.failed, 2);
  assert.equal(p.inFlight, 2);
  assert.equal(p.pending, 2);
  assert.equal(p.healthyPct, 40);
  assert.equal(p.failedPct, 20);
  assert.deepEqual(m.progressOf({}), { total: 0, healthy: 0, failed: 0, inFlight: 0, pending: 0,
                                       healthyPct: 0, failedPct: 0, inFlightPct: 0 });
  // Garbage counts are ignored, never NaN.
  assert.equal(m.progressOf({ healthy: -3, failed: 'x', pending: 1 }).total, 1);
});

test('the create form becomes the POST /api/v1/rollouts body', needsTs, () => {
  const ok = m.rolloutBody(form());
  assert.deepEqual(ok.body, {
    version: '1.4.0', scope: 'global', advance_healthy_percent: 100, halt_failed_percent: 20,
    rings: [{ name: 'canary', agent_ids: [A, B] }, { name: 'all', percent: 100 }],
  });
  const client = m.rolloutBody(form({ scope: 'client', scopeId: A.toUpperCase() }));
  assert.equal(client.body.scope_id, A);
});

test('the create form says what to fix', needsTs, () => {
  assert.match(m.rolloutBody(form({ version: ' ' })).error, /version/);
  assert.match(m.rolloutBody(form({ rings: [] })).error, /at least one ring/);
  assert.match(m.rolloutBody(form({ halt: '0' })).error, /1\.\.100/);
  assert.match(m.rolloutBody(form({ advance: '50.5' })).error, /1\.\.100/);
  assert.match(m.rolloutBody(form({ scope: 'site', scopeId: '' })).error, /site/);
  const bad = form();
  bad.rings[0].agents = 'not-an-id';
  assert.match(m.rolloutBody(bad).error, /not an agent id/);
  const twice = form();
  twice.rings[1].name = 'canary';
  assert.match(m.rolloutBody(twice).error, /used twice/);
  const pct = form();
  pct.rings[1].percent = '101';
  assert.match(m.rolloutBody(pct).error, /1\.\.100/);
});

test('the shell links and routes the Releases & rollouts page', () => {
  const app = readFileSync(join(src, 'App.tsx'), 'utf8');
  assert.match(app, /\['\/releases', 'Releases & rollouts'\]/);
  assert.match(app, /match\('\/rollouts\/:id', p\)/);
  const agent = readFileSync(join(src, 'pages/AgentPage.tsx'), 'utf8');
  assert.match(agent, /<AgentUpdatesSection /);
});
