// The dashboard scenario against the real stack started by run-stack.sh. Before the browser
// runs, the agent's CPU alert threshold is lowered through the policy API so an alert is raised
// within a minute or so.
import { readFileSync } from 'node:fs';
import { launch, step } from './browser.mjs';
import { runScenario } from './scenario.mjs';
import { lookFlow } from './flows/look.mjs';
import { metricsFlow } from './flows/metrics.mjs';
import { namesAuditFlow } from './flows/names_audit.mjs';
import { bulkFlow } from './flows/bulk.mjs';
import { apiCall } from './http.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run e2e/run-stack.sh)`);
  return v;
};
const url = env('RMM_E2E_URL').replace(/\/$/, '');
const user = env('RMM_E2E_USER');
const password = readFileSync(env('RMM_E2E_PASSWORD_FILE'), 'utf8').trim();
const agentId = env('RMM_E2E_AGENT_ID');

const call = (method, path, token, body) => apiCall(url, method, path, token, body);

let failed = false;
// A failure here is reported, and the browser scenario still runs (its alert step then fails
// too, but every other step says how far the dashboard works).
await step('lower the cpu alert threshold of the local agent (policy API)', async () => {
  const { token } = await call('POST', '/api/v1/auth/login', undefined, { username: user, password });
  await call('PUT', '/api/v1/policies?wait=10000', token, {
    scope: 'agent', scope_id: agentId,
    settings: { 'alert.cpu.percent': '1', 'alert.cpu.minutes': '0', 'agent.metrics_interval_s': '10' },
  });
  await call('POST', '/api/v1/auth/logout', token).catch(() => {});
}).catch((e) => {
  failed = true;
  console.error(String(e));
});

const { context, close } = await launch();
const page = await context.newPage();
try {
  await runScenario(page, { url, user, password, agentId, alertText: '', agentTimeout: 60000,
                            hostileTimeout: 90000, commandTimeout: 90000, alertTimeout: 180000 });
  await lookFlow(page, { url, agentId });
  await metricsFlow(page, { url, agentId });
  await namesAuditFlow(page, { url, user, agentId });
  await bulkFlow(page, { url, user, password, agentId, commandTimeout: 90000, alertTimeout: 180000 });
  if (failed) throw new Error('the policy could not be set (above)');
  console.log('1 passed, 0 failed');
} catch (e) {
  failed = true;
  const shot = `${process.env.RMM_E2E_SHOTS ?? '/tmp'}/web-e2e-failure.png`;
  await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  console.error(String(e));
  console.error(`screenshot: ${shot}; page: ${page.url()}`);
  console.log('0 passed, 1 failed');
} finally {
  await close();
}
process.exit(failed ? 1 : 0);
