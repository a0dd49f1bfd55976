import { expect, test } from '@jupyterlab/galata';

import { coneSearch, forEachTheme, openStep, selectGridRows, shot, sortGridDescending, workspaceSaved } from './helpers';

/**
 * Main-area work survives a reload: result grids and a DID's files come back (WidgetTracker and
 * the layout restorer), with short, distinct tab titles and the archive in the tooltip.
 */
const RUCIO = process.env.ESAP_TEST_RUCIO_HOST;

forEachTheme(() => {
  test('result grids and DID files are restored after a reload, with short titles', async ({ page }) => {
    test.skip(!RUCIO, 'no Rucio server (scripts/services/rucio.sh start; eval its env)');
    await openStep(page, 'Search');
    const form = page.locator('.jp-EsapSearch');
    await expect(form.locator('select[name="archive"] option')).not.toHaveCount(0);
    await form.locator('select[name="archive"]').selectOption('local');
    await form.locator('.jp-EsapSearch-mode-cone').click();
    await form.locator('input[name="ra"]').fill('155');
    await form.locator('input[name="dec"]').fill('5');
    for (const radius of ['0.1', '0.2']) {
      await form.locator('input[name="radius"]').fill(radius);
      await form.locator('.jp-EsapSearch-run').click();
      await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: `cone 155, 5 r=${radius}°` })).toBeVisible({
        timeout: 30000
      });
    }
    // a DID of the basket, its files in the main area
    await form.locator('select[name="archive"]').selectOption('lake');
    await form.locator('input[name="scope"]').fill('lake');
    await form.locator('input[name="name"]').fill('demo.run7');
    await form.locator('select[name="didtype"]').selectOption('dataset');
    await form.locator('.jp-EsapSearch-run').click();
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toHaveText('1 row', { timeout: 30000 });
    await selectGridRows(page, 0);
    await page.click('.jp-EsapResults:visible .jp-EsapResults-addRows');
    await openStep(page, 'Basket');
    const item = page.locator('#esap-lab-basket .jp-EsapBasket-item', { hasText: 'lake:demo.run7' });
    // JupyterLab saves the workspace about a second after a change: the reload waits for the save
    // that holds the three grids and the DID's files (else the last tabs opened may be lost)
    const saved = workspaceSaved(
      page,
      keys =>
        keys.filter(k => k.startsWith('esap-lab-results:')).length >= 3 &&
        keys.some(k => k.startsWith('esap-lab-did-files:'))
    );
    await item.click({ button: 'right' });
    await page.locator('.lm-Menu-itemLabel', { hasText: 'Show Files in Rucio' }).click();
    await expect(page.locator('.jp-EsapStaging-contents:visible tbody tr')).toHaveCount(5, { timeout: 20000 });

    const tabs = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab');
    const titles = ['cone 155, 5 r=0.1°', 'cone 155, 5 r=0.2°', 'DIDs lake:demo.run7', 'lake:demo.run7'];
    for (const title of titles) {
      await expect(tabs.filter({ hasText: title }).first()).toBeVisible();
    }
    // the archive is in the tooltip, not in the title
    await expect(tabs.filter({ hasText: 'cone 155, 5 r=0.1°' })).toHaveAttribute('title', /Local demo archive/);
    await shot(page, 'restore-before-reload');
    await saved;

    await page.reload({ waitForIsReady: false });
    await expect(page.locator('li[data-id="esap-lab-sidebar"]')).toBeVisible({ timeout: 30000 });
    for (const title of titles) {
      await expect(tabs.filter({ hasText: title }).first()).toBeVisible({ timeout: 30000 });
    }
    // the DID's files are read again
    await tabs.locator('.lm-TabBar-tabLabel').getByText('lake:demo.run7', { exact: true }).click();
    await expect(page.locator('.jp-EsapStaging-contents:visible tbody tr')).toHaveCount(5, { timeout: 20000 });
    await tabs.filter({ hasText: 'cone 155, 5 r=0.2°' }).click();
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows');
    await shot(page, 'restore-after-reload');
  });
});

forEachTheme(() => {
  test('a sorted grid comes back sorted after a reload', async ({ page }) => {
    await coneSearch(page, 155, 5, 0.15);
    // the workspace saved with the grid sorted by vmag, descending
    const saved = page.waitForRequest(
      r => r.method() === 'PUT' && /\/api\/workspaces\//.test(r.url()) &&
        /"sort":\s*"vmag",\s*"order":\s*"desc"/.test(r.postData() ?? ''),
      { timeout: 30000 }
    );
    await sortGridDescending(page, 'vmag', 4); // _r, source_id, ra, dec, vmag
    await saved;
    // the restored grid's first page, asked sorted (the listener starts with the new page)
    const first = new Promise<{ vmag: number }[]>(resolve => {
      page.on('response', async r => {
        if (/\/queries\/[^/]+\/rows\?/.test(r.url()) && r.url().includes('sort=vmag') && r.url().includes('order=desc')) {
          try {
            resolve((await r.json()).rows);
          } catch {
            // a response of the page before the reload: its body is gone
          }
        }
      });
    });
    await page.reload({ waitForIsReady: false });
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-bar')).toContainText(
      'sorted by vmag (descending)', { timeout: 30000 });
    const rows = await first;
    expect(rows.length).toBeGreaterThan(1);
    expect(rows[0].vmag).toBeGreaterThanOrEqual(rows[rows.length - 1].vmag);
    await shot(page, 'restore-sorted-grid');
  });
});
