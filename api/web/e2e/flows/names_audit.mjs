// Names, not ids (issue 18, point 2): the command history and the alert state name who acted,
// the audit log reads as sentences, filters through its route and exports what it shows as CSV.
// Runs after the shared scenario (which ran `echo hello` on o.agentId as o.user and acknowledged
// an alert).
import { readFileSync } from 'node:fs';
import { step } from '../browser.mjs';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export async function namesAuditFlow(page, o) {
  // Who the signed-in user is, by name (the answer the dashboard itself uses).
  const me = await page.evaluate(async () => {
    const token = localStorage.getItem('gururmm.token');
    const res = await fetch('/api/v1/auth/me', { headers: { Authorization: `Bearer ${token}` } });
    return res.json();
  });
  const name = me.display_name || me.username;

  await step('the command history names who ran `echo hello`', async () => {
    await page.goto(`${o.url}/#/agents/${encodeURIComponent(o.agentId)}`);
    const row = page.locator('tr', { has: page.getByRole('link', { name: /echo hello/ }) }).first();
    await row.waitFor({ timeout: 20000 });
    const by = row.locator('td').nth(2);
    const text = (await by.innerText()).replace(/[⧉✓]/g, '').trim();
    if (text !== name) throw new Error(`"By" shows ${JSON.stringify(text)}, not ${JSON.stringify(name)}`);
    if (UUID.test(text)) throw new Error(`"By" shows an id: ${text}`);
    // The id is one click away: the name links to the user's audit entries, the id in its title.
    const title = await by.getByRole('link').first().getAttribute('title');
    if (!title || !title.includes(me.id)) throw new Error(`no user id in the title: ${title}`);
    await by.getByRole('button', { name: /^Copy id / }).first().waitFor({ timeout: 5000 });
  });

  await step('the command page names its issuer too', async () => {
    await page.getByRole('link', { name: /echo hello/ }).first().click();
    const dd = page.locator('dt', { hasText: 'Issued by' }).locator('xpath=following-sibling::dd');
    await dd.getByText(name, { exact: true }).waitFor({ timeout: 15000 });
  });

  await step('the acknowledged alert names who acknowledged it', async () => {
    await page.goto(`${o.url}/#/alerts?agent_id=${encodeURIComponent(o.agentId)}&status=all`);
    const state = page.locator('.alert-state', { hasText: 'acknowledged by' }).first();
    await state.waitFor({ timeout: 20000 });
    const text = (await state.innerText()).replace(/[⧉✓]/g, '').replace(/\s+/g, ' ');
    if (!text.includes(`acknowledged by ${name}`)) throw new Error(`alert state: ${JSON.stringify(text)}`);
    if (UUID.test(text)) throw new Error(`alert state shows an id: ${text}`);
  });

  await step('audit log: filter by action through the form and the route', async () => {
    await page.goto(`${o.url}/#/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor({ timeout: 15000 });
    const form = page.getByRole('form', { name: 'Audit log filters' });
    await form.getByLabel('Action').fill('command_issued');
    await form.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=command_issued/, { timeout: 10000 });
    const rows = page.locator('table.audit tbody tr');
    await rows.first().waitFor({ timeout: 15000 });
    const n = await rows.count();
    for (let i = 0; i < Math.min(n, 20); i++) {
      const action = (await rows.nth(i).locator('td').nth(2).innerText()).trim();
      if (action !== 'Command issued') throw new Error(`row ${i} action is ${JSON.stringify(action)}`);
    }
    // Readable: the actor by name, the detail as lines (no JSON braces).
    await rows.first().locator('td').nth(1).getByText(name, { exact: true }).waitFor({ timeout: 5000 });
    const detail = await rows.first().locator('td.detail').innerText();
    if (/[{}]/.test(detail)) throw new Error(`detail is raw JSON: ${detail}`);
    // The target is a link to the command.
    await rows.first().locator('td').nth(3).getByRole('link').first().waitFor({ timeout: 5000 });
  });

  await step('audit log: filter by actor name and by target kind', async () => {
    await page.goto(`${o.url}/#/audit?actor=${encodeURIComponent(me.username)}&target_kind=agent`);
    const rows = page.locator('table.audit tbody tr');
    const empty = page.getByText('No audit entries match.');
    // A hash change keeps the previous filter's rows on screen until the new answer arrives:
    // read the rows until they are the filtered ones (bounded), then check every one.
    let wrong = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      await rows.first().or(empty).waitFor({ timeout: 15000 });
      const targets = await rows.evaluateAll((trs) =>
        trs.slice(0, 20).map((tr) => tr.querySelectorAll('td')[3]?.textContent ?? ''));
      wrong = targets.find((t) => !t.startsWith('agent')) ?? '';
      if (!wrong) break;
      await page.waitForTimeout(200);
    }
    if (wrong) throw new Error(`a row's target is ${JSON.stringify(wrong)}`);
  });

  await step('audit log: a time range in the future holds nothing', async () => {
    await page.goto(`${o.url}/#/audit?action=command_issued`);
    await page.locator('table.audit tbody tr').first().waitFor({ timeout: 15000 });
    const form = page.getByRole('form', { name: 'Audit log filters' });
    await form.getByLabel('From').fill('2099-01-01T00:00');
    await form.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/since=2099-01-01/, { timeout: 10000 });
    await page.getByText('No audit entries match.').waitFor({ timeout: 15000 });
    await form.getByRole('button', { name: 'Clear' }).click();
    await page.locator('table.audit tbody tr').first().waitFor({ timeout: 15000 });
  });

  await step('audit log: the CSV export has the filtered rows, quoted', async () => {
    await page.goto(`${o.url}/#/audit?action=command_issued`);
    await page.locator('table.audit tbody tr').first().waitFor({ timeout: 15000 });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 20000 }),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    if (download.suggestedFilename() !== 'audit.csv') {
      throw new Error(`file name ${download.suggestedFilename()}`);
    }
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    if (!lines[0].startsWith('"occurred_at","actor","actor_name"')) throw new Error(`header: ${lines[0]}`);
    if (lines.length < 2) throw new Error('no rows');
    for (const l of lines.slice(1)) {
      if (!l.includes('"command_issued"')) throw new Error(`a row of another action: ${l}`);
    }
    if (!csv.includes(`"${name}"`)) throw new Error(`the actor's name ${name} is not in the CSV`);
  });
}
