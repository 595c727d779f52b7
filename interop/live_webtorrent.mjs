// Real WebTorrent clients (npm's webtorrent, its browser bundle) in two chromium pages: one seeds a file, the
// other downloads it from a magnet link, the two finding each other through `nexsuj live`'s WebTorrent tracker
// (ws://…/webtorrent) only. Called by live.sh.
import { check, env, launch, runTest } from './browser.mjs';

const [LIVE, ORIGIN] = env('LIVE', 'ORIGIN');
const tracker = LIVE.replace(/^http/, 'ws') + '/webtorrent';
const context = await launch(['--disable-features=WebRtcHideLocalIpsWithMdns']);

async function page() {
  const p = await context.newPage();
  p.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  await p.goto(`${ORIGIN}/static/index.html`);
  await p.evaluate(async () => {
    const { default: WebTorrent } = await import('/static/webtorrent.min.js');
    window.client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utp: false });
  });
  return p;
}

await runTest(context, async () => {
  const seeder = await page();
  const leecher = await page();
  const seeded = await seeder.evaluate((announce) => new Promise((resolve) => {
    const bytes = new Uint8Array(3 * 1024 * 1024 + 12345);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
    const file = new File([bytes], 'payload.bin');
    window.client.seed(file, { announce: [announce] }, (t) => resolve({ magnet: t.magnetURI, infoHash: t.infoHash }));
  }), tracker);
  check(seeded.magnet.includes(encodeURIComponent(tracker)) || seeded.magnet.includes(tracker), 'the seeder announces to our tracker only');
  const got = await leecher.evaluate((magnet) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no download in 60 s')), 60000);
    window.client.add(magnet, (t) => t.on('done', async () => {
      clearTimeout(timer);
      const buf = new Uint8Array(await t.files[0].arrayBuffer());
      let ok = buf.length === 3 * 1024 * 1024 + 12345;
      for (let i = 0; ok && i < buf.length; i++) ok = buf[i] === ((i * 7 + (i >> 11)) & 0xff);
      resolve({ ok, length: buf.length, peers: t.numPeers });
    }));
  }), seeded.magnet);
  check(got.ok, `the leecher downloaded ${got.length} bytes, identical, from ${got.peers} peer(s)`);
  const metrics = await (await fetch(`${LIVE}/metrics`)).text();
  const messages = Number((metrics.match(/nexsuj_live_webtorrent_messages_total (\d+)/) || [0, 0])[1]);
  check(messages >= 3, `the tracker handled ${messages} WebTorrent messages`);
});
