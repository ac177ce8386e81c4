// The registry editor's and the command forms' pure helpers (src/lib/registry.ts,
// src/lib/scripts.ts), compiled on the fly with the project's TypeScript (the files have no
// imports): request bodies, the agent's JSON answers, the edit form's text per value type, and
// waiting for a command's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLib, needsTs } from './ts_lib.mjs';

const reg = await loadLib('registry');
const scripts = await loadLib('scripts');

test('registry bodies carry a name only for value operations and a value only for set',
     needsTs, () => {
  assert.deepEqual(reg.registryBody('list', 'HKLM', 'Software'),
                   { kind: 'registry', op: 'list', hive: 'HKLM', key: 'Software' });
  assert.deepEqual(reg.registryBody('get', 'HKCU', 'A', ''),
                   { kind: 'registry', op: 'get', hive: 'HKCU', key: 'A', name: '' });
  assert.deepEqual(reg.registryBody('set', 'HKLM', 'A\\B', 'N', { type: 'dword', data: '42' }), {
    kind: 'registry', op: 'set', hive: 'HKLM', key: 'A\\B', name: 'N',
    value: { type: 'dword', data: '42' },
  });
  assert.equal('name' in reg.registryBody('delete_key', 'HKLM', 'A', 'x'), false);
  assert.equal(reg.childKey('', 'Software'), 'Software');
  assert.equal(reg.childKey('Software', 'X'), 'Software\\X');
  assert.equal(reg.parentKey('Software\\X\\Y'), 'Software\\X');
  assert.equal(reg.parentKey('Software'), '');
  assert.equal(reg.cleanKey(' \\Software//Vendor\\ '), 'Software\\Vendor');
});

test('a listing answer is read, sorted, and garbage is refused with a reason', needsTs, () => {
  const l = reg.parseListing(JSON.stringify({
    hive: 'HKLM', key: 'Software', subkeys: ['b', 'A', 7], truncated: false,
    values: [{ name: 'z', type: 'dword', data: 5 }, { name: '', type: 'string', data: 'x' },
             { nope: 1 },
             { name: 'bin', type: 'other', data: '0102', raw_type: 0, data_truncated: true }],
  }));
  assert.deepEqual(l.subkeys, ['A', 'b']);
  assert.deepEqual(l.values.map((v) => v.name), ['', 'bin', 'z']);
  assert.equal(l.values[1].raw_type, 0);
  assert.equal(l.values[1].data_truncated, true);
  assert.throws(() => reg.parseListing('not json'), /not JSON/);
  assert.throws(() => reg.parseListing('[1]'), /not a JSON object/);
  assert.throws(() => reg.parseListing('{"hive":"HKLM"}'), /no subkeys/);
  assert.equal(reg.parseValue('{"done":true,"name":"N","type":"qword","data":"18446744073709551615"}')
    .data, '18446744073709551615');
  assert.throws(() => reg.parseValue('{"done":true}'), /no value/);
});

test('the edit form turns text into data per type and says what is wrong', needsTs, () => {
  assert.deepEqual(reg.textToData('string', 'a b'), { data: 'a b' });
  assert.deepEqual(reg.textToData('multi_string', 'one\r\ntwo\n\nthree'),
                   { data: ['one', 'two', 'three'] });
  assert.deepEqual(reg.textToData('dword', ' 0x10 '), { data: '16' });
  assert.deepEqual(reg.textToData('dword', '4294967295'), { data: '4294967295' });
  assert.match(reg.textToData('dword', '4294967296').error, /at most/);
  assert.match(reg.textToData('dword', '-1').error, /whole number/);
  assert.deepEqual(reg.textToData('qword', '18446744073709551615'),
                   { data: '18446744073709551615' });
  assert.match(reg.textToData('qword', '18446744073709551616').error, /at most/);
  assert.deepEqual(reg.textToData('binary', '01 FF,2a'), { data: '01ff2a' });
  assert.deepEqual(reg.textToData('binary', ''), { data: '' });
  assert.match(reg.textToData('binary', '0').error, /pairs of hex/);
  assert.equal(reg.dataToText({ name: '', type: 'binary', data: '01ff2a' }), '01 ff 2a');
  assert.equal(reg.dataToText({ name: '', type: 'multi_string', data: ['a', 'b'] }), 'a\nb');
  assert.equal(reg.dataSummary({ name: '', type: 'dword', data: 255 }), '255 (0xff)');
});

test('waiting for an answer: stdout once completed with 0, the agent\'s reason otherwise',
     needsTs, async () => {
  const states = [null, { status: 'queued' },
                  { status: 'completed', exit_code: 0, stdout: '{"done":true}' }];
  let i = 0;
  const get = async () => {
    const s = states[Math.min(i++, states.length - 1)];
    if (!s) throw new Error('404');
    return s;
  };
  assert.equal(await reg.waitForAnswer(get, { intervalMs: 1 }), '{"done":true}');
  await assert.rejects(reg.waitForAnswer(async () => ({
    status: 'completed', exit_code: 1,
    stderr: 'the registry exists on Windows only (this agent runs on Linux)\n',
  }), { intervalMs: 1 }), /Windows only/);
  await assert.rejects(reg.waitForAnswer(async () => ({ status: 'rejected', reason: 'bad key' }),
                                         { intervalMs: 1 }), /bad key/);
  await assert.rejects(reg.waitForAnswer(async () => ({ status: 'started' }),
                                         { intervalMs: 1, timeoutMs: 20 }), /no answer/);
});

test('command forms: cmd and PowerShell for Windows agents, shells elsewhere', needsTs, () => {
  assert.equal(scripts.isWindowsOs('Microsoft Windows 10 Pro'), true);
  assert.equal(scripts.isWindowsOs('Debian GNU/Linux'), false);
  assert.equal(scripts.isWindowsOs(null), false);
  assert.deepEqual(scripts.scriptLanguages(true).map((l) => l.id), ['cmd', 'powershell', 'exec']);
  assert.deepEqual(scripts.scriptLanguages(false).map((l) => l.id),
                   ['sh', 'bash', 'python3', 'exec']);
  assert.deepEqual(scripts.scriptBody('cmd', 'dir', 30).body,
                   { kind: 'cmd', script: 'dir', timeout_s: 30 });
  assert.deepEqual(scripts.scriptBody('powershell', 'Get-Date', 30).body,
                   { kind: 'powershell', script: 'Get-Date', timeout_s: 30 });
  assert.deepEqual(scripts.scriptBody('sh', 'ls', 5).body, { kind: 'shell', script: 'ls', timeout_s: 5 });
  assert.deepEqual(scripts.scriptBody('bash', 'ls', 5).body,
                   { kind: 'shell', script: 'ls', interpreter: 'bash', timeout_s: 5 });
  assert.deepEqual(scripts.scriptBody('exec', 'ls\n -l \n\n/tmp', 5).body,
                   { kind: 'exec', argv: ['ls', '-l', '/tmp'], timeout_s: 5 });
  assert.match(scripts.scriptBody('cmd', '  ', 5).error, /empty/);
});
