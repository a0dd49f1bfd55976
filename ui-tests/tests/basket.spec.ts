import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { addGridRowsToBasket, coneSearch, emptyBasket, forEachTheme, openStep, selectGridRows, shot, Step } from './helpers';

/** Show the ESAP sidebar at the named step. */
async function showSection(page: Page, name: string): Promise<void> {
  await openStep(page, name as Step);
}

async function openBasket(page: Page): Promise<void> {
  await showSection(page, 'Basket');
  await expect(page.locator('#esap-lab-basket')).toBeVisible();
}

const items = (page: Page) => page.locator('#esap-lab-basket .jp-EsapBasket-item');

forEachTheme(theme => {
  test.describe('ESAP basket', () => {
    // every test starts from an empty basket, emptied as a user would: Clear, then confirm
    test.beforeEach(async ({ page }) => {
      await emptyBasket(page);
    });

    test('rows selected in the grid go to the basket and are still there after a reload', async ({
      page
    }) => {
      // a small cone search; rows 1-3 selected by their row headers (click, then shift-click)
      await coneSearch(page, 155, 5, 0.1);
      await selectGridRows(page, 0, 2);
      await expect(page.locator('.jp-EsapResults-addRows')).toContainText('3');
      await page.click('.jp-EsapResults-addRows');
      await page.click('.jp-EsapResults-addQuery');

      await openBasket(page);
      await expect(items(page)).toHaveCount(4);
      await expect(page.locator('.jp-EsapBasket-group[data-kind="record"] .jp-EsapBasket-item')).toHaveCount(3);
      await expect(page.locator('.jp-EsapBasket-group[data-kind="query"] .jp-EsapBasket-item')).toHaveCount(1);
      await expect(page.locator('li[data-id="esap-lab-sidebar"]')).toHaveAttribute('data-esap-badge', '4');

      // adding the same rows again keeps one of each
      await page.click('.jp-EsapResults-addRows');
      await expect(page.locator('.jp-Notification-Toast-success', { hasText: '3 were there already' })).toBeVisible();
      await expect(items(page)).toHaveCount(4);
      await page.locator('#esap-lab-basket .jp-EsapBasket-item input[type="checkbox"]').first().check();
      await shot(page, 'basket-section');
      // the count is a small pill in the tab's corner: the icon stays visible beside it
      const tab = page.locator('li[data-id="esap-lab-sidebar"]');
      const badge = await tab.evaluate(el => {
        const s = getComputedStyle(el, '::after');
        const icon = el.querySelector('svg')!.getBoundingClientRect();
        return { content: s.content, width: parseFloat(s.width), height: parseFloat(s.height), icon: icon.width };
      });
      expect(badge.content).toBe('"4"');
      expect(badge.height).toBeLessThanOrEqual(14);
      expect(badge.width).toBeLessThanOrEqual(22);
      expect(badge.icon).toBeGreaterThan(0);
      await tab.screenshot({ path: `${process.env.ESAP_SHOTS || 'test-results/screenshots'}/basket-badge-${theme}.png` });

      await page.reload({ waitForIsReady: false });
      await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
      await openBasket(page);
      await expect(items(page)).toHaveCount(4);
      await shot(page, 'basket-after-reload');
    });

    test('the palette names the ESAP commands "ESAP: ..." with clearing the basket last', async ({ page }) => {
      await page.keyboard.press('Control+Shift+C');
      // fill, not type: keys typed before the palette has focus are lost, and "AP" ranks differently
      const input = page.locator('.lm-CommandPalette-input');
      await expect(input).toBeFocused();
      await input.fill('ESAP');
      const labels = page.locator('.lm-CommandPalette-content .lm-CommandPalette-itemLabel');
      await expect(labels.first()).toBeVisible();
      // the palette re-sorts on the next animation frame after the last key
      const read = async () => (await labels.allTextContents()).map(x => x.trim());
      await expect.poll(async () => (await read()).filter(x => x.startsWith('ESAP')).pop()).toBe('ESAP: Clear the basket…');
      const all = await read();
      const esap = all.filter(x => x.startsWith('ESAP'));
      expect(esap.length).toBeGreaterThan(8);
      expect(esap.every(x => x.startsWith('ESAP: '))).toBe(true);
      expect(all[0]).not.toContain('Clear');
      expect(esap[esap.length - 1]).toBe('ESAP: Clear the basket…');
      await shot(page, 'palette-esap');
      await page.keyboard.press('Escape');
    });

    test('changes made elsewhere appear without a reload; clear asks first', async ({ page }) => {
      await openBasket(page);
      await expect(items(page)).toHaveCount(0);
      await expect(page.locator('#esap-lab-basket')).toContainText('The basket is empty');

      // as a kernel would: a notebook cell adds two items (the basket step stays open beside it)
      await page.notebook.createNew('elsewhere.ipynb');
      await page.notebook.setCell(
        0,
        'code',
        [
          'from esap_lab import basket',
          "basket.add(kind='file', url='https://example.org/data/elsewhere.fits', size=2880)",
          "basket.add(kind='did', scope='user.alice', name='run7.h5', did_type='file')",
          "print('added')"
        ].join('\n')
      );
      await page.notebook.runCell(0);
      await expect(page.locator('.jp-Notebook .jp-Cell').first().locator('.jp-OutputArea-output')).toContainText(
        'added',
        { timeout: 60000 }
      );
      await openBasket(page);
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });
      await expect(page.locator('#esap-lab-basket')).toContainText('elsewhere.fits');

      // the context menu of an item
      await page.locator('#esap-lab-basket .jp-EsapBasket-item', { hasText: 'elsewhere.fits' }).click({
        button: 'right'
      });
      await expect(page.locator('.lm-Menu')).toContainText('Insert Code Cell Loading This Item');
      await page.locator('.lm-Menu-item', { hasText: 'Remove from Basket' }).click();
      await expect(items(page)).toHaveCount(1);
      // added again by running the cell again
      await page.notebook.runCell(0);
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });

      await page.click('#esap-lab-basket button[aria-label="Clear the basket"]');
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toContainText('Clear the basket?');
      await shot(page, 'basket-clear-dialog');
      await dialog.locator('button.jp-mod-reject').click();
      await expect(items(page)).toHaveCount(2);

      await page.click('#esap-lab-basket button[aria-label="Clear the basket"]');
      await page.locator('.jp-Dialog button.jp-mod-warn').click();
      await expect(items(page)).toHaveCount(0);
    });

    test('an item loads in a notebook through the inserted code cell', async ({ page }) => {
      // three rows of a cone search into the basket, each a record
      await coneSearch(page, 155, 5, 0.1);
      await addGridRowsToBasket(page, 0, 2);
      await page.notebook.createNew('basket.ipynb');
      await openBasket(page);
      await expect(items(page)).toHaveCount(3, { timeout: 10000 });
      // a record's title names its source: "<ra> <dec> · source_id <n>"
      const sourceIds = (await items(page).locator('.jp-EsapSection-title').allTextContents()).map(
        t => t.match(/source_id (\d+)/)?.[1] ?? ''
      );
      expect(sourceIds.every(Boolean)).toBe(true);
      const first = items(page).first();
      await first.locator('button[aria-label^="Insert a code cell loading"]').click();
      await expect(page.locator('.jp-Notebook .jp-Cell').nth(1)).toContainText('basket.get(');
      await page.notebook.runCell(1);
      const output = page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.jp-OutputArea-output');
      await expect(output).toContainText('source_id', { timeout: 60000 });
      await expect(output).toContainText(sourceIds[0]);

      // dragged onto a cell's editor, an item pastes the code that loads it
      const firstCell = page.locator('.jp-Notebook .jp-Cell').first();
      await first.dragTo(firstCell.locator('.cm-content'));
      await expect(firstCell).toContainText('basket.get(', { timeout: 5000 });

      // several records selected: one cell joins their rows into one table
      for (const box of await page.locator('#esap-lab-basket .jp-EsapBasket-item input[type="checkbox"]').all()) {
        await box.check();
      }
      await page.click('#esap-lab-basket .jp-EsapBasket-loadSelection');
      const cells = page.locator('.jp-Notebook .jp-Cell');
      const cell = cells.filter({ hasText: 'records_table' });
      await expect(cell).toHaveCount(1);
      const texts = await cells.allInnerTexts();
      await page.notebook.runCell(texts.findIndex(text => text.includes('records_table')));
      await expect(cell.locator('.jp-OutputArea-output')).toContainText('length=3', { timeout: 60000 });
      await expect(cell.locator('.jp-OutputArea-output')).toContainText(sourceIds[2]);
      await shot(page, 'basket-notebook-cell');
    });

    test('export to a file, import it back; a bad file changes nothing', async ({ page }, info) => {
      // a row of a cone search and the query itself
      await coneSearch(page, 155, 5, 0.1);
      await addGridRowsToBasket(page, 0);
      await page.locator('.jp-EsapResults:visible .jp-EsapResults-addQuery').click();
      await openBasket(page);
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });

      const download = page.waitForEvent('download');
      await page.click('#esap-lab-basket button[aria-label="Export the basket to a file"]');
      const file = info.outputPath('esap-basket.json');
      await (await download).saveAs(file);

      await emptyBasket(page);

      let chooser = page.waitForEvent('filechooser');
      await page.click('#esap-lab-basket button[aria-label="Import a basket file"]');
      await (await chooser).setFiles(file);
      await page.locator('.jp-Dialog button', { hasText: 'Add' }).click();
      await expect(items(page)).toHaveCount(2);
      await expect(page.locator('.Toastify__toast', { hasText: 'Imported esap-basket.json' })).toContainText('2 new');

      // a file with a broken item: refused, saying which, and the basket is as it was
      const bad = info.outputPath('bad-basket.json');
      const doc = { format: 'esap-lab-basket', version: 1, items: [{ kind: 'file', url: 'no url' }] };
      require('fs').writeFileSync(bad, JSON.stringify(doc));
      chooser = page.waitForEvent('filechooser');
      await page.click('#esap-lab-basket button[aria-label="Import a basket file"]');
      await (await chooser).setFiles(bad);
      await page.locator('.jp-Dialog button', { hasText: 'Replace' }).click(); // still nothing changes
      await expect(page.locator('.Toastify__toast', { hasText: 'bad-basket.json' })).toContainText('items.0');
      await expect(items(page)).toHaveCount(2);
      await shot(page, 'basket-bad-import');
    });
  });
});
