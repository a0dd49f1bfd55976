import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { forEachTheme, openStep, shot, Step } from './helpers';

/** Call the esap-lab API from the page (as another tab or a kernel would change the basket). */
async function api(page: Page, method: string, path: string, body?: unknown): Promise<any> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
      const r = await fetch(`${document.baseURI.replace(/lab.*$/, '')}esap-lab/api/${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf },
        body: body === undefined ? undefined : JSON.stringify(body)
      });
      return r.status === 204 ? null : r.json();
    },
    { method, path, body }
  );
}

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
    test.beforeEach(async ({ page }) => {
      await api(page, 'DELETE', 'basket/items');
    });

    test('rows selected in the grid go to the basket and are still there after a reload', async ({
      page
    }) => {
      // a small cone search
      await showSection(page, 'Search');
      await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
      await page.fill('.jp-EsapSearch input[name="ra"]', '155');
      await page.fill('.jp-EsapSearch input[name="dec"]', '5');
      await page.fill('.jp-EsapSearch input[name="radius"]', '0.1');
      await page.click('.jp-EsapSearch-run');
      const grid = page.locator('.jp-EsapResults-grid');
      await expect(grid).toBeVisible({ timeout: 30000 });
      await expect(page.locator('.jp-EsapResults-count')).toContainText('rows');
      await page.waitForTimeout(500);

      // select rows 1-3 by their row headers (click, then shift-click)
      const box = (await grid.boundingBox())!;
      const rowY = (r: number) => box.y + 24 + r * 22 + 11;
      await page.mouse.click(box.x + 30, rowY(0));
      await page.keyboard.down('Shift');
      await page.mouse.click(box.x + 30, rowY(2));
      await page.keyboard.up('Shift');
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
      await page.waitForTimeout(500);
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
      await page.keyboard.type('ESAP');
      const labels = page.locator('.lm-CommandPalette-content .lm-CommandPalette-itemLabel');
      await expect(labels.first()).toBeVisible();
      const all = (await labels.allTextContents()).map(x => x.trim());
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

      // as another tab or a kernel would
      await api(page, 'POST', 'basket/items', [
        { kind: 'file', url: 'https://example.org/data/elsewhere.fits', size: 2880 },
        { kind: 'did', scope: 'user.alice', name: 'run7.h5', did_type: 'file' }
      ]);
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });
      await expect(page.locator('#esap-lab-basket')).toContainText('elsewhere.fits');

      // the context menu of an item
      await page.locator('#esap-lab-basket .jp-EsapBasket-item', { hasText: 'elsewhere.fits' }).click({
        button: 'right'
      });
      await expect(page.locator('.lm-Menu')).toContainText('Insert Code Cell Loading This Item');
      await page.locator('.lm-Menu-item', { hasText: 'Remove from Basket' }).click();
      await expect(items(page)).toHaveCount(1);
      await api(page, 'POST', 'basket/items', { kind: 'file', url: 'https://example.org/data/elsewhere.fits' });
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
      await api(page, 'POST', 'basket/items', {
        kind: 'record',
        archive: 'local',
        title: 'two stars',
        rows: [
          { source_id: 1, ra: 155.01, dec: 5.02, vmag: 12.5 },
          { source_id: 2, ra: 155.03, dec: 4.99, vmag: 13.1 }
        ]
      });
      await page.notebook.createNew('basket.ipynb');
      await openBasket(page);
      await expect(items(page)).toHaveCount(1, { timeout: 10000 });
      await page.click('#esap-lab-basket button[aria-label="Insert a code cell loading two stars"]');
      await expect(page.locator('.jp-Notebook .jp-Cell').nth(1)).toContainText('basket.get(');
      await page.notebook.runCell(1);
      const output = page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.jp-OutputArea-output');
      await expect(output).toContainText('source_id', { timeout: 60000 });
      await expect(output).toContainText('155.03');

      // dragged onto a cell's editor, an item pastes the code that loads it
      const first = page.locator('.jp-Notebook .jp-Cell').first();
      await items(page).first().dragTo(first.locator('.cm-content'));
      await expect(first).toContainText('basket.get(', { timeout: 5000 });

      // several records selected: one cell joins their rows into one table
      await api(page, 'POST', 'basket/items', {
        kind: 'record',
        archive: 'local',
        title: 'third star',
        row: { source_id: 3, ra: 155.07, dec: 5.05, vmag: 14.2 }
      });
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });
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
      await expect(cell.locator('.jp-OutputArea-output')).toContainText('155.07');
      await shot(page, 'basket-notebook-cell');
    });

    test('export to a file, import it back; a bad file changes nothing', async ({ page }, info) => {
      await api(page, 'POST', 'basket/items', [
        { kind: 'file', url: 'https://example.org/data/a.fits', notes: 'keep me' },
        { kind: 'did', scope: 'user.alice', name: 'run8.h5' }
      ]);
      await openBasket(page);
      await expect(items(page)).toHaveCount(2, { timeout: 10000 });

      const download = page.waitForEvent('download');
      await page.click('#esap-lab-basket button[aria-label="Export the basket to a file"]');
      const file = info.outputPath('esap-basket.json');
      await (await download).saveAs(file);

      await api(page, 'DELETE', 'basket/items');
      await expect(items(page)).toHaveCount(0, { timeout: 10000 });

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
