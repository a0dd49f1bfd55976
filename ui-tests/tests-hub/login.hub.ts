/**
 * The hub journey in Chromium, on the real JupyterHub of scripts/services/hub.sh: alice logs in
 * through the OpenID Connect provider's password form, lands in her JupyterLab with the ESAP
 * sidebar, runs a cone search on the local DaCHS and puts the query in her basket; bob, logged
 * in as himself, sees his own basket only and cannot open alice's server. Then alice's login
 * stops being renewable (her refresh token revoked at the provider, as when it expires): the next
 * refusal of her token (the local Rucio's) shows "Log in again", which takes her through the
 * provider back into her JupyterLab with a fresh login.
 */
import { expect, test } from '@playwright/test';
import type { Browser, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { openStep, shot } from '../tests/helpers';

const HUB = process.env.ESAP_TEST_HUB_URL || 'http://127.0.0.1:19300';
const rig = JSON.parse(fs.readFileSync(process.env.ESAP_TEST_HUB_RIG!, 'utf8'));
const IDP = `http://127.0.0.1:${rig.ports.idp}`;
/** A cone of this run only: its query is told apart from earlier runs' in the baskets. */
const RA = `155.00${Math.floor(Math.random() * 90) + 10}${Math.floor(Math.random() * 9) + 1}`; // no trailing 0

/** Log USER in through the provider's form from the hub's login page; -> their JupyterLab. */
async function logIn(browser: Browser, user: string, name: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: HUB, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // then the hub starts the server if needed, and JupyterLab opens with a fresh workspace
  // (?reset: the layout an earlier run left in the user's home does not matter)
  const lab = `/hub/spawn/${user}?next=${encodeURIComponent(`/user/${user}/lab?reset`)}`;
  await page.goto(`/hub/login?next=${encodeURIComponent(lab)}`);
  await page.locator('a', { hasText: /Sign in with/i }).click();
  await expect(page.locator('#username')).toBeVisible();
  expect(page.url().startsWith(IDP)).toBe(true);
  await page.fill('#username', user);
  await page.fill('#password', rig.users[user].password);
  await shot(page, `hub-${name}-login-form`);
  await page.click('#submit');
  await waitForLab(page, user);
  await shot(page, `hub-${name}-landed`);
  return page;
}

/** The hub spawns the server if needed (seconds on a loaded machine), then JupyterLab loads. */
async function waitForLab(page: Page, user: string): Promise<void> {
  await page.waitForURL(url => url.pathname.startsWith(`/user/${user}/lab`), { timeout: 180000 });
  await expect(page.locator('#jupyterlab-splash')).toHaveCount(0, { timeout: 120000 });
  await expect(page.locator('li[data-id="esap-lab-sidebar"]')).toBeVisible({ timeout: 60000 });
}

const basketItems = (page: Page) => page.locator('#esap-lab-basket .jp-EsapBasket-item');

test('alice logs in through the provider, searches, fills her basket; bob sees his own only', async ({
  browser
}) => {
  const alice = await logIn(browser, 'alice', 'alice');
  await openStep(alice, 'Search');
  await shot(alice, 'hub-alice-lab');
  const form = alice.locator('.jp-EsapSearch');
  await form.locator('select[name="archive"]').selectOption('local');
  await form.locator('input[name="ra"]').fill(RA);
  await form.locator('input[name="dec"]').fill('5');
  await form.locator('input[name="radius"]').fill('0.1');
  await alice.click('.jp-EsapSearch-run');
  await expect(alice.locator('.jp-EsapResults-count')).toContainText('rows', { timeout: 90000 });
  await shot(alice, 'hub-alice-search');
  await alice.click('.jp-EsapResults-addQuery');
  await openStep(alice, 'Basket');
  const mine = basketItems(alice).filter({ hasText: RA });
  await expect(mine).toHaveCount(1);
  await shot(alice, 'hub-alice-basket');

  const bob = await logIn(browser, 'bob', 'bob');
  await openStep(bob, 'Basket');
  await expect(bob.locator('#esap-lab-basket')).toBeVisible();
  await expect(basketItems(bob).filter({ hasText: RA })).toHaveCount(0);
  await shot(bob, 'hub-bob-basket');
  // alice's server is not bob's to open: the hub refuses him (its page, or an error status)
  const answer = await bob.goto(`/user/alice/lab`);
  expect(bob.url()).not.toMatch(/\/user\/alice\/lab/);
  expect([403, 404, 503]).toContain(answer?.status());
  await shot(bob, 'hub-bob-refused-at-alice');
  const direct = await bob.request.get(`/user/alice/esap-lab/api/basket/items`, { maxRedirects: 0 });
  expect(direct.status()).not.toBe(200);
  await bob.context().close();
  await alice.context().close();
});

test('a login that cannot be renewed offers "Log in again", which renews it', async ({ browser }) => {
  const alice = await logIn(browser, 'alice', 'alice-again');
  const home = execFileSync('getent', ['passwd', 'alice'], { encoding: 'utf8' }).split(':')[5];
  const errorFile = path.join(home, '.esap', 'access_token.error');
  // a fresh login: no "log in again" left from an earlier attempt
  await expect.poll(() => fs.existsSync(errorFile), { timeout: 60000, intervals: [2000] }).toBe(false);
  // as the hub would when the refresh token expires: the provider drops the login's grant
  const state = await (
    await alice.request.get(`/hub/api/users/alice`, {
      headers: { Authorization: `token ${rig.service_token}` }
    })
  ).json();
  const revoked = await alice.request.post(`${IDP}/token/revocation`, {
    form: {
      token: state.auth_state.refresh_token,
      token_type_hint: 'refresh_token',
      client_id: rig.client_id,
      client_secret: rig.client_secret
    }
  });
  expect(revoked.status()).toBe(200);
  // the access token lives a minute; then the hub cannot renew it and her server says so
  await expect.poll(() => fs.existsSync(errorFile), { timeout: 150000, intervals: [2000] }).toBe(true);

  // the DID form asks the local Rucio for its scopes with her login's token: refused
  await openStep(alice, 'Search');
  const form = alice.locator('.jp-EsapSearch');
  await form.locator('select[name="archive"]').selectOption('lake');
  await form.locator('.jp-EsapSearch-mode-did').click();
  const toast = alice.locator('.Toastify__toast', { hasText: 'Your login has expired' });
  await expect(toast).toBeVisible();
  await expect(toast).toContainText('could not be renewed: log in again');
  const again = toast.locator('button', { hasText: 'Log in again' });
  await expect(again).toBeVisible();
  await shot(alice, 'hub-alice-log-in-again');

  await again.click();
  // the hub's login page, then the provider (its session is alive: no password asked), back
  await alice.waitForURL(/\/hub\/login/);
  await alice.locator('a', { hasText: /Sign in with/i }).click();
  await waitForLab(alice, 'alice');
  await expect.poll(() => fs.existsSync(errorFile), { timeout: 60000, intervals: [2000] }).toBe(false);
  await shot(alice, 'hub-alice-logged-in-again');
  await alice.context().close();
});
