// Metrics on the agent page (issue 18, points 1 and 5): at the 1 h range the network chart has a
// drawn series (the API used to answer null rates at small steps) and every chart's x axis spans
// the range, not the data; a series the machine has no source for says so; and when the API
// cannot be reached the charts turn grey under a "Not live … as of" note, which clears once the
// API answers again; when the live stream drops, the agent page and the overview grey their
// last-known values the same way. Charts expose what uPlot drew as data attributes
// (components/Chart.tsx). The stream is dropped by closing the page's own EventSource (kept by
// a wrapper this test installs): the app sees the same error and CLOSED state as after a
// server-side drop it could not recover from. A broker outage is /healthz answering 503 with
// "nats": "unavailable" (the live stream stays open, silent, meanwhile).
import { step } from '../browser.mjs';

const poll = async (what, timeoutMs, fn) => {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: ${JSON.stringify(last)}`);
};

const chartState = (page, title) => page.evaluate((t) => {
  const fig = [...document.querySelectorAll('figure.chart')]
    .find((f) => f.querySelector('figcaption')?.textContent === t);
  if (!fig) return null;
  const holder = fig.querySelector('[data-chart]');
  return {
    noSource: fig.classList.contains('chart-no-source') ? fig.textContent : null,
    stale: fig.classList.contains('chart-stale'),
    xMin: Number(holder?.getAttribute('data-x-min')),
    xMax: Number(holder?.getAttribute('data-x-max')),
    points: Object.fromEntries((holder?.getAttribute('data-points') ?? '').split(',')
      .filter(Boolean).map((kv) => { const [k, v] = kv.split(':'); return [k, Number(v)]; })),
  };
}, title);

export async function metricsFlow(page, o) {
  await step('metrics: 1 h charts span the range and the network series is drawn', async () => {
    await page.goto(`${o.url}/#/agents/${o.agentId}?range=1h`);
    await page.getByRole('heading', { name: 'Metrics' }).waitFor({ timeout: 20000 });
    const net = await poll('network chart with received and sent points', 90000, async () => {
      const s = await chartState(page, 'Network');
      return { ok: Boolean(s && s.points.Received > 1 && s.points.Sent > 1), s };
    });
    const now = Date.now() / 1000;
    for (const title of ['CPU', 'Memory', 'Network']) {
      const s = title === 'Network' ? net.s : await chartState(page, title);
      const span = s.xMax - s.xMin;
      if (Math.abs(span - 3600) > 5) throw new Error(`${title}: x axis spans ${span} s, not 1 h`);
      if (Math.abs(s.xMax - now) > 120) {
        throw new Error(`${title}: x axis ends ${now - s.xMax} s ago`);
      }
    }
    const range = await page.locator('.charts').evaluate((el) => ({
      from: Date.parse(el.getAttribute('data-from')), to: Date.parse(el.getAttribute('data-to')),
      step: Number(el.getAttribute('data-step')) }));
    if (range.to - range.from !== 3600000 || range.step !== 12) {
      throw new Error(`range of the answer: ${JSON.stringify(range)}`);
    }
    const temp = await chartState(page, 'Temperature (hottest sensor)');
    if (!(temp.noSource?.includes('No temperature sensors') || temp.points.Temperature > 0)) {
      throw new Error(`temperature: neither drawn nor said missing: ${JSON.stringify(temp)}`);
    }
  });

  await step('metrics: 30 d range of a young agent spans 30 days, not years', async () => {
    await page.getByRole('button', { name: '30d' }).click();
    const s = await poll('30 d window', 30000, async () => {
      const c = await chartState(page, 'CPU');
      return { ok: Boolean(c && Math.abs(c.xMax - c.xMin - 30 * 86400) < 120), c };
    });
    if (!(s.c.points.CPU > 0)) throw new Error(`30 d: no CPU points ${JSON.stringify(s.c)}`);
    await page.getByRole('button', { name: '1h' }).click();
  });

  await step('metrics: with the API unreachable the charts are greyed "as of" a time', async () => {
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    try {
      // The panel refreshes every 30 s at 1 h; the failed refresh keeps the last-known data.
      const note = page.locator('.stale-note').first();
      await note.waitFor({ timeout: 45000 });
      const text = await note.textContent();
      if (!/as of \d\d:\d\d:\d\d/.test(text ?? '')) throw new Error(`stale note: ${text}`);
      const s = await chartState(page, 'CPU');
      if (!s.stale) throw new Error('the CPU chart is not greyed while stale');
    } finally {
      await page.unroute('**/api/v1/**');
    }
    await page.locator('.stale-note').getByRole('button', { name: 'Retry now' }).first().click();
    await page.locator('.stale-note').waitFor({ state: 'detached', timeout: 20000 });
    const s = await chartState(page, 'CPU');
    if (s.stale) throw new Error('the CPU chart is still greyed after the API answered');
  });

  await step('live stream down: agent summary and overview greyed "as of" a time', async () => {
    await page.addInitScript(() => {
      const Real = window.EventSource;
      window.__e2eLive = [];
      window.EventSource = class extends Real {
        constructor(u, init) {
          super(u, init);
          window.__e2eLive.push(this);
        }
      };
    });
    await page.reload();
    await page.locator('.live-open').waitFor({ timeout: 20000 });
    await page.locator('dl.summary').waitFor({ timeout: 20000 });
    if (await page.locator('.stale-note').count()) throw new Error('stale note while live');
    await page.evaluate(() => {
      for (const es of window.__e2eLive) {
        es.close();
        es.onerror?.(new Event('error'));
      }
    });
    const note = page.locator('.stale-note').first();
    await note.waitFor({ timeout: 10000 });
    if (!/as of .*live updates are disconnected/.test((await note.textContent()) ?? '')) {
      throw new Error(`agent page stale note: ${await note.textContent()}`);
    }
    const grey = await page.locator('dl.summary').evaluate((el) => getComputedStyle(el).opacity);
    if (!(Number(grey) < 1)) throw new Error(`summary not greyed (opacity ${grey})`);
    await page.goto(`${o.url}/#/`);
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor({ timeout: 10000 });
    await page.locator('.stale-note').waitFor({ timeout: 15000 });
    const stats = await page.locator('.stats').first()
      .evaluate((el) => getComputedStyle(el).opacity);
    if (!(Number(stats) < 1)) throw new Error(`overview not greyed (opacity ${stats})`);
    await page.reload();
    await page.locator('.live-open').waitFor({ timeout: 20000 });
    await page.locator('.stats').first().waitFor({ timeout: 15000 });
    if (await page.locator('.stale-note').count()) throw new Error('stale note after reconnect');
  });

  await step('broker down (/healthz): the agent page says so, and recovers', async () => {
    await page.goto(`${o.url}/#/agents/${o.agentId}`);
    await page.locator('dl.summary').waitFor({ timeout: 20000 });
    await page.route('**/healthz', (route) => route.fulfill({
      status: 503, contentType: 'application/json',
      body: JSON.stringify({ status: 'degraded', postgres: 'ok', nats: 'unavailable',
                             stream_losses: 0 }),
    }));
    try {
      const note = page.locator('.stale-note').first();
      await note.waitFor({ timeout: 30000 });
      if (!/message broker/.test((await note.textContent()) ?? '')) {
        throw new Error(`stale note: ${await note.textContent()}`);
      }
    } finally {
      await page.unroute('**/healthz');
    }
    await page.locator('.stale-note').first().waitFor({ state: 'detached', timeout: 30000 });
  });
}
