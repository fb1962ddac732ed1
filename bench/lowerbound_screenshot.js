#!/usr/bin/env node
// bench/lowerbound_screenshot.js — the floor under rendercgi's /screenshot:
// ONE warm Chromium, warm pages, no HTTP in front, raw CDP for the capture.
//
// Written for bench/extra (which runs it with the rendercgi stack idle); the
// PDF floor is the peers' ../shared/bench/lowerbound.js, whose shape this
// follows. It uses the playwright-core that run-peers.sh installed into
// $BENCH_WORK/node_modules (nothing is installed here) to launch Chromium and
// to navigate (waitUntil 'load', as rendercgi's default wait_until), and a
// CDPSession for Page.captureScreenshot with the parameters rendercgi sends
// by default ({"format":"png"}: the 1280x720 viewport, no clip).
//
// Measures on each fixture, ITER iterations after 3 warm-up ones:
//  (s1) Page.captureScreenshot alone on an already-loaded page
//  (s2) navigate + Page.captureScreenshot          <- the row bench/extra prints
// (the retry counts beside them: see shot() below)
// and, on article only, (s3) P warm pages of the same browser in parallel,
// each looping navigate + capture for THR_S seconds: screenshots/s (P = 5,
// the concurrency of the c=5 row; the machine's ceiling for one browser).
//
// Usage: node lowerbound_screenshot.js [--site URL] [--iter 50] [--json out.json]
//        [--fixtures simple,article] [--par 5] [--node-modules DIR]
// Environment: CHROMIUM_PATH (/usr/lib/chromium/chromium), THR_S (15),
// BENCH_WORK (where node_modules is, if --node-modules is not given).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const SITE = opt('--site', 'http://127.0.0.1:18080');
const ITER = parseInt(opt('--iter', '50'), 10);
const PAR = parseInt(opt('--par', '5'), 10);
const JSON_OUT = opt('--json', null);
const FIXTURES = opt('--fixtures', 'simple,article').split(',');
const MODULES = opt('--node-modules',
  path.join(process.env.BENCH_WORK || path.join(process.env.TMPDIR || os.tmpdir(), 'rendercgi-bench'), 'node_modules'));
const THR_S = parseFloat(process.env.THR_S || '15');
// The flags every process in this project runs Chromium with; Playwright adds
// --headless, --remote-debugging-pipe and a fresh --user-data-dir of its own.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOT = { format: 'png' };

let chromium;
try {
  ({ chromium } = require(path.join(MODULES, 'playwright-core')));
} catch (e) {
  console.error(`no playwright-core under ${MODULES}: run ../shared/bench/run-peers.sh once (or pass --node-modules)`);
  process.exit(2);
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
  return { n: s.length, mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1), p50: +q(0.5).toFixed(1),
    p95: +q(0.95).toFixed(1), min: +s[0].toFixed(1), max: +s[s.length - 1].toFixed(1) };
}
async function timeIt(n, fn) {
  for (let i = 0; i < 3; i++) await fn();
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(out);
}
// A PNG's width and height sit in its IHDR chunk, bytes 16-23.
function pngSize(b64) {
  const b = Buffer.from(b64, 'base64');
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium', args: FLAGS });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    const results = { chromium: browser.version(), iter: ITER, viewport: '1280x720', params: SHOT, fixtures: {} };
    // Right after a load, Chromium refuses the capture now and then
    // ("Unable to capture screenshot": no frame of the new document yet).
    // Here that is a third to a half of article.html's loads, with or
    // without about:blank in between, and the refusal comes back in 1-15 ms;
    // rendercgi's captures all succeeded in the same runs. So the floor
    // retries at once, keeps the refused attempt's time in the measurement
    // and counts the retries.
    let retries = 0;
    const shot = async (s) => {
      for (let i = 0; ; i++) {
        try {
          const r = await s.send('Page.captureScreenshot', SHOT);
          if (!r.data) throw new Error('no image');
          return r.data;
        } catch (e) {
          if (i >= 50 || !/Unable to capture screenshot/.test(String(e && e.message))) throw e;
          retries++;
        }
      }
    };
    for (const f of FIXTURES) {
      const url = `${SITE}/${f}.html`;
      await page.goto(url, { waitUntil: 'load' });
      const r = { image: pngSize(await shot(cdp)) };
      retries = 0;
      r.s1_capture_only = await timeIt(ITER, () => shot(cdp));
      r.s1_retries = retries;
      retries = 0;
      r.s2_nav_capture = await timeIt(ITER, async () => { await page.goto(url, { waitUntil: 'load' }); await shot(cdp); });
      r.s2_retries = retries;
      if (f === 'article' && PAR > 0 && THR_S > 0) {
        const pages = [];
        for (let i = 0; i < PAR; i++) { const pg = await ctx.newPage(); pages.push([pg, await ctx.newCDPSession(pg)]); }
        const end = Date.now() + THR_S * 1000;
        let done = 0;
        retries = 0;
        await Promise.all(pages.map(async ([pg, s]) => {
          while (Date.now() < end) { await pg.goto(url, { waitUntil: 'load' }); await shot(s); done++; }
        }));
        r[`s3_parallel_${PAR}_per_s`] = +(done / THR_S).toFixed(2);
        r.s3_retries = retries;
        for (const [pg] of pages) await pg.close();
      }
      results.fixtures[f] = r;
      console.log(f, JSON.stringify(r));
    }
    if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
