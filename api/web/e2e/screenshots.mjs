// Screenshots of the dashboard for review (issue 18): the overview, an agent's page and the audit
// log, at 1440 px and 390 px wide, in the light and the dark theme, as PNG files.
//
//   node e2e/screenshots.mjs <url> <user> <password file> [out dir]   (default docs/screenshots)
//
// Against a stack: `tools/rmm up`, then
//   . "$RMM_HOME/env"; node api/web/e2e/screenshots.mjs "$RMM_API_URL" "$RMM_ADMIN_USER" "$RMM_ADMIN_PASSWORD_FILE"
// (or a stack kept by `RMM_E2E_KEEP=1 e2e/run-stack.sh`: its URL, user and password file are in
// $RMM_HOME/env). RMM_SHOT_AGENT=<id> picks the agent; by default the first online agent by name
// whose hostname is plain text. The theme comes from the system preference (emulated), which is
// what a user who never touched the toggle sees. Each shot is the page's top 2400 px at most.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';
import { apiCall } from './http.mjs';

const [url0, user, passwordFile, outArg] = process.argv.slice(2);
if (!url0 || !user || !passwordFile) {
  console.error('usage: node e2e/screenshots.mjs <url> <user> <password file> [out dir]');
  process.exit(2);
}
const url = url0.replace(/\/$/, '');
const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const out = resolve(outArg ?? join(repo, 'docs/screenshots'));
mkdirSync(out, { recursive: true });
const password = readFileSync(passwordFile, 'utf8').trim();

const call = (method, path, token, body) => apiCall(url, method, path, token, body);

const { token } = await call('POST', '/api/v1/auth/login', undefined, { username: user, password });
let agentId = process.env.RMM_SHOT_AGENT;
if (!agentId) {
  const list = await call('GET', '/api/v1/agents?status=online&limit=50', token);
  const plain = list.items.find((a) => /^[\w.-]+$/.test(a.hostname ?? '')) ?? list.items[0];
  if (!plain) throw new Error('no online agent to show');
  agentId = plain.id;
}

const PAGES = [
  { name: 'overview', hash: '#/', ready: '.stat-total .stat-value' },
  { name: 'agent', hash: `#/agents/${encodeURIComponent(agentId)}`, ready: 'h1.hostname' },
  { name: 'audit', hash: '#/audit', ready: 'h1' },
];
const SIZES = [{ width: 1440, height: 900 }, { width: 390, height: 844 }];
const THEMES = ['light', 'dark'];

const { context, close } = await launch();
let failed = false;
try {
  // Signed in through the token the dashboard keeps (lib/api.ts), so no sign-in form is shot.
  await context.addInitScript((t) => {
    localStorage.setItem('gururmm.token', t);
    localStorage.removeItem('gururmm.theme');
  }, token);
  const page = await context.newPage();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      for (const p of PAGES) {
        await page.goto(`${url}/${p.hash}`, { waitUntil: 'domcontentloaded' });
        await page.locator(p.ready).first().waitFor({ timeout: 20000 });
        // Charts and lists fill in after their own requests.
        await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
        await page.waitForTimeout(1500);
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        const file = join(out, `${p.name}-${size.width}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: true,
                                clip: { x: 0, y: 0, width: size.width, height: Math.min(height, 2400) } });
        console.log(file);
      }
    }
  }
  await call('POST', '/api/v1/auth/logout', token).catch(() => {});
} catch (e) {
  failed = true;
  console.error(String(e));
} finally {
  await close();
}
process.exit(failed ? 1 : 0);
