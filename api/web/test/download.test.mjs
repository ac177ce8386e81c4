// The download helpers (src/lib/download.ts), compiled on the fly with the project's TypeScript:
// the file name taken from the API's Content-Disposition, and the silent install line shown for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLib, needsTs } from './ts_lib.mjs';

const m = await loadLib('download');

test('the file name comes from the API, only when it is a plain name', needsTs, () => {
  const site = '0190a5c2-0000-7000-8000-0000000a0003';
  const name = `gururmm-agent-0.1.0-x64-site-${site}.msi`;
  assert.equal(m.dispositionName(`attachment; filename="${name}"`, 'x.msi'), name);
  for (const bad of [null, '', 'attachment', 'attachment; filename="../../x.msi"',
    'attachment; filename="a b.msi"', 'attachment; filename=".hidden"',
    'attachment; filename="a\\\\b.msi"', 'attachment; xfilename="y.msi"']) {
    assert.equal(m.dispositionName(bad, 'fallback.msi'), 'fallback.msi', String(bad));
  }
  assert.equal(m.msiexecLine(name), `msiexec /i ${name} /qn`);
});
