// For the node --test files here: loads a module of src/lib (one that imports nothing) compiled on
// the fly with the project's TypeScript. TypeScript comes with `npm ci`, as the dashboard build
// needs; without it the tests that use `needsTs` skip, with the reason.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const src = fileURLToPath(new URL('../src', import.meta.url));

let ts = null;
try {
  ts = (await import('typescript')).default;
} catch {
  ts = null;
}

export const needsTs = {
  skip: ts ? false : 'typescript is not installed (run npm ci in api/web)',
};

// The exports of src/lib/<name>.ts, or {} when TypeScript is missing.
export async function loadLib(name) {
  if (!ts) return {};
  const js = ts.transpileModule(readFileSync(join(src, 'lib', `${name}.ts`), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(mkdtempSync(join(tmpdir(), `${name}-`)), `${name}.mjs`);
  writeFileSync(file, js);
  return import(pathToFileURL(file).href);
}
