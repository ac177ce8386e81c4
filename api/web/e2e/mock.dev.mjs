// Dev loop only: the scenario against dev/mock-api.mjs (node e2e/mock.dev.mjs [url]).
import { launch } from './browser.mjs';
import { runScenario } from './scenario.mjs';

const url = process.argv[2] ?? 'http://127.0.0.1:8099';
const { context, close } = await launch();
const page = await context.newPage();
try {
  const agents = await (await fetch(`${url}/api/v1/agents?limit=1`, {
    headers: { Authorization: 'Bearer mock-token' } })).json();
  await runScenario(page, { url, user: 'owner', password: 'owner-password',
                            agentId: agents.items[0].id, alertText: 'CPU' });
  console.log('mock scenario passed');
} catch (e) {
  await page.screenshot({ path: '/tmp/rmm-web-mock-failure.png', fullPage: true }).catch(() => {});
  console.error(String(e));
  process.exitCode = 1;
} finally {
  await close();
}
