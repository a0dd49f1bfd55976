/**
 * Plots, exports and previews, as a user goes: a cone search on the local archive plotted as a
 * colour-magnitude diagram, a clump boxed on the plot selects its rows in the grid, the rows
 * saved as FITS into the workspace (the file browser lists the file; its preview says why a
 * table is no image); an image of an image search previewed; and the plot of a 200,000-row
 * result timed from the click to its first paint.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';

import { forEachTheme, gridAction, openStep, selectGridRows, shot, sortGridDescending } from './helpers';

async function runSearch(page: Page, fill: () => Promise<void>): Promise<void> {
  await openStep(page, 'Search');
  await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
  await fill();
  await page.click('.jp-EsapSearch-run');
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', {
    timeout: 90000
  });
}

/** The alpha (0..255) of a preview image's top-left pixel: 0 where the page shows through. */
function cornerAlpha(preview: Locator): Promise<number> {
  return preview.locator('img.jp-EsapPreview-image').evaluate(async el => {
    const img = el as HTMLImageElement;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(1, 1, 1, 1).data[3];
  });
}

async function coneSearch(page: Page): Promise<void> {
  await runSearch(page, async () => {
    await page.fill('.jp-EsapSearch input[name="ra"]', '155');
    await page.fill('.jp-EsapSearch input[name="dec"]', '5');
    await page.fill('.jp-EsapSearch input[name="radius"]', '0.5');
  });
}

/** Drag a box over the plot, between fractions of its width and height. */
async function dragBox(page: Page, x0: number, y0: number, x1: number, y1: number): Promise<void> {
  const over = page.locator('.jp-EsapPlot .u-over');
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width * x0, box.y + box.height * y0);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * ((x0 + x1) / 2), box.y + box.height * ((y0 + y1) / 2), { steps: 4 });
  await page.mouse.move(box.x + box.width * x1, box.y + box.height * y1, { steps: 4 });
  await page.mouse.up();
}

async function journey(page: Page, theme: 'light' | 'dark'): Promise<void> {
  if (theme === 'dark') {
    await page.theme.setDarkTheme();
  }
  // 1. a cone search, plotted: its magnitudes allow a colour-magnitude diagram in one click
  await coneSearch(page);
  await gridAction(page, 'jp-EsapResults-plot');
  const plot = page.locator('.jp-EsapPlot');
  await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
  await plot.locator('select[name="kind"]').selectOption('histogram');
  await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
  // JupyterLab saves the workspace a second after a change: the reload (step 5) waits for the save
  // that holds the plot's last axes
  const saved = page.waitForRequest(
    r => {
      if (r.method() !== 'PUT' || !/\/api\/workspaces\//.test(r.url())) {
        return false;
      }
      const data = (r.postDataJSON()?.data ?? {}) as Record<string, { data?: { kind?: string; x?: string } }>;
      return Object.entries(data).some(
        ([k, v]) => k.startsWith('esap-lab-plots:') && v.data?.kind === 'scatter' && v.data?.x === 'bmag - vmag'
      );
    },
    { timeout: 60000 }
  );
  await plot.locator('.jp-EsapPlot-cmd').click();
  await expect(plot.locator('select[name="x"]')).toHaveValue('bmag - vmag');
  await expect(plot.locator('select[name="y"]')).toHaveValue('vmag');
  await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
  await expect(plot.locator('.jp-EsapPlot-status')).toContainText('rows');
  // a string column (source_id, served as text) is not offered as an axis
  await expect(plot.locator('select[name="x"] option[value="source_id"]')).toHaveCount(0);

  // 2. a clump boxed on the plot: its rows are selected in the grid
  await dragBox(page, 0.35, 0.3, 0.65, 0.7);
  await expect(plot).toHaveAttribute('data-selected', /^[1-9]\d*$/, { timeout: 30000 });
  const selected = Number(await plot.getAttribute('data-selected'));
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows')).toContainText(
    `Add ${selected} selected`
  );
  await expect(plot.locator('.jp-EsapPlot-status')).toContainText('selected in the grid');
  await page.waitForTimeout(300); // let the grid repaint its selection
  await shot(page, `plots-cmd-selection-${theme}`);

  // 3. the selected rows exported as FITS into the workspace
  await gridAction(page, 'jp-EsapResults-export');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  await dialog.locator('select[name="format"]').selectOption('fits');
  await expect(dialog.locator('select[name="rows"]')).toHaveValue('selected');
  await dialog.locator('select[name="destination"]').selectOption('save');
  const path = dialog.locator('input[name="path"]');
  const folder = (await path.inputValue()).replace(/[^/]*$/, '');
  const name = `clump-${theme}-${Date.now()}.fits`;
  await path.fill(folder + name);
  await shot(page, `plots-export-dialog-${theme}`);
  await dialog.locator('button', { hasText: 'Export' }).click();
  await expect(page.locator('.Toastify__toast', { hasText: `Saved ${selected} rows as` })).toBeVisible({
    timeout: 30000
  });
  await page.sidebar.openTab('filebrowser');
  const file = page.locator('.jp-DirListing-item', { hasText: name });
  await expect(file).toBeVisible({ timeout: 20000 });

  // rows selected in the grid are highlighted on the plot (the other way round from step 2)
  await selectGridRows(page, 0, 4);
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows')).toContainText('Add 5 selected');
  await expect(plot.locator('.jp-EsapPlot-status')).toContainText('5 rows selected in the grid', { timeout: 10000 });
  await expect(plot).toHaveAttribute('data-highlighted', /^[1-5]$/, { timeout: 10000 });
  await shot(page, `plots-grid-selection-${theme}`);

  // 4. the file browser's "ESAP: Preview" on it says why a table is no image
  await file.click({ button: 'right' });
  await page.locator('.lm-Menu-item', { hasText: 'ESAP: Preview' }).click();
  await expect(page.locator('.jp-EsapPreview-error')).toContainText('no image', { timeout: 30000 });
  await shot(page, `plots-export-saved-${theme}`);
  if (theme === 'dark') {
    await page.theme.setLightTheme();
    return;
  }
  // 5. after a reload the plot comes back beside its grid, with its axes
  await saved;
  await page.reload({ waitForIsReady: false });
  const restored = page.locator('.jp-EsapPlot');
  await expect(restored).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
  await expect(restored.locator('select[name="x"]')).toHaveValue('bmag - vmag');
}

test.describe('ESAP plots, exports and previews', () => {
  test.setTimeout(240000);

  test('cone -> colour-magnitude diagram -> box a clump -> rows selected -> FITS in the workspace', async ({
    page
  }) => {
    await journey(page, 'light');
  });

  test('the same journey in the dark theme', async ({ page }) => {
    await journey(page, 'dark');
  });

  test('an image of an image search is previewed (zscale, then asinh)', async ({ page }) => {
    await runSearch(page, async () => {
      await page.click('.jp-EsapSearch-mode-sia');
      await page.fill('.jp-EsapSearch input[name="ra"]', '155');
      await page.fill('.jp-EsapSearch input[name="dec"]', '5');
      await page.fill('.jp-EsapSearch input[name="size"]', '0.4');
    });
    await selectGridRows(page, 0);
    await gridAction(page, 'jp-EsapResults-preview');
    const preview = page.locator('.jp-EsapPreview');
    await expect(preview).toHaveAttribute('data-state', 'shown', { timeout: 60000 });
    await expect(preview).toHaveAttribute('data-kind', 'image');
    await expect(preview.locator('img.jp-EsapPreview-image')).toBeVisible();
    await expect
      .poll(() => preview.locator('img').evaluate(i => (i as HTMLImageElement).naturalWidth), { timeout: 10000 })
      .toBeGreaterThan(100);
    // around the image the page shows through (a transparent PNG), in either theme
    expect(await cornerAlpha(preview)).toBe(0);
    await expect(preview).toHaveAttribute('data-theme', 'light');
    await shot(page, 'plots-preview-image-zscale');
    await preview.locator('select[name="stretch"]').selectOption('asinh');
    await expect(preview.locator('.jp-EsapSection-hint')).toContainText('asinh', { timeout: 30000 });
    await page.theme.setDarkTheme();
    // rendered again on the server for the dark theme: light labels and ticks
    await expect(preview).toHaveAttribute('data-theme', 'dark', { timeout: 60000 });
    await expect(preview).toHaveAttribute('data-state', 'shown', { timeout: 60000 });
    expect(await cornerAlpha(preview)).toBe(0);
    await shot(page, 'plots-preview-image-asinh-dark');
    await page.theme.setLightTheme();

    // thumbnails of the rows above the grid; a click selects the row and opens its preview
    await gridAction(page, 'jp-EsapResults-thumbnails');
    const tiles = page.locator('.jp-EsapResults:visible .jp-EsapThumbs-tile');
    await expect(tiles.first()).toHaveClass(/jp-mod-loaded/, { timeout: 60000 });
    await expect(tiles.nth(1)).toHaveClass(/jp-mod-loaded/, { timeout: 60000 });
    await tiles.nth(1).click();
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows')).toContainText('Add 1 selected');
    await expect(page.locator('.jp-EsapPreview[id$="-1"]')).toHaveAttribute('data-state', 'shown', { timeout: 60000 });
    await shot(page, 'plots-thumbnails');

    // a row in the basket: previewed, and its query's records exported, from its context menu
    await page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows').click();
    await openStep(page, 'Basket');
    // (the basket is shared by the specs of a run: the record of an image, not any record)
    const record = page
      .locator('.jp-EsapBasket-group[data-kind="record"] .jp-EsapBasket-item', { hasText: 'Synthetic image' })
      .first();
    await expect(record).toBeVisible({ timeout: 20000 });
    await record.click({ button: 'right' });
    await page.locator('.lm-Menu-item', { hasText: /^Preview$/ }).click();
    const itemPreview = page.locator('.jp-EsapPreview[id^="esap-preview-i-"]');
    await expect(itemPreview).toHaveAttribute('data-state', 'shown', { timeout: 60000 });
    await expect(itemPreview).toHaveAttribute('data-kind', 'image');
    await record.click({ button: 'right' });
    await page.locator('.lm-Menu-item', { hasText: 'Export Records of This Query' }).click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('select[name="format"]').selectOption('votable');
    const path = dialog.locator('input[name="path"]');
    await path.fill((await path.inputValue()).replace(/[^/]*$/, '') + `records-${Date.now()}.vot`);
    await dialog.locator('button', { hasText: 'Export' }).click();
    await expect(page.locator('.Toastify__toast', { hasText: /Saved \d+ rows as .*records-/ })).toBeVisible({
      timeout: 30000
    });
    await shot(page, 'plots-basket-preview-export');
  });

  test('a 200,000-row result: from the click on Plot to the first paint', async ({ page }) => {
    await runSearch(page, async () => {
      await page.click('.jp-EsapSearch-mode-tap');
      await page.fill(
        '.jp-EsapSearch textarea[name="adql"]',
        'SELECT source_id, ra, dec, vmag, bmag, rmag FROM esapdemo.sources'
      );
      await page.fill('.jp-EsapSearch input[name="maxrec"]', '200000');
    });
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('200');
    const count = (await page.locator('.jp-EsapResults:visible .jp-EsapResults-count').innerText()).replace(/\D/g, '');
    expect(Number(count)).toBe(200000);
    // the test's own clock: from the click until the page (polled every frame) has painted
    const painting = page.waitForFunction(
      () => document.querySelector('.jp-EsapPlot')?.getAttribute('data-painted') === 'true',
      null,
      { polling: 'raf', timeout: 30000 }
    );
    const started = Date.now();
    await gridAction(page, 'jp-EsapResults-plot');
    await painting;
    const seen = Date.now() - started;
    const plot = page.locator('.jp-EsapPlot');
    const painted = Number(await plot.getAttribute('data-paint-ms'));
    const kind = await plot.locator('select[name="kind"]').inputValue();
    console.log(`ESAP-MEASURE plot of 200000 rows (${kind}): click to first paint ${painted} ms in the page, ` +
      `${seen} ms seen by the test; target 1000 ms, ratio ${(painted / 1000).toFixed(2)}`);
    await shot(page, 'plots-200k-density');
    // a scatter of the same result (an even sample of 20,000 points)
    const again = Date.now();
    await plot.locator('select[name="kind"]').selectOption('scatter');
    await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
    const scatter = Number(await plot.getAttribute('data-paint-ms'));
    console.log(`ESAP-MEASURE scatter of 200000 rows (sample of 20000): change to first paint ${scatter} ms ` +
      `in the page, ${Date.now() - again} ms seen by the test; target 1000 ms, ratio ${(scatter / 1000).toFixed(2)}`);
    await shot(page, 'plots-200k-scatter');
    // the target is 1 s (printed above as a ratio); the assertion only guards against a plot that
    // waits for something it should not (a loaded 2-core CI machine takes a few times longer)
    expect(painted).toBeLessThan(5000);
    expect(scatter).toBeLessThan(5000);
  });
});

/**
 * A selection in a sorted grid names the rows the user sees, everywhere: the plot highlights
 * them, an export of the selection holds them (in the grid's order), and a box on the plot
 * selects its rows in the grid without undoing the sort.
 */
forEachTheme(theme => {
  test.describe('ESAP sorted grid', () => {
    test.setTimeout(240000);

    test('rows selected in a sorted grid are the same rows on the plot and in the export', async ({ page }, info) => {
      await coneSearch(page);
      const results = page.locator('.jp-EsapResults:visible');
      const shown = await sortGridDescending(page, 'vmag', 4); // _r, source_id, ra, dec, vmag

      // a plot of the result: ra against vmag
      await gridAction(page, 'jp-EsapResults-plot');
      const plot = page.locator('.jp-EsapPlot');
      await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
      await plot.locator('select[name="kind"]').selectOption('scatter');
      await plot.locator('select[name="x"]').selectOption('ra');
      await plot.locator('select[name="y"]').selectOption('vmag');
      await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });

      // rows 3-7 of the sorted grid: the plot highlights these five
      await selectGridRows(page, 2, 6);
      await expect(results.locator('.jp-EsapResults-addRows')).toContainText('Add 5 selected');
      await expect(plot.locator('.jp-EsapPlot-status')).toContainText('5 rows selected in the grid', { timeout: 10000 });
      await expect(plot).toHaveAttribute('data-highlighted', '5', { timeout: 10000 });
      await shot(page, 'plots-sorted-grid-selection');

      // the selection exported as CSV: the rows shown selected, in the grid's order
      await gridAction(page, 'jp-EsapResults-export');
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toBeVisible();
      await dialog.locator('select[name="format"]').selectOption('csv');
      await expect(dialog.locator('select[name="rows"]')).toHaveValue('selected');
      await dialog.locator('select[name="destination"]').selectOption('download');
      const download = page.waitForEvent('download');
      await dialog.locator('button', { hasText: 'Export' }).click();
      const file = info.outputPath('selection.csv');
      await (await download).saveAs(file);
      const lines = (await import('fs')).readFileSync(file, 'utf-8').trim().split(/\r?\n/);
      const cells = (line: string) => line.split(',').map(c => c.replace(/^"|"$/g, ''));
      const at = cells(lines[0]).indexOf('source_id');
      expect(at).toBeGreaterThanOrEqual(0);
      const ids = lines.slice(1).map(l => cells(l)[at]);
      expect(ids).toEqual(shown.slice(2, 7).map(r => String(r.source_id)));

      // a box on the plot selects its rows in the grid, which stays sorted; the plot highlights
      // each of them again from the grid's selection
      await dragBox(page, 0.3, 0.3, 0.7, 0.7);
      await expect(plot).toHaveAttribute('data-selected', /^[1-9]\d*$/, { timeout: 30000 });
      const selected = await plot.getAttribute('data-selected');
      await expect(results.locator('.jp-EsapResults-addRows')).toContainText(`Add ${selected} selected`);
      await expect(results.locator('.jp-EsapResults-bar')).toContainText('sorted by vmag (descending)');
      await expect(plot).toHaveAttribute('data-highlighted', selected!, { timeout: 10000 });
      await expect(plot.locator('.jp-EsapPlot-status')).toContainText(`${selected} rows in the box selected in the grid`);
      await page.waitForTimeout(300); // let the grid repaint its selection
      await shot(page, 'plots-sorted-box-selection');
    });

    test('rows selected in the grid are highlighted on a histogram and a density plot too', async ({ page }) => {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
      await coneSearch(page);
      const results = page.locator('.jp-EsapResults:visible');
      await gridAction(page, 'jp-EsapResults-plot');
      const plot = page.locator('.jp-EsapPlot');
      await expect(plot).toHaveAttribute('data-painted', 'true', { timeout: 30000 });
      await plot.locator('select[name="kind"]').selectOption('histogram');
      await plot.locator('select[name="x"]').selectOption('vmag');
      await expect(plot.locator('.jp-EsapPlot-status')).toContainText('rows', { timeout: 30000 });
      await selectGridRows(page, 0, 5);
      await expect(results.locator('.jp-EsapResults-addRows')).toContainText('Add 6 selected');
      // each selected row counted once in the accent histogram drawn over the whole one
      await expect(plot).toHaveAttribute('data-highlighted', '6', { timeout: 10000 });
      await shot(page, `plots-histogram-highlight-${theme}`);
      // the same rows as points over the density cells; and the colour of a CMD (a - b) works too
      await plot.locator('.jp-EsapPlot-cmd').click(); // x = bmag - vmag, y = vmag
      await expect(plot.locator('select[name="x"]')).toHaveValue('bmag - vmag');
      await plot.locator('select[name="kind"]').selectOption('density');
      await expect(plot.locator('.jp-EsapPlot-status')).toContainText('rows per cell', { timeout: 30000 });
      await expect(plot).toHaveAttribute('data-highlighted', '6', { timeout: 10000 });
      await shot(page, `plots-density-highlight-${theme}`);
      // nothing selected: nothing highlighted
      await selectGridRows(page, 2);
      await expect(plot).toHaveAttribute('data-highlighted', '1', { timeout: 10000 });
    });
  });
});
