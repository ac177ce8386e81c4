// The dashboard renders agent-supplied strings only as React text nodes. This fails when any
// source file under src/ uses an API that turns a string into markup or code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../src', import.meta.url));
const SINKS = [
  /dangerouslySetInnerHTML/,
  /\binnerHTML\b/,
  /\bouterHTML\b/,
  /insertAdjacentHTML/,
  /document\.write/,
  /createContextualFragment/,
  /\bsrcdoc\b/,
  /\beval\s*\(/,
  /new\s+Function\s*\(/,
  /DOMParser/,
];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('src/ has no HTML or code sinks', () => {
  const all = files(root).filter((f) => /\.(tsx?|jsx?|mjs|html)$/.test(f));
  assert.ok(all.length > 10, `expected the app sources under ${root}`);
  const hits = [];
  for (const f of all) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const re of SINKS) {
        if (re.test(line)) hits.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(hits, [], `markup sinks found:\n${hits.join('\n')}`);
});

test('the check itself catches a sink', () => {
  const sample = '<div dangerouslySetInnerHTML={{ __html: x }} />; el.innerHTML = y;';
  assert.ok(SINKS.some((re) => re.test(sample)));
});
