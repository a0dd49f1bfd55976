import { expect, test } from '@jupyterlab/galata';

import { AA, expectReadable, gridCellContrast, openStep, selectGridRows, shot, textContrasts } from './helpers';

/**
 * Readable in both themes: the contrast of the text as rendered (WCAG AA, 4.5:1) in the ESAP
 * steps (chips, buttons, hints, errors), the result bar's buttons and the grid's cells. Colours come
 * from getComputedStyle of the real elements, the background from walking up to the first opaque
 * one (translucent layers composited); the grid is a canvas, so its cells are read as pixels.
 */
for (const theme of ['light', 'dark'] as const) {
  test(`text in steps, chips, buttons and grid cells reads at 4.5:1 (${theme})`, async ({ page }) => {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    // arrange from the UI: a cone search, a failed ADQL query, rows in the basket, an image staged
    await openStep(page, 'Search');
    await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
    await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
    await page.click('.jp-EsapSearch-mode-sia');
    await page.fill('.jp-EsapSearch input[name="size"]', '0.4');
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', { timeout: 30000 });
    await page.waitForTimeout(500);
    await selectGridRows(page, 0);
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-stage')).toBeEnabled();
    await page.click('.jp-EsapResults:visible .jp-EsapResults-stage');
    await expect(page.locator('#esap-lab-staging .jp-EsapStaging-transfer .jp-EsapChip').first()).toHaveText(
      'completed',
      { timeout: 60000 }
    );
    await openStep(page, 'Search');
    await page.click('.jp-EsapSearch-mode-cone');
    await page.fill('.jp-EsapSearch input[name="radius"]', '0.1');
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', { timeout: 30000 });
    await page.waitForTimeout(500);
    await selectGridRows(page, 0, 1);
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows')).toBeEnabled();
    await page.click('.jp-EsapResults:visible .jp-EsapResults-addRows');
    await page.click('.jp-EsapSearch-mode-tap');
    await page.fill('.jp-EsapSearch textarea[name="adql"]', 'SELECT nothing FROM nowhere');
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapSearch-error')).toBeVisible({ timeout: 20000 });
    await page.locator('.Toastify__close-button').first().click({ timeout: 2000 }).catch(() => undefined);
    await page.waitForTimeout(500);

    const steps = await textContrasts(page, '.jp-EsapSidebar-tabs');
    expect(steps.map(f => f.text)).toEqual(expect.arrayContaining(['Search', 'Basket', 'Staging', 'Jobs']));
    expectReadable(steps, 'step tabs');

    const search = await textContrasts(page, '#esap-lab-search');
    expect(search.some(f => f.where.includes('jp-EsapChip'))).toBe(true);
    expect(search.some(f => f.where.includes('jp-EsapSearch-run') || f.where.includes('jp-EsapSearch-mode'))).toBe(true);
    expect(search.some(f => f.where.includes('jp-EsapSearch-error'))).toBe(true);
    expectReadable(search, 'Search step');
    await shot(page, `contrast-search-${theme}`);

    const bar = await textContrasts(page, '.jp-EsapResults:not(.lm-mod-hidden) .jp-EsapResults-bar');
    expect(bar.some(f => f.where.includes('jp-EsapResults-addQuery'))).toBe(true);
    expectReadable(bar, 'result bar');
    for (const [row, column] of [
      [0, 1],
      [2, 2],
      [4, 3]
    ]) {
      expect(await gridCellContrast(page, row, column), `grid cell ${row},${column}`).toBeGreaterThanOrEqual(AA);
    }

    await openStep(page, 'Basket');
    const basket = await textContrasts(page, '#esap-lab-basket');
    expect(basket.some(f => f.where.includes('jp-EsapChip'))).toBe(true);
    expectReadable(basket, 'Basket step');
    await shot(page, `contrast-basket-${theme}`);

    await openStep(page, 'Staging');
    const staging = await textContrasts(page, '#esap-lab-staging');
    expect(staging.some(f => f.text === 'completed')).toBe(true);
    expectReadable(staging, 'Staging step');
    await shot(page, `contrast-staging-${theme}`);
    if (theme === 'dark') {
      await page.theme.setLightTheme();
    }
  });
}
