/**
 * Playwright configuration of the hub journey (tests-hub/*.hub.ts): Debian's Chromium against the real
 * JupyterHub of scripts/services/hub.sh (already running: ESAP_TEST_HUB_URL, ESAP_TEST_HUB_RIG),
 * logging in through its OpenID Connect provider's form. No server of its own.
 *   ./run.sh --config hub.config.js
 */
const base = require('./playwright.config.js');

module.exports = {
  testDir: './tests-hub',
  // *.hub.ts: not *.spec.ts, so the Galata run (playwright.config.js) leaves them alone
  testMatch: '**/*.hub.ts',
  timeout: 240000,
  expect: { timeout: 30000 },
  retries: 1,
  workers: 1,
  reporter: [['list']],
  use: {
    ...base.use,
    screenshot: 'only-on-failure',
    baseURL: process.env.ESAP_TEST_HUB_URL || 'http://127.0.0.1:19300'
  }
};
