/**
 * My tables, as a user goes: a cone search on the local archive saved as a table, a CSV of the
 * workspace imported (ui-tests/jupyter_server_test_config.py puts xray_sources.csv at the root),
 * a crossmatch of the two whose grid shows the separation, SQL with an error and its caret, and
 * the same crossmatch from a notebook (`from esap_lab import tables; tables.crossmatch(...)`).
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { coneSearch, forEachTheme, gridAction, openStep, shot, workspaceSaved } from './helpers';

async function openTables(page: Page): Promise<void> {
  await openStep(page, 'Search'); // shows the ESAP sidebar
  await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Tables' }).click();
  await expect(page.locator('#esap-lab-tables')).toBeVisible();
}

async function fillDialog(page: Page, values: Record<string, string>, accept: string): Promise<void> {
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  for (const [name, value] of Object.entries(values)) {
    const field = dialog.locator(`[name="${name}"]`);
    if ((await field.evaluate(n => n.tagName)) === 'SELECT') {
      await field.selectOption(value);
    } else {
      await field.fill(value);
    }
  }
  await dialog.locator('button', { hasText: accept }).click();
  await expect(dialog).toHaveCount(0);
}

async function journey(page: Page, theme: 'light' | 'dark'): Promise<void> {
  // names of their own on a retry (the server, and the tables and notebooks of a first attempt, stay)
  const tag = theme + (test.info().retry ? `_r${test.info().retry}` : '');
  if (theme === 'dark') {
    await page.theme.setDarkTheme();
  }
  // 1. a cone search on the local archive, saved as a table from its grid
  await openStep(page, 'Search');
  await page.fill('.jp-EsapSearch input[name="ra"]', '155');
  await page.fill('.jp-EsapSearch input[name="dec"]', '5');
  await page.fill('.jp-EsapSearch input[name="radius"]', '0.5');
  await page.click('.jp-EsapSearch-run');
  await expect(page.locator('.jp-EsapResults-count')).toContainText('rows', { timeout: 60000 });
  await page.locator('.jp-EsapResults-saveTable').click();
  await fillDialog(page, { name: `stars_${tag}` }, 'Save');
  await expect(page.locator('.Toastify__toast', { hasText: `Saved as table stars_${tag}` })).toBeVisible({ timeout: 30000 });

  // 2. a CSV of the workspace imported as a table
  await openTables(page);
  await expect(page.locator('.jp-EsapTables-item', { hasText: `stars_${tag}` })).toBeVisible();
  await page.locator('.jp-EsapTables-import').click();
  await fillDialog(page, { path: 'xray_sources.csv', name: `xray_${tag}` }, 'Import');
  await expect(page.locator('.jp-EsapTables-item', { hasText: `xray_${tag}` })).toBeVisible({ timeout: 20000 });
  await expect(page.locator('.jp-EsapTables-item', { hasText: `xray_${tag}` })).toContainText('4 rows');
  await shot(page, `tables-list-${theme}`);

  // 3. crossmatch: the nearest star of each X-ray source within 300", with its separation
  await page.locator('.jp-EsapTables-crossmatch').click();
  const rows = page.waitForResponse(r => /\/tables\/[^/]+\/rows/.test(r.url()) && r.status() === 200);
  await fillDialog(page, { a: `xray_${tag}`, b: `stars_${tag}`, radius: '300', find: 'best1' }, 'Crossmatch');
  const page1 = await (await rows).json();
  expect(page1.rows.length).toBeGreaterThan(0);
  for (const row of page1.rows) {
    expect(row.separation).toBeLessThanOrEqual(300);
  }
  const grid = page.locator('.jp-EsapResults:visible');
  await expect(grid.locator('.jp-EsapResults-count')).toContainText('rows');
  const matchCount = grid.locator('.jp-EsapResults-count').innerText();
  await expect(grid.locator('.jp-EsapResults-saveTable')).toBeVisible();
  // the separation (arcsec) is the last column: scroll the grid to it
  const box = (await grid.locator('.jp-EsapResults-grid').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 60);
  await page.mouse.wheel(3000, 0);
  await page.waitForTimeout(500);
  await shot(page, `tables-crossmatch-${theme}`);

  // 4. SQL: an error shows the engine's message and caret; a good statement opens a grid
  await page.locator('.jp-EsapTables-console').click();
  const editor = page.locator('.jp-EsapSql-editor .cm-content');
  await expect(editor).toBeVisible();
  await editor.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type(`SELECT nme FROM xray_${tag}`);
  await page.locator('.jp-EsapSql-run').click();
  await expect(page.locator('.jp-EsapSql-error')).toContainText('^', { timeout: 20000 });
  await expect(page.locator('.jp-EsapSql-error')).toContainText('nme');
  await shot(page, `tables-sql-error-${theme}`);
  await editor.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type(`SELECT name, flux FROM xray_${tag} WHERE flux > 1 ORDER BY flux`);
  await page.keyboard.press('Control+Enter');
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toHaveText('2 rows', { timeout: 20000 });
  await page.waitForTimeout(300);
  await shot(page, `tables-sql-result-${theme}`);

  // 5. the same crossmatch from a notebook: the kernel API goes through the same REST door
  const pairs = /(\d+) rows?/.exec(await matchCount)![1];
  await page.notebook.createNew(`crossmatch-${tag}.ipynb`);
  const cell = page.locator('.jp-Notebook .jp-Cell').first().locator('.cm-content');
  await cell.click();
  await page.keyboard.type('from esap_lab import tables\n');
  await page.keyboard.type(`m = tables.crossmatch("xray_${tag}", "stars_${tag}", 300, find="best1")\n`);
  await page.keyboard.type('print(len(m), "pairs, largest separation", round(float(m["separation"].max()), 1), "arcsec")');
  await page.keyboard.press('Shift+Enter');
  const output = page.locator('.jp-Notebook .jp-Cell').first().locator('.jp-OutputArea-output');
  await expect(output).toContainText(`${pairs} pairs, largest separation`, { timeout: 90000 });
  await shot(page, `tables-notebook-${theme}`);
}

test.describe('My tables', () => {
  // a whole journey: two searches' worth of waiting on a loaded machine
  test.setTimeout(240000);

  test('cone result + CSV -> crossmatch with separation, SQL, the same from a notebook (light)', async ({ page }) => {
    await journey(page, 'light');
  });

  test('the same journey in the dark theme', async ({ page }) => {
    await journey(page, 'dark');
  });
});

forEachTheme(() => {
  test.describe('My tables: first steps', () => {
    test.setTimeout(180000);

    test('Save as table names all the rows and a readable name; the SQL console starts runnable and comes back after a reload', async ({ page }) => {
      // a cone result: the dialog says every row goes (not the selection), under a readable name
      await coneSearch(page, 155, 5, 0.1);
      const results = page.locator('.jp-EsapResults:visible');
      const rows = /(\d+) rows?/.exec(await results.locator('.jp-EsapResults-count').innerText())![1];
      await gridAction(page, 'jp-EsapResults-saveTable');
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('.jp-EsapForm-note')).toHaveText(
        `Saves all ${rows} rows of this result (not only the selected rows) as one of your tables.`
      );
      const name = dialog.locator('input[name="name"]');
      await expect(name).toHaveValue(/^cone_155_5_r0_1(_\d+)?$/);
      const saved = await name.inputValue();
      await shot(page, 'tables-save-dialog');
      await dialog.locator('.jp-mod-accept').click();
      await expect(page.locator('.Toastify__toast', { hasText: `Saved as table ${saved} (${rows} rows)` })).toBeVisible({
        timeout: 30000
      });

      // the console: a whole statement over a table of mine, that runs as it is
      await openStep(page, 'Search');
      await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Tables' }).click();
      await page.locator('.jp-EsapTables-console').click();
      const editor = page.locator('.jp-EsapSql-editor .cm-content');
      await expect(editor).toHaveText(/^SELECT \* FROM \w+ LIMIT 100$/, { timeout: 30000 });
      await shot(page, 'tables-sql-console-start');
      await page.locator('.jp-EsapSql-run').click();
      await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toHaveText(/^\d+ rows?$/, {
        timeout: 30000
      });
      await expect(page.locator('.jp-EsapSql-error')).toBeHidden();

      // a statement of my own; after a reload the console is there again, with it
      const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'SQL: my tables' });
      await tab.click();
      const mine = `SELECT count(*) AS n FROM ${saved}`;
      const stored = workspaceSaved(page, keys => keys.includes('esap-lab-sql:sql'));
      await editor.click();
      await page.keyboard.press('Control+a');
      await page.keyboard.type(mine);
      await page.keyboard.press('Escape');
      await stored;
      // the save that holds the statement as typed (one more may follow the last keystroke)
      await page.waitForTimeout(1500);
      await page.reload({ waitForIsReady: false });
      await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 60000 });
      await tab.click({ timeout: 30000 });
      await expect(editor).toHaveText(mine, { timeout: 30000 });
      await shot(page, 'tables-sql-console-restored');
    });

    test('a table file of the workspace opens in a grid from the file browser, and Import offers it', async ({ page }) => {
      await page.sidebar.openTab('filebrowser');
      await page.filebrowser.openHomeDirectory(); // the test config puts the CSV at the root
      const file = page.locator('.jp-DirListing-item', { hasText: 'xray_sources.csv' });
      await expect(file).toBeVisible({ timeout: 20000 });
      // the Import dialog of the Tables step starts with the file selected in the file browser
      await file.click();
      await openTables(page);
      await page.locator('.jp-EsapTables-import').click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('[name="path"]')).toHaveValue('xray_sources.csv');
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
      // its context menu opens it as a table: imported under a free name, shown in a grid
      await page.sidebar.openTab('filebrowser');
      await file.click({ button: 'right' });
      await page.locator('.lm-Menu-itemLabel', { hasText: 'ESAP: Open as a Table' }).click();
      const grid = page.locator('.jp-EsapResults:visible');
      await expect(grid.locator('.jp-EsapResults-count')).toHaveText('4 rows', { timeout: 30000 });
      await expect(page.locator('.Toastify__toast', { hasText: 'Imported xray_sources.csv as' })).toBeVisible();
      await shot(page, 'tables-open-file');
    });
  });
});
