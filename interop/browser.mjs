// What the browser tests share: their environment, checks that print what passed, and Debian's chromium
// launched through playwright-core (installed by playwright.sh into PW_DIR; it never downloads a browser).
import { createRequire } from 'node:module';
import path from 'node:path';

/** The values of these environment variables, all of which must be set. */
export function env(...names) {
  return names.map((k) => {
    if (!process.env[k]) throw new Error(`${k} is not set`);
    return process.env[k];
  });
}

/** Throws unless `cond`; prints what was checked. */
export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`  ok: ${what}`);
}

/** A headless chromium with a fresh profile in PROFILE_DIR. */
export async function launch(extraArgs = [], options = {}) {
  const [PW_DIR, PROFILE_DIR] = env('PW_DIR', 'PROFILE_DIR');
  const require = createRequire(path.join(PW_DIR, 'package.json'));
  const { chromium } = require('playwright-core');
  return chromium.launchPersistentContext(PROFILE_DIR, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      ...extraArgs],
    ...options,
  });
}

/** Runs the test `body`, closes the browser, prints the tally and exits non-zero on failure. */
export async function runTest(context, body) {
  let failed = 0;
  try {
    await body();
  } catch (e) {
    failed = 1;
    console.error(e);
  } finally {
    await context.close();
  }
  console.log(`${1 - failed} passed, ${failed} failed`);
  process.exit(failed);
}
