// Bulk work, processes and alerts (issue 18, points 3, 6 and 7) against the real stack, after
// runScenario: select two agents and run `echo bulk` on both (one batch, both results on the
// batch page), acknowledge several alerts with one note, resolve them at once, and sort, search
// and open the agent's process table (its stop dialog is opened and cancelled).
import { step } from '../browser.mjs';
import { apiCall } from '../http.mjs';

const call = (o, method, path, token, body) => apiCall(o.url, method, path, token, body);

export async function bulkFlow(page, o) {
  // The second agent (any agent but the local one) gets the same low CPU threshold, so both
  // raise an alert for the bulk acknowledgement.
  const other = await step('bulk: find a second agent and lower its cpu alert threshold', async () => {
    const { token } = await call(o, 'POST', '/api/v1/auth/login', undefined,
                                 { username: o.user, password: o.password });
    try {
      const agents = await call(o, 'GET', '/api/v1/agents?limit=50&status=online', token);
      const second = agents.items.find((a) => a.id !== o.agentId);
      if (!second) throw new Error('no second online agent');
      await call(o, 'PUT', '/api/v1/policies?wait=10000', token, {
        scope: 'agent', scope_id: second.id,
        settings: { 'alert.cpu.percent': '1', 'alert.cpu.minutes': '0', 'agent.metrics_interval_s': '10' },
      });
      return second.id;
    } finally {
      await call(o, 'POST', '/api/v1/auth/logout', token).catch(() => {});
    }
  });

  await step('bulk: select two agents and run `echo bulk`; both results in the batch view', async () => {
    await page.goto(`${o.url}/#/agents`);
    for (const id of [o.agentId, other]) {
      const row = page.locator(`[data-agent-id="${id}"]`);
      await row.waitFor({ timeout: 20000 });
      await row.getByRole('checkbox').check();
    }
    await page.getByRole('group', { name: 'Selected agents' }).getByText('2 selected').waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Run command…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run on 2 agents' });
    await dialog.getByLabel('Command or script').fill('echo bulk');
    await dialog.getByRole('button', { name: 'Run on 2 agents' }).click();
    await page.waitForURL(/#\/batches\//, { timeout: 20000 });
    const done = page.locator('table.batch tr[data-state="done"]', { hasText: 'bulk' });
    const deadline = Date.now() + (o.commandTimeout ?? 90000);
    while ((await done.count()) < 2) {
      if (Date.now() > deadline) {
        const states = await page.locator('table.batch tr[data-state]').evaluateAll(
          (rows) => rows.map((r) => r.getAttribute('data-state')));
        throw new Error(`batch rows done with "bulk": ${await done.count()} of 2 (states ${states.join(',')})`);
      }
      await page.waitForTimeout(1000);
    }
    if ((await page.locator('table.batch tbody tr').count()) !== 2) throw new Error('the batch has not two rows');
    await page.getByRole('status').filter({ hasText: '2 done' }).waitFor({ timeout: 5000 });
  });

  await step('bulk: acknowledge the alerts of both agents at once, with a note', async () => {
    const deadline = Date.now() + (o.alertTimeout ?? 180000);
    const active = page.locator('tr[data-alert-id]').filter({ has: page.getByRole('checkbox') });
    for (;;) {
      await page.goto(`${o.url}/#/alerts`);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor({ timeout: 10000 });
      await page.waitForTimeout(500);
      const hosts = new Set();
      for (const id of [o.agentId, other]) {
        if ((await page.locator(`tr[data-alert-id] a[href="#/agents/${id}"]`).count()) > 0) hosts.add(id);
      }
      if (hosts.size === 2) break;
      if (Date.now() > deadline) throw new Error(`alerts of ${hosts.size} of 2 agents appeared`);
      await page.waitForTimeout(3000);
    }
    await page.getByRole('checkbox', { name: 'Check every active alert' }).check();
    const n = await active.count();
    await page.getByRole('button', { name: 'Acknowledge checked' }).click();
    const dialog = page.getByRole('dialog', { name: /^Acknowledge \d+ alerts?$/ });
    await dialog.getByLabel(/^Note/).fill('e2e bulk');
    await dialog.getByRole('button', { name: `Acknowledge ${n}` }).click();
    // The second agent's alert was not acknowledged before: it shows this note.
    await page.locator(`tr[data-alert-id]:has(a[href="#/agents/${other}"]) .alert-note`, { hasText: 'e2e bulk' })
      .first().waitFor({ timeout: 20000 });
    const unacked = await page.locator('tr[data-alert-id] .alert-state', { hasText: /^new/ }).count();
    if (unacked !== 0) throw new Error(`${unacked} alert(s) still new after the bulk acknowledgement`);
  });

  await step('bulk: resolve them at once; a persisting CPU alert says why it came back', async () => {
    await page.getByRole('checkbox', { name: 'Check every active alert' }).check();
    const n = await page.locator('tr[data-alert-id]').filter({ has: page.getByRole('checkbox') }).count();
    await page.getByRole('button', { name: 'Resolve checked' }).click();
    const dialog = page.getByRole('dialog', { name: /^Resolve \d+ alerts?$/ });
    await dialog.getByRole('button', { name: `Resolve ${n}` }).click();
    await dialog.waitFor({ state: 'detached', timeout: 20000 }).catch(() => {});
    // The threshold (1 %) is still exceeded: the next sample raises a new alert. Its message says
    // "raised again" when the CPU stayed above it through the resolve (one quiet sample between
    // starts a new streak, which is a plain alert: that is logged, not failed).
    const deadline = Date.now() + 90000;
    const back = page.locator(`tr[data-alert-id]:has(a[href="#/agents/${o.agentId}"])`);
    for (;;) {
      await page.goto(`${o.url}/#/alerts`);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor({ timeout: 10000 });
      await page.waitForTimeout(500);
      if ((await back.count()) > 0) break;
      if (Date.now() > deadline) throw new Error('no alert came back within 90 s');
      await page.waitForTimeout(3000);
    }
    const text = await back.first().textContent();
    if (!/raised again: CPU still above 1%/.test(text ?? '')) {
      console.log(`  note: the re-raised alert reads ${JSON.stringify(text)}`);
    }
    if (!/warning/.test(text ?? '')) throw new Error(`the CPU alert is not a warning: ${text}`);
  });

  await step('move the second agent to another site of its client (audited intent)', async () => {
    const { token } = await call(o, 'POST', '/api/v1/auth/login', undefined,
                                 { username: o.user, password: o.password });
    try {
      const agent = await call(o, 'GET', `/api/v1/agents/${other}`, token);
      await call(o, 'POST', '/api/v1/sites?wait=10000', token,
                 { client_id: agent.client_id, name: 'e2e-annex' });
    } finally {
      await call(o, 'POST', '/api/v1/auth/logout', token).catch(() => {});
    }
    await page.goto(`${o.url}/#/agents/${other}`);
    await page.getByRole('button', { name: 'Move to site…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move agent to another site' });
    const select = dialog.getByLabel('New site');
    await select.locator('option', { hasText: 'e2e-annex' }).waitFor({ state: 'attached', timeout: 10000 });
    await select.selectOption({ label: 'e2e-annex' });
    await dialog.getByRole('button', { name: 'Move' }).click();
    await page.locator('dl.summary').getByRole('link', { name: 'e2e-annex' }).waitFor({ timeout: 20000 });
  });

  await step('processes: sort by memory and CPU, search, open the detail panel', async () => {
    await page.goto(`${o.url}/#/agents/${o.agentId}`);
    const rows = page.locator('table.process-table tbody tr');
    await rows.first().waitFor({ timeout: 60000 });
    const col = (attr) => rows.evaluateAll((trs, a) => trs.map((t) => Number(t.getAttribute(a))), attr);
    const sortedDesc = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);
    await page.locator('table.process-table').getByRole('button', { name: /^Memory/ }).click();
    if (!sortedDesc(await col('data-rss'))) throw new Error('not sorted by memory, largest first');
    await page.locator('table.process-table').getByRole('button', { name: /^CPU/ }).click();
    if (!sortedDesc(await col('data-cpu'))) throw new Error('not sorted by CPU, busiest first');
    await page.locator('table.process-table').getByRole('button', { name: /^Name/ }).click();
    const names = await rows.evaluateAll((trs) => trs.map((t) => t.children[1].textContent ?? ''));
    const sortedNames = names.slice().sort((a, b) => a.localeCompare(b));
    if (JSON.stringify(names) !== JSON.stringify(sortedNames)) throw new Error('not sorted by name');
    const name = names[0];
    await page.getByLabel('Search processes').fill(name);
    const shown = await rows.evaluateAll((trs) => trs.map((t) => t.textContent ?? ''));
    if (shown.length === 0 || !shown.every((t) => t.toLowerCase().includes(name.toLowerCase()))) {
      throw new Error(`search for ${JSON.stringify(name)} shows ${JSON.stringify(shown)}`);
    }
    await rows.first().getByRole('button').click();
    const panel = page.locator('aside.process-detail');
    await panel.getByRole('heading', { name: 'Command line' }).waitFor({ timeout: 5000 });
    // Stopping asks first (cancelled here: the stack's processes are real; the agent's kill is
    // tested against a child process in agent_commands_test).
    await panel.getByRole('button', { name: 'Stop process…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Stop this process?' });
    await confirm.getByRole('button', { name: 'Stop the process' }).waitFor({ timeout: 5000 });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await panel.getByRole('button', { name: 'Close the process details' }).click();
  });
}
