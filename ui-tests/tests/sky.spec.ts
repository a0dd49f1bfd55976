/**
 * Seeing a result on the sky and cutting out an image: a cone search, its sky view (Aladin
 * Lite over the demo images' HiPS, served by the Jupyter server), a click on a source selects
 * its row, rows selected in the grid are highlighted; then an image search and a SODA cutout
 * from a row's DataLink into the workspace. Light and dark screenshots.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { forEachTheme, gridAction, openStep, selectGridRows, shot, sortGridDescending, workspaceSaved } from './helpers';

async function search(page: Page, mode: 'cone' | 'sia', size: string): Promise<any[]> {
  await openStep(page, 'Search');
  const form = page.locator('.jp-EsapSearch');
  await expect(form.locator('select[name="archive"] option')).not.toHaveCount(0);
  await form.locator('select[name="archive"]').selectOption('local');
  await form.locator(`.jp-EsapSearch-mode-${mode}`).click();
  await form.locator('input[name="ra"]').fill('155');
  await form.locator('input[name="dec"]').fill('5');
  await form.locator(`input[name="${mode === 'cone' ? 'radius' : 'size'}"]`).fill(size);
  const rows = page.waitForResponse(r => /\/queries\/[^/]+\/rows\?/.test(r.url()) && r.status() === 200, {
    timeout: 60000
  });
  await form.locator('.jp-EsapSearch-run').click();
  const page1 = await (await rows).json();
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', { timeout: 30000 });
  return page1.rows;
}

test.describe('ESAP sky view and DataLink', () => {
  test('cone → sky view → click a source selects its row → a DataLink cutout into the workspace', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(300000);
    await search(page, 'cone', '0.1');
    const results = page.locator('.jp-EsapResults:visible');
    await gridAction(page, 'jp-EsapResults-sky');

    const view = page.locator('.jp-EsapSky-view');
    await expect(view).toHaveAttribute('data-sources', /^[1-9]\d*$/, { timeout: 120000 });
    await expect(page.locator('.jp-EsapSky-status')).toContainText('sources');
    await expect(page.locator('.jp-EsapSky-survey')).toHaveValue('demo');
    await page.waitForTimeout(1500); // tiles fade in
    await shot(page, 'sky-view-light');

    // a click on a source selects its row in the grid
    const box = (await view.boundingBox())!;
    const xy = (await view.evaluate((el: any) => el.esapSkyPixel(3))) as [number, number];
    expect(xy).not.toBeNull();
    await page.mouse.click(box.x + xy[0], box.y + xy[1]);
    await expect(results.locator('.jp-EsapResults-addRows')).toContainText('Add 1 selected', { timeout: 10000 });
    await expect(view).toHaveAttribute('data-selected', '1');
    await shot(page, 'sky-source-clicked');

    // rows selected in the grid are highlighted on the sky
    await page.locator('.jp-EsapResults-grid:visible').scrollIntoViewIfNeeded();
    await selectGridRows(page, 0, 2);
    await expect(view).toHaveAttribute('data-selected', '3');
    await expect(page.locator('.jp-EsapSky-status')).toContainText('3 selected');

    await page.theme.setDarkTheme();
    await page.waitForTimeout(1000);
    await shot(page, 'sky-view-dark');
    await page.theme.setLightTheme();

    // an image search; the links of one of its rows (a demo image with DataLink)
    const rows = await search(page, 'sia', '0.4');
    const i = rows.findIndex(r => String(r.obs_publisher_did ?? '').includes('esapimg'));
    expect(i).toBeGreaterThanOrEqual(0);
    await selectGridRows(page, i);
    await gridAction(page, 'jp-EsapResults-datalink');
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog.locator('.jp-EsapLinks-row[data-semantics="#this"]')).toBeVisible({ timeout: 30000 });
    await expect(dialog.locator('.jp-EsapLinks-row[data-semantics="#preview"]')).toBeVisible();
    await dialog.locator('input[name="radius"]').fill('300');
    const file = `cutout-${Date.now()}.fits`;
    const name = `${tmpPath}/${file}`; // the folder the file browser shows
    await dialog.locator('input[name="path"]').fill(name);
    await shot(page, 'sky-datalink-light');
    await page.theme.setDarkTheme();
    await page.waitForTimeout(800); // the dialog restyles after the page
    await shot(page, 'sky-datalink-dark');
    await page.theme.setLightTheme();
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    const done = page.locator('.Toastify__toast', { hasText: /Cutout saved as|Cutout failed/ });
    await expect(done).toBeVisible({ timeout: 150000 });
    await expect(done).toContainText(`Cutout saved as ${name}`);
    // the file is in the workspace: the file browser lists it
    await page.locator('li[data-id="filebrowser"]').click();
    await page.getByRole('button', { name: 'Refresh the file browser.' }).click();
    await expect(page.locator('.jp-DirListing-item', { hasText: file })).toBeVisible({ timeout: 15000 });
    await shot(page, 'sky-cutout-saved');
  });

  test('the sky view comes back after a reload, beside its grid', async ({ page }) => {
    test.setTimeout(240000);
    await search(page, 'cone', '0.1');
    const saved = workspaceSaved(page, keys => keys.some(k => k.startsWith('esap-lab-sky:')));
    await gridAction(page, 'jp-EsapResults-sky');
    const view = page.locator('.jp-EsapSky-view');
    await expect(view).toHaveAttribute('data-sources', /^[1-9]\d*$/, { timeout: 120000 });
    const sources = await view.getAttribute('data-sources');
    await saved;
    await page.reload({ waitForIsReady: false });
    await expect(view).toHaveAttribute('data-sources', sources!, { timeout: 120000 });
    await expect(page.locator('.lm-TabBar-tab', { hasText: 'Sky:' })).toHaveCount(1);
    // still tied to its grid (restored beside it): rows selected there are highlighted
    await selectGridRows(page, 0, 1);
    await expect(view).toHaveAttribute('data-selected', '2', { timeout: 10000 });
    await shot(page, 'sky-view-restored');
  });

  test('selected rows go to a SAMP tool, and the table it sends back lands in the basket', async ({ page }) => {
    test.setTimeout(120000);
    await search(page, 'cone', '0.1');
    await selectGridRows(page, 0, 4);
    const results = page.locator('.jp-EsapResults:visible');
    await expect(results.locator('.jp-EsapResults-addRows')).toContainText('Add 5 selected');
    await gridAction(page, 'jp-EsapResults-samp');
    // the hub of the test server (ui-tests/samp_standin.py) and its stand-in for TOPCAT
    await expect(page.locator('.Toastify__toast', { hasText: 'Sent 5 rows to' })).toContainText('topcat-standin', {
      timeout: 30000
    });
    // the stand-in read the signed link and sends the table back: it becomes a table and a basket item
    const back = page.locator('.Toastify__toast', { hasText: 'sent a table' });
    await expect(back).toContainText('in the basket', { timeout: 30000 });
    await expect(back).toContainText('(5 rows)');
    await shot(page, 'sky-samp-round-trip');
    // it is one of my tables now (Tables step)
    const table = /as (samp_\w+)/.exec(await back.innerText())![1]; // _2, _3 ... on a retry
    await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Tables' }).click();
    await expect(page.getByText(table, { exact: true }).first()).toBeVisible({ timeout: 15000 });
  });
});

/** A selection in a sorted grid goes to SAMP and DataLink as the rows the grid shows (in its order). */
forEachTheme(() => {
  test.describe('ESAP sorted grid: SAMP and DataLink', () => {
    test('rows selected in a grid sorted by vmag are the rows the SAMP tool gets', async ({ page }) => {
      test.setTimeout(150000);
      await search(page, 'cone', '0.1');
      const results = page.locator('.jp-EsapResults:visible');
      const shown = (await sortGridDescending(page, 'vmag', 4)).slice(1, 4); // _r, source_id, ra, dec, vmag
      await selectGridRows(page, 1, 3);
      await expect(results.locator('.jp-EsapResults-addRows')).toContainText('Add 3 selected');
      await gridAction(page, 'jp-EsapResults-samp');
      await expect(page.locator('.Toastify__toast', { hasText: 'Sent 3 rows to' })).toContainText('topcat-standin', {
        timeout: 30000
      });
      // the stand-in sends the table back as it got it: one of my tables, opened from the Tables step
      const back = page.locator('.Toastify__toast', { hasText: 'sent a table' });
      await expect(back).toContainText('(3 rows)', { timeout: 30000 });
      const table = /as (samp_\w+)/.exec(await back.innerText())![1];
      await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Tables' }).click();
      const rows = page.waitForResponse(r => /\/tables\/[^/]+\/rows\?/.test(r.url()) && r.status() === 200, {
        timeout: 30000
      });
      await page.locator('.jp-EsapTables-name', { hasText: table }).first().click();
      const got = (await (await rows).json()).rows as Record<string, unknown>[];
      expect(got.map(r => String(r.source_id))).toEqual(shown.map(r => String(r.source_id)));
      await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toHaveText('3 rows');
      await shot(page, 'sky-samp-sorted-selection');
    });

    test('DataLink of a row of a sorted grid lists the links of that row', async ({ page }) => {
      test.setTimeout(150000);
      const stored = await search(page, 'sia', '0.4');
      const results = page.locator('.jp-EsapResults:visible');
      await expect(results.locator('.jp-EsapResults-count')).toHaveText(`${stored.length} rows`);
      // sorted by obs_collection, descending: the demo images with DataLink (esapdemo-dl) first
      const column = Object.keys(stored[0]).indexOf('obs_collection');
      expect(column).toBeGreaterThanOrEqual(0);
      const sorted = await sortGridDescending(page, 'obs_collection', column);
      const shown = sorted.findIndex(r => String(r.obs_publisher_did ?? '').includes('esapimg'));
      const did = sorted[shown].obs_publisher_did;
      const at = stored.findIndex(r => r.obs_publisher_did === did); // its place in the archive's order
      expect(at).not.toBe(shown); // the sort moved it
      const asked = page.waitForResponse(r => /\/rows\/\d+\/links/.test(r.url()), { timeout: 30000 });
      await selectGridRows(page, shown);
      await gridAction(page, 'jp-EsapResults-datalink');
      const links = await asked;
      expect(links.url()).toContain(`/rows/${at}/links`);
      // the links are the image's (its file named in them), shown as the row the grid shows
      expect(JSON.stringify(await links.json())).toContain(String(did).replace(/^.*\//, '')); // e.g. field0.fits
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('.jp-EsapLinks-row[data-semantics="#this"]')).toBeVisible({ timeout: 30000 });
      await expect(dialog).toContainText(`DataLink of row ${shown + 1}`);
      await shot(page, 'sky-datalink-sorted');
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
    });
  });
});

test.describe('ESAP views closed and opened again', () => {
  forEachTheme(theme => {
    test(`a closed sky view and plot open again; one of my tables on the sky (${theme})`, async ({ page }) => {
      test.setTimeout(300000);
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
      await search(page, 'cone', '0.1');
      const sky = page.locator('.jp-EsapSky:visible .jp-EsapSky-view');
      const closeTab = async (prefix: string) => {
        const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: prefix }).first();
        await tab.locator('.lm-TabBar-tabCloseIcon').click();
        await expect(tab).toHaveCount(0);
      };
      for (let round = 0; round < 2; round++) {
        // the second time after its tab was closed: a closed view is gone, not merely hidden
        await gridAction(page, 'jp-EsapResults-sky');
        await expect(sky).toHaveAttribute('data-sources', /^[1-9]\d*$/, { timeout: 120000 });
        await closeTab('Sky:');
        await expect(page.locator('.jp-EsapSky')).toHaveCount(0);
        await gridAction(page, 'jp-EsapResults-plot');
        await expect(page.locator('.jp-EsapPlot:visible .jp-EsapPlot-status')).toContainText('rows', { timeout: 30000 });
        await closeTab('Plot');
        await expect(page.locator('.jp-EsapPlot')).toHaveCount(0);
      }

      // the result saved as one of my tables, opened from the Tables step, on the sky
      const name = `sky_${theme}_${Date.now() % 100000}`;
      await gridAction(page, 'jp-EsapResults-saveTable');
      const dialog = page.locator('.jp-Dialog');
      await dialog.locator('[name="name"]').fill(name);
      await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
      await expect(dialog).toHaveCount(0);
      await openStep(page, 'Search');
      await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Tables' }).click();
      await page.locator('.jp-EsapTables-item', { hasText: name }).locator('.jp-EsapTables-name').click();
      await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', { timeout: 30000 });
      await gridAction(page, 'jp-EsapResults-sky');
      await expect(sky).toHaveAttribute('data-sources', /^[1-9]\d*$/, { timeout: 120000 });
      await expect(page.locator('.jp-EsapSky:visible .jp-EsapSky-status')).toContainText('sources');
      await page.waitForTimeout(1000); // tiles fade in
      await shot(page, `sky-my-table-${theme}`);
    });
  });
});
