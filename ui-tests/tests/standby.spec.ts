import { expect, test } from '@jupyterlab/galata';

import { forEachTheme, openStep } from './helpers';

/** The Basket, Staging and Jobs lists poll the server only while the ESAP sidebar is shown. */
forEachTheme(() => {
  test('no polling while the sidebar is hidden; polling again once it shows', async ({ page }) => {
    const polls: string[] = [];
    page.on('request', r => {
      if (r.method() === 'GET' && /\/esap-lab\/api\/(basket|staging|jobs)(\?|$)/.test(r.url())) {
        polls.push(r.url());
      }
    });
    await openStep(page, 'Basket');
    await page.waitForTimeout(5000);
    expect(polls.length).toBeGreaterThan(0); // shown: it polls (every 2 s by default)

    // hide the sidebar (a click on its tab collapses it)
    await page.click('li[data-id="esap-lab-sidebar"]');
    await expect(page.locator('#esap-lab-sidebar')).toBeHidden();
    await page.waitForTimeout(1000); // a read that was under way ends
    polls.length = 0;
    await page.waitForTimeout(6000);
    expect(polls).toEqual([]);

    await page.click('li[data-id="esap-lab-sidebar"]');
    await expect(page.locator('#esap-lab-basket')).toBeVisible();
    await expect.poll(() => polls.length, { timeout: 5000 }).toBeGreaterThan(0);
  });
});
