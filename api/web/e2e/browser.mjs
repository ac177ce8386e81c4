// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core: never a downloaded
// browser. Every run gets a fresh profile directory, removed afterwards.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.RMM_CHROMIUM ?? '/usr/bin/chromium';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'rmm-web-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Runs one named step of a scenario; a failure names the step. */
export async function step(name, fn) {
  const t0 = Date.now();
  console.log(`- ${name}`);
  try {
    const r = await fn();
    console.log(`  ok (${Date.now() - t0} ms)`);
    return r;
  } catch (e) {
    console.log(`  FAILED after ${Date.now() - t0} ms`);
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
