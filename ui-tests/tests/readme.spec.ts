import { expect, test } from '@jupyterlab/galata';

import { forEachTheme, openStep, shot } from './helpers';

/**
 * The screenshot in README.md (docs/screenshot.png): a cone search, three rows in the basket.
 * Written only with ESAP_README_SHOT=1 so that test runs leave the tree as it was.
 */
forEachTheme(theme => {
  test('README screenshot: search results and the basket', async ({ page }) => {
    // earlier specs leave items behind; the picture shows just these three
    expect((await page.request.delete('/esap-lab/api/basket/items')).ok()).toBe(true);
    await openStep(page, 'Search');
    await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
    await page.fill('.jp-EsapSearch input[name="radius"]', '0.3');
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapResults')).toBeVisible({ timeout: 30000 });
    const box = (await page.locator('.jp-EsapResults-grid').boundingBox())!;
    await page.mouse.click(box.x + 30, box.y + 24 + 11);
    await page.keyboard.down('Shift');
    await page.mouse.click(box.x + 30, box.y + 24 + 2 * 22 + 11);
    await page.keyboard.up('Shift');
    await page.click('.jp-EsapResults-addRows');
    await expect(page.locator('#esap-lab-basket .jp-EsapBasket-item')).toHaveCount(3);
    await openStep(page, 'Basket');
    await page.locator('.Toastify__close-button').first().click({ timeout: 2000 }).catch(() => undefined);
    await page.waitForTimeout(1500);
    if (process.env.ESAP_README_SHOT === '1' && theme === 'light') {
      await page.screenshot({ path: '../docs/screenshot.png' });
    }
    await shot(page, 'readme-search-basket');
  });
});
