// Browser test of the nexsuj daemon's web UI: Debian's chromium driven by playwright-core logs in with
// the token, adds a torrent seeded by libtorrent and watches it complete, opens its details (piece map,
// trackers, peers), stops and starts it, checks that a POST without the CSRF token is refused, removes it
// with its data; then adds a video torrent and plays it from the stream URL while it downloads. Run by
// daemon_browser.sh, which passes: BASE (daemon URL), TOKEN, TORRENT / HASH (a .torrent a libtorrent
// seeder serves, and its info-hash), VIDEO_TORRENT / VIDEO_HASH (a slowly seeded .webm), TARGET (download
// folder), SHOTS, PW_DIR, PROFILE_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { env, check, launch, runTest } from './browser.mjs';

const [BASE, TOKEN, TORRENT, HASH, VIDEO_TORRENT, VIDEO_HASH, TARGET, SHOTS] =
  env('BASE', 'TOKEN', 'TORRENT', 'HASH', 'VIDEO_TORRENT', 'VIDEO_HASH', 'TARGET', 'SHOTS');

const context = await launch(['--autoplay-policy=no-user-gesture-required']);
await runTest(context, async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1300, height: 900 });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const row = (h) => `tr[data-infohash="${h}"]`;
  const cell = (h, col) => page.textContent(`${row(h)} [data-col="${col}"]`);
  const waitState = (h, state, timeout = 120_000) => page.waitForFunction(
    ([sel, s]) => document.querySelector(`${sel} [data-col="state"]`)?.textContent === s, [row(h), state], { timeout });

  // Log in.
  await page.goto(`${BASE}/`);
  await page.waitForSelector('[data-testid=login-token]', { state: 'visible' });
  await shot('1-login');
  await page.fill('[data-testid=login-token]', 'not-the-token');
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=message]:not([hidden])');
  check((await page.textContent('[data-testid=message]')).includes('wrong'), 'a wrong token is refused');
  await page.fill('[data-testid=login-token]', TOKEN);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=torrents]', { state: 'visible' });
  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === 'nexsuj_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

  // Add the torrent by file upload and watch it complete.
  await page.fill('[data-testid=add-path]', TARGET);
  await page.setInputFiles('[data-testid=add-file]', TORRENT);
  await page.waitForSelector(row(HASH));
  await waitState(HASH, 'seeding');
  check((await cell(HASH, 'progress')) === '100%', 'the torrent completed: 100%, seeding');
  await shot('2-complete');

  // Details: piece map, trackers, peers, files.
  await page.click(`${row(HASH)} [data-action=detail]`);
  await page.waitForSelector('[data-testid=detail]', { state: 'visible' });
  await page.waitForFunction(() => document.querySelectorAll('#trackers tr').length > 0);
  const full = await page.evaluate(() => {
    const c = document.querySelector('[data-testid=piece-map]');
    const d = c.getContext('2d').getImageData(c.width - 1, c.height - 1, 1, 1).data;
    return d[2] > 200 && d[0] < 100; // the accent blue: the last pieces are there
  });
  check(full, 'the piece map shows the pieces');
  check((await page.textContent('#files')).includes('a.bin'), 'the files are listed');
  await shot('3-detail');

  // A POST with the cookie but without the CSRF token is refused; a cookie GET that changes state too.
  const refused = await page.evaluate(async (h) => [
    (await fetch(`/stoptorrent?infohash=${h}`, { method: 'POST' })).status,
    (await fetch(`/stoptorrent?infohash=${h}`)).status,
  ], HASH);
  check(refused[0] === 403 && refused[1] === 403, `state changes without the CSRF token are refused (${refused})`);

  // Stop, start.
  await page.click(`${row(HASH)} [data-action=stop]`);
  await waitState(HASH, 'stopped');
  check(true, 'stopped');
  await page.click(`${row(HASH)} [data-action=start]`);
  await waitState(HASH, 'seeding');
  check(true, 'started again, seeding');

  // Remove with the data.
  page.once('dialog', (d) => d.accept());
  await page.click(`${row(HASH)} [data-action=remove-data]`);
  await page.waitForSelector(row(HASH), { state: 'detached' });
  const name = fs.readdirSync(TARGET);
  check(!name.includes('ui1'), `removed with its data (left in the folder: ${JSON.stringify(name)})`);
  await shot('4-removed');

  // A video, played from the stream while it downloads.
  await page.setInputFiles('[data-testid=add-file]', VIDEO_TORRENT);
  await page.waitForSelector(row(VIDEO_HASH));
  await page.click(`${row(VIDEO_HASH)} [data-action=detail]`);
  await page.waitForSelector('#files [data-action=stream]');
  await page.click('#files [data-action=stream]');
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=player]');
    return v && !v.paused && v.readyState >= 3 && v.currentTime > 1;
  }, null, { timeout: 120_000 });
  const [played, progress] = await page.evaluate(async (h) => [
    document.querySelector('[data-testid=player]').currentTime,
    (await (await fetch(`/torrentdata?infohash=${h}`)).json()).progress,
  ], VIDEO_HASH);
  check(progress < 1, `the video plays (at ${played.toFixed(1)} s) before its download completed (${(progress * 100).toFixed(0)} %)`);
  await shot('5-streaming');

  // Log out.
  await page.click('[data-testid=logout]');
  await page.waitForSelector('[data-testid=login-token]', { state: 'visible' });
  const after = await page.evaluate(async () => (await fetch('/alldata')).status);
  check(after === 401, 'logged out: the cookie no longer reads');
});
