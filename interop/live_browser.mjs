// Viewers of one live HLS stream in Debian's chromium, sharing segments over WebRTC through `nexsuj live`
// (called by live.sh, which starts ffmpeg, the origin and the tracker). Two viewers, then five, then one
// leaves: every viewer plays without stalls, segments from peers are byte-identical to the origin's, the
// tracker's /channels shows the P2P share, and what the viewers say they fetched over HTTP is what the
// origin served.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { check, env, launch, runTest } from './browser.mjs';

const [LIVE, ORIGIN, HLS_DIR, ORIGIN_LOG, SHOTS] = env('LIVE', 'ORIGIN', 'HLS_DIR', 'ORIGIN_LOG', 'SHOTS');
const src = `${ORIGIN}/hls/stream.m3u8`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const context = await launch(['--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required']);

async function channel() {
  const list = await (await fetch(`${LIVE}/channels`)).json();
  return list[0] || { source_bytes: 0, p2p_bytes: 0, viewers: 0 };
}

function share(before, after) {
  const p2p = after.p2p_bytes - before.p2p_bytes;
  const source = after.source_bytes - before.source_bytes;
  return { p2p, source, ratio: p2p + source ? p2p / (p2p + source) : 0 };
}

async function viewer() {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  await page.goto(`${LIVE}/demo?src=${encodeURIComponent(src)}`);
  await page.waitForFunction(() => window.nexsujEngine && window.nexsujEngine.peerId && document.querySelector('video').currentTime > 0, null, { timeout: 30000 });
  return page;
}

const state = (page) => page.evaluate(() => ({
  t: document.querySelector('video').currentTime,
  stalls: window.nexsujStalls,
  stats: Object.assign({}, window.nexsujEngine.stats),
  why: Object.assign({}, window.nexsujEngine.why),
  peers: [...window.nexsujEngine.peers.values()].filter((p) => p.open).length,
}));

/** Lets `ms` pass, then checks every page moved on by most of it without stalling. */
async function play(pages, ms, what) {
  const before = await Promise.all(pages.map(state));
  await sleep(ms);
  const after = await Promise.all(pages.map(state));
  after.forEach((a, i) => {
    check(a.t - before[i].t > (ms / 1000) * 0.8, `${what}: viewer ${i} played ${(a.t - before[i].t).toFixed(1)} s of ${ms / 1000} s`);
    check(a.stalls === before[i].stalls, `${what}: viewer ${i} did not stall (${a.stalls} stalls in all)`);
  });
  return after;
}

async function reassembledFromPeers(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const [sn, s] of window.nexsujEngine.segments) {
      if (s.from !== 'p2p') continue;
      const d = await crypto.subtle.digest('SHA-256', s.data);
      out.push({ sn, url: s.url, sha: [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('') });
    }
    return out;
  });
}

await runTest(context, async () => {
  const start = await channel();
  const pages = [await viewer(), await viewer()];
  check((await channel()).viewers === 2, 'two viewers announced');
  await sleep(6000); // connect and settle
  const two0 = await channel();
  await play(pages, 24000, '2 viewers');
  const two = share(two0, await channel());
  console.log(`  2 viewers: P2P share ${(100 * two.ratio).toFixed(0)} % (${two.p2p} of ${two.p2p + two.source} bytes)`);

  for (let i = 0; i < 3; i++) pages.push(await viewer());
  await sleep(6000);
  const five0 = await channel();
  const five1 = await play(pages, 36000, '5 viewers');
  const five = share(five0, await channel());
  console.log(`  why segments came over HTTP (urgent / no peer had it / P2P failed): ${five1.map((s) => `${s.why.urgent}/${s.why.nobody}/${s.why.failed}`).join(', ')}`);
  console.log(`  5 viewers: P2P share ${(100 * five.ratio).toFixed(0)} % (${five.p2p} of ${five.p2p + five.source} bytes)`);
  check(five.ratio >= 0.6, `5 viewers: /channels reports a P2P share of ${(100 * five.ratio).toFixed(0)} %, at least 60 %`);
  check(five1.every((s) => s.peers >= 1), `every viewer has peers (${five1.map((s) => s.peers).join(', ')})`);
  await pages[0].screenshot({ path: path.join(SHOTS, 'demo.png') });

  // Every segment a viewer got from a peer is the origin's file, byte for byte.
  let compared = 0;
  for (const page of pages) {
    for (const seg of await reassembledFromPeers(page)) {
      const file = path.join(HLS_DIR, path.basename(new URL(seg.url).pathname));
      const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      if (sha !== seg.sha) throw new Error(`segment ${seg.sn} from a peer differs from ${file}`);
      compared += 1;
    }
  }
  check(compared >= 5, `${compared} segments received from peers are byte-identical to the origin's`);

  // What the viewers fetched over HTTP is what the origin served (segments only: playlists are not shared),
  // read at one moment; a segment on its way may be counted by the origin and not yet by its viewer.
  const now = await Promise.all(pages.map(state));
  const served = fs.readFileSync(ORIGIN_LOG, 'utf8').split('\n').filter((l) => l.includes('.ts '))
    .reduce((n, l) => n + Number(l.split(' ')[1]), 0);
  const fetched = now.reduce((n, s) => n + s.stats.http, 0);
  check(fetched <= served && served - fetched <= 512 * 1024,
    `origin served ${served} segment bytes; viewers counted ${fetched}`);
  const total = share(start, await channel());
  console.log(`  whole run: P2P share ${(100 * total.ratio).toFixed(0)} %`);

  // One viewer leaves mid-stream: the others go on without a stall.
  await pages[1].close();
  pages.splice(1, 1);
  await play(pages, 16000, 'after one left');
  check((await channel()).viewers === 4, 'the tracker forgot the viewer that left');
});
