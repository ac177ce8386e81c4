// The process table's filter and sort and a batch command's state (src/lib/bulk.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLib, needsTs } from './ts_lib.mjs';

const bulk = await loadLib('bulk');

const rows = [
  { pid: 10, name: 'sshd', user: 'root', cpu_percent: 0.5, rss_bytes: 5e6, cmdline: '/usr/sbin/sshd -D' },
  { pid: 2, name: 'postgres', user: 'postgres', cpu_percent: 12, rss_bytes: 3e8, cmdline: 'postgres -D /pg' },
  { pid: 7, name: 'Bash', user: 'alice', cpu_percent: 3, memory_bytes: 1e6 },
];

test('processes sort by cpu, memory, name and pid, either way', needsTs, () => {
  const pids = (xs) => xs.map((p) => p.pid);
  assert.deepEqual(pids(bulk.sortProcesses(rows, 'cpu', true, '')), [2, 7, 10]);
  assert.deepEqual(pids(bulk.sortProcesses(rows, 'memory', true, '')), [2, 10, 7]);
  assert.deepEqual(pids(bulk.sortProcesses(rows, 'name', false, '')), [7, 2, 10]);
  assert.deepEqual(pids(bulk.sortProcesses(rows, 'pid', false, '')), [2, 7, 10]);
  assert.equal(rows[0].pid, 10, 'the input is not reordered');
});

test('process search matches name, user, command line or pid, any case', needsTs, () => {
  const pids = (q) => bulk.sortProcesses(rows, 'pid', false, q).map((p) => p.pid);
  assert.deepEqual(pids('bash'), [7]);
  assert.deepEqual(pids('ROOT'), [10]);
  assert.deepEqual(pids('/pg'), [2]);
  assert.deepEqual(pids('  '), [2, 7, 10]);
  assert.deepEqual(pids('nothing'), []);
});

test('a batch command is queued, running, done or failed', needsTs, () => {
  assert.equal(bulk.batchState({ status: 'queued', exit_code: null }), 'queued');
  assert.equal(bulk.batchState({ status: 'started', exit_code: null }), 'running');
  assert.equal(bulk.batchState({ status: 'completed', exit_code: 0 }), 'done');
  assert.equal(bulk.batchState({ status: 'completed', exit_code: 2 }), 'failed');
  for (const s of ['failed', 'timed_out', 'expired', 'rejected', 'cancelled', 'interrupted']) {
    assert.equal(bulk.batchState({ status: s, exit_code: null }), 'failed', s);
  }
});
