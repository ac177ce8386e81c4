// The dashboard's look (issue 18, points 4, 8 and 9): the overview's parts and links, buttons
// that keep their label on hover, the Revoke dialog's red confirm, the favicon, a command in the
// history at once, the dark theme toggle (charts included), the navigation a technician sees
// (and the way back from impersonating one), and a phone-width pass (390 px: no sideways
// scrolling of the page, the menu button works).
// Called by stack.e2e.mjs after runScenario, signed in as the first owner; leaves it signed in.
import { step } from '../browser.mjs';

/** Throws unless the page is no wider than the window (no horizontal page scroll). */
async function noSidewaysScroll(page, what) {
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    // The widest element sticking out, to name in the failure.
    culprit: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .filter((e) => !e.closest('table.grid, .vtable, pre'))
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`).slice(0, 3),
  }));
  if (w.scroll > w.client + 1) {
    throw new Error(`${what}: page is ${w.scroll} px wide in a ${w.client} px window (${w.culprit.join(', ')})`);
  }
}

async function colours(locator) {
  return locator.evaluate((el) => {
    const s = getComputedStyle(el);
    return { color: s.color, background: s.backgroundColor };
  });
}

/** WCAG contrast ratio of two computed rgb() colours (1: invisible, 21: black on white). */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Hovers `locator` and throws unless its label stays readable (contrast at least 3). */
async function readableOnHover(locator, what) {
  await locator.hover();
  const c = await colours(locator);
  const ratio = contrast(c.color, c.background);
  if (ratio < 3) throw new Error(`${what} on hover: text ${c.color} on ${c.background} (contrast ${ratio.toFixed(2)})`);
}

export async function lookFlow(page, o) {
  const api = async (method, path, token, body) => page.evaluate(async ([m, p, t, b]) => {
    const res = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json',
      ...(t ? { Authorization: `Bearer ${t}` } : {}) }, body: b === null ? undefined : JSON.stringify(b) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, [method, path, token, body ?? null]);
  const ownerToken = async () => page.evaluate(() => localStorage.getItem('gururmm.token'));

  await step('look: the overview shows the fleet and links into filtered lists', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${o.url}/#/`);
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor({ timeout: 15000 });
    for (const h of ['Offline', 'Busiest CPU', 'Most memory used', 'Fullest disk']) {
      await page.getByRole('heading', { name: h }).waitFor({ timeout: 10000 });
    }
    await page.getByRole('heading', { name: /^Failures/ }).waitFor({ timeout: 10000 });
    // The local agent reports CPU: it is among the busiest (the fleet here is two agents).
    await page.locator('[aria-label="Busiest CPU"] li').first().waitFor({ timeout: 30000 });
    await page.getByRole('link', { name: 'All by disk' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor({ timeout: 10000 });
    if (!page.url().includes('sort=-disk')) throw new Error(`"All by disk" went to ${page.url()}`);
    await page.goto(`${o.url}/#/`);
    await page.locator('.stat-offline').click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor({ timeout: 10000 });
    if (!page.url().includes('status=offline')) throw new Error(`"offline" went to ${page.url()}`);
  });

  await step('look: an SVG favicon is linked and served', async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    if (!href) throw new Error('no <link rel="icon">');
    const r = await page.evaluate(async (h) => {
      const res = await fetch(h);
      return { status: res.status, type: res.headers.get('content-type') };
    }, href);
    if (r.status !== 200 || !String(r.type).startsWith('image/svg+xml')) {
      throw new Error(`favicon ${href}: ${r.status} ${r.type}`);
    }
  });

  await step('look: a command shows in the history at once, with its own badge', async () => {
    await page.goto(`${o.url}/#/agents/${encodeURIComponent(o.agentId)}`);
    await page.locator('h1.hostname').waitFor({ timeout: 15000 });
    const input = page.locator('#console-input');
    await input.fill('echo look-history');
    await input.press('Enter');
    const row = page.locator('table.grid tr', { hasText: 'echo look-history' });
    await row.first().waitFor({ timeout: 5000 });
    const cls = await row.first().locator('.badge').getAttribute('class');
    if (!/badge-cmd_[a-z_]+/.test(cls ?? '')) throw new Error(`history badge class is ${cls}`);
    await page.locator('.run', { hasText: 'echo look-history' }).locator('.badge-cmd_completed')
      .waitFor({ timeout: 60000 });
  });

  await step('look: primary and danger buttons keep their label on hover', async () => {
    await readableOnHover(page.getByRole('button', { name: 'Revoke…' }), 'Revoke…');
    const input = page.locator('#console-input');
    await input.fill('true');
    await readableOnHover(page.locator('.console-form button[type=submit]'), 'Run');
    await input.fill('');
  });

  await step('look: the Revoke dialog confirms in red', async () => {
    await page.getByRole('button', { name: 'Revoke…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke agent' });
    await dialog.waitFor({ timeout: 5000 });
    const confirm = dialog.locator('button[type=submit]');
    const [c, danger] = await Promise.all([
      colours(confirm),
      page.evaluate(() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--bad)';
        document.body.append(probe);
        const v = getComputedStyle(probe).color;
        probe.remove();
        return v;
      }),
    ]);
    if (c.background !== danger) throw new Error(`Revoke confirm is ${c.background}, not ${danger}`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: 5000 });
  });

  await step('look: the theme toggle switches to dark (and back)', async () => {
    const bg = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const toggle = page.locator('button.theme-toggle');
    const before = await bg();
    for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== 'dark'; i++) {
      await toggle.click();
    }
    const dark = await bg();
    if (dark !== 'rgb(11, 17, 32)') throw new Error(`dark background is ${dark} (was ${before})`);
    if ((await page.evaluate(() => localStorage.getItem('gururmm.theme'))) !== 'dark') {
      throw new Error('the choice is not kept in localStorage');
    }
    await page.reload();
    await page.locator('h1.hostname').waitFor({ timeout: 15000 });
    if ((await bg()) !== dark) throw new Error('the dark theme did not survive a reload');
    // Charts take their colours from the theme: the CPU series is drawn in --chart-cpu.
    await page.locator('figure.chart canvas').first().waitFor({ timeout: 15000 });
    const [marker, want] = await Promise.all([
      page.locator('figure.chart').first().locator('.u-series .u-marker').last()
        .evaluate((e) => getComputedStyle(e).borderColor),
      page.evaluate(() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--chart-cpu)';
        document.body.append(probe);
        const v = getComputedStyle(probe).color;
        probe.remove();
        return v;
      }),
    ]);
    if (marker !== want) throw new Error(`the CPU chart is drawn in ${marker}, the dark theme's is ${want}`);
    // Back to following the system.
    for (let i = 0; i < 3 && (await page.evaluate(() => localStorage.getItem('gururmm.theme'))) !== null; i++) {
      await toggle.click();
    }
  });

  await step('look: impersonating a technician: no Users link, then Return to my session', async () => {
    const owner = await ownerToken();
    const name = `look-tech-${Date.now()}`;
    const password = `look-${Math.random().toString(36).slice(2)}-Password-1`;
    const made = await api('POST', '/api/v1/users?wait=10000', owner, {
      username: name, display_name: 'Look technician', password, role: 'technician',
      scopes: [{ scope: 'global', id: '00000000-0000-0000-0000-000000000000' }] });
    if (made.status >= 300) throw new Error(`create a technician: HTTP ${made.status} ${JSON.stringify(made.body)}`);
    await page.goto(`${o.url}/#/users`);
    const row = page.locator('tr', { hasText: name });
    await row.waitFor({ timeout: 15000 });
    await row.getByRole('button', { name: 'Impersonate' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.locator('.top .impersonating').waitFor({ timeout: 15000 });
    await nav.getByRole('link', { name: 'Agents' }).waitFor({ timeout: 5000 });
    if ((await nav.getByRole('link', { name: 'Users' }).count()) !== 0) {
      throw new Error('a technician sees the Users link');
    }
    await page.getByRole('button', { name: 'Return to my session' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor({ timeout: 15000 });
    await nav.getByRole('link', { name: 'Users' }).waitFor({ timeout: 5000 });
    if ((await page.locator('.top .impersonating').count()) !== 0) throw new Error('still impersonating');
    if ((await ownerToken()) !== owner) throw new Error("the owner's own token is not back");
  });

  await step('look: phone width (390 px): no sideways page scroll, the menu works', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const views = [
      ['overview', '/#/', page.getByRole('heading', { name: 'Fleet overview' })],
      ['agents', '/#/agents', page.locator(`[data-agent-id="${o.agentId}"]`)],
      ['agent page', `/#/agents/${encodeURIComponent(o.agentId)}`, page.locator('figure.chart canvas').first()],
      ['alerts', '/#/alerts?status=all', page.getByRole('heading', { name: 'Alerts' })],
    ];
    for (const [what, path, ready] of views) {
      await page.goto(`${o.url}${path}`);
      await ready.waitFor({ timeout: 20000 });
      await page.waitForTimeout(500);
      await noSidewaysScroll(page, what);
    }
    // The alerts table: no column squeezed to a letter per line.
    const cells = page.locator('table.alerts tbody tr:first-child td');
    if ((await cells.count()) > 0) {
      const narrow = await cells.evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().width)
        .filter((w) => w < 40).length);
      if (narrow) throw new Error(`${narrow} alert column(s) narrower than 40 px`);
    }
    const nav = page.getByRole('navigation', { name: 'Main' });
    if (await nav.isVisible()) throw new Error('the navigation is open on a phone before the menu is');
    const menu = page.getByRole('button', { name: /Menu/ });
    await menu.click();
    await nav.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: /Audit/, level: 1 }).waitFor({ timeout: 10000 });
    if (await nav.isVisible()) throw new Error('the menu stayed open after choosing a view');
    const top = await page.locator('header.top').boundingBox();
    if (!top || top.height > 844 / 6) throw new Error(`the header takes ${top?.height} px of 844`);
    await noSidewaysScroll(page, 'audit log');
    await page.setViewportSize({ width: 1400, height: 1000 });
  });
}
