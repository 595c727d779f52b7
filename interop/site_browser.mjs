// Browser test of the nexsuj site: Debian's chromium driven by playwright-core signs up
// (reading the e-mailed code from the outbox), logs in, uploads a torrent, searches for it and
// downloads it, saving a screenshot of each page. Run by site_browser.sh, which starts
// `nexsuj serve` and passes: BASE (site URL), OUTBOX (mail dir), TORRENT (a .torrent to upload),
// SHOTS (screenshot dir), PW_DIR (where playwright-core is installed), PROFILE_DIR (a fresh
// --user-data-dir).
import fs from 'node:fs';
import path from 'node:path';
import { env, check, launch, runTest } from './browser.mjs';

const [BASE, OUTBOX, TORRENT, SHOTS] = env('BASE', 'OUTBOX', 'TORRENT', 'SHOTS');

const nick = 'browser' + Math.floor(Math.random() * 1e6);
const email = `${nick}@example.org`;
const password = 'Browser-pass1';
const title = 'Browser test upload';

function mailedCode() {
  const files = fs.readdirSync(OUTBOX).map((f) => path.join(OUTBOX, f));
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (text.includes(`To: ${email}`)) return text.split('sign-up code: ')[1].slice(0, 6);
  }
  throw new Error(`no mail to ${email} in ${OUTBOX}`);
}

const context = await launch([], { acceptDownloads: true });
await runTest(context, async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1200, height: 800 });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  // Sign up: ask for a code, read it from the outbox, create the account.
  await page.goto(`${BASE}/signup`);
  await page.fill('#code-email', email);
  await page.click('#send-code');
  await page.waitForSelector('#notice');
  check((await page.textContent('#notice')).includes(email), 'the code was sent');
  await page.fill('#nick', nick);
  await page.fill('#email', email);
  await page.fill('#pwd', password);
  await page.selectOption('#sex', '2');
  await page.fill('#code', mailedCode());
  await shot('1-signup');
  await page.click('#create');
  await page.waitForURL(/\/login\?created=1$/);
  check((await page.textContent('#notice')).includes('ready'), 'account created, login page shown');

  // Log in.
  await page.fill('#email', email);
  await page.fill('#pwd', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${BASE}/`);
  check((await page.textContent('header')).includes(nick), 'logged in: the nick is in the header');
  await shot('2-logged-in');

  // Upload.
  await page.goto(`${BASE}/upload`);
  await page.setInputFiles('#torrent', TORRENT);
  await page.fill('#title', title);
  await page.selectOption('#type', 'software');
  await page.fill('#labels', 'browser, playwright');
  await page.fill('#description', 'Uploaded by the browser test.\nSecond line.');
  await shot('3-upload-form');
  await page.click('#upload');
  await page.waitForURL(/\/torrent\/\d+$/);
  const infoHash = (await page.textContent('#info-hash')).trim();
  check(/^[0-9a-f]{40}$/.test(infoHash), `uploaded, detail page shows info-hash ${infoHash}`);
  await shot('4-detail');

  // Search.
  await page.goto(`${BASE}/`);
  await page.fill('#q', 'playwright');
  await page.click('#search');
  await page.waitForURL(/q=playwright/);
  check((await page.textContent('#torrents')).includes(title), 'search by label finds the torrent');
  await page.fill('#q', 'no-such-thing-here');
  await page.click('#search');
  await page.waitForURL(/q=no-such-thing-here/);
  check((await page.textContent('#count')).startsWith('0 torrents'), 'a search without matches says so');
  await page.goto(`${BASE}/?q=playwright`);
  await shot('5-search');

  // Download from the detail page.
  await page.click(`#torrents a:has-text("${title}")`);
  await page.waitForURL(/\/torrent\/\d+$/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = path.join(SHOTS, 'downloaded.torrent');
  await download.saveAs(saved);
  const bytes = fs.readFileSync(saved).toString('latin1');
  check(download.suggestedFilename().endsWith('.torrent'), `download named ${download.suggestedFilename()}`);
  check(bytes.startsWith('d8:announce') && bytes.includes('/announce?auth_key='), 'the download carries a personal announce URL');

  // Profile.
  await page.click('header nav a:has-text("Profile")');
  await page.waitForSelector('#passkey');
  check(bytes.includes((await page.textContent('#passkey')).trim()), 'the passkey on the profile is the one in the torrent');
  await shot('6-profile');
});
