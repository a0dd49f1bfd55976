import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { fanOutCone, forEachTheme, openStep, shot } from './helpers';

async function openSearch(page: Page): Promise<void> {
  await openStep(page, 'Search');
  await expect(page.locator('.jp-EsapSearch select[name="archive"]')).toBeVisible();
  await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
}

forEachTheme(theme => {
  test.describe('ESAP search', () => {
    test('cone search opens a server-paged grid that scrolls and sorts', async ({ page }) => {
      await openSearch(page);
      await page.fill('.jp-EsapSearch input[name="ra"]', '155');
      await page.fill('.jp-EsapSearch input[name="dec"]', '5');
      await page.fill('.jp-EsapSearch input[name="radius"]', '0.5');
      await page.click('.jp-EsapSearch-run');

      const results = page.locator('.jp-EsapResults');
      await expect(results).toBeVisible({ timeout: 30000 });
      await expect(page.locator('.jp-EsapResults-count')).toContainText('rows');
      const total = Number(
        (await page.locator('.jp-EsapResults-count').innerText()).replace(/\D/g, '')
      );
      expect(total).toBeGreaterThan(1000);
      await page.waitForTimeout(500);
      await shot(page, 'search-cone-grid');

      // Scrolling far down fetches a later page from the server (never the whole table).
      const grid = page.locator('.jp-EsapResults-grid');
      const box = (await grid.boundingBox())!;
      const later = page.waitForResponse(
        r => /\/rows\?offset=([1-9]\d*)/.test(r.url()) && r.status() === 200
      );
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, 22 * 600);
      await later;

      // A click in the "vmag" header sorts on the server.
      const sorted = page.waitForResponse(
        r => r.url().includes('sort=vmag') && r.status() === 200
      );
      const vmagIndex = 4; // _r, source_id, ra, dec, vmag
      await page.mouse.click(box.x + 64 + vmagIndex * 120 + 60, box.y + 12);
      const page1 = await (await sorted).json();
      const mags = page1.rows.map((r: any) => r.vmag);
      expect(mags).toEqual([...mags].sort((a: number, b: number) => a - b));
      await expect(page.locator('.jp-EsapResults-bar')).toContainText('sorted by vmag');
      await page.waitForTimeout(300);
      await shot(page, 'search-sorted');
    });

    test('a bad ADQL query says what is wrong', async ({ page }) => {
      await openSearch(page);
      await page.click('.jp-EsapSearch-mode-tap');
      await page.fill('.jp-EsapSearch textarea[name="adql"]', 'SELECT nothing FROM nowhere');
      await page.click('.jp-EsapSearch-run');
      await expect(page.locator('.jp-EsapSearch-error')).toContainText('nowhere', {
        timeout: 20000
      });
      await expect(page.locator('.Toastify__toast').first()).toContainText('nowhere');
      await shot(page, 'search-adql-error');
    });

    test('the form refuses an invalid position before sending it', async ({ page }) => {
      await openSearch(page);
      await page.fill('.jp-EsapSearch input[name="ra"]', '400');
      await expect(page.locator('.jp-EsapSearch-run')).toBeDisabled();
      await expect(page.locator('.jp-EsapSearch [role="alert"]').first()).toContainText('RA');
    });

    test('the palette command opens the search', async ({ page }) => {
      await page.keyboard.press('Control+Shift+C');
      await page.keyboard.type('ESAP: Search archives');
      await page.keyboard.press('Enter');
      await expect(page.locator('.jp-EsapSearch select[name="archive"]')).toBeVisible();
    });

    test('the dark theme colours the form and the grid', async ({ page }) => {
      await page.theme.setDarkTheme();
      await openSearch(page);
      await page.fill('.jp-EsapSearch input[name="radius"]', '0.1');
      await page.click('.jp-EsapSearch-run');
      await expect(page.locator('.jp-EsapResults')).toBeVisible({ timeout: 30000 });
      await page.waitForTimeout(800);
      // the grid is painted on a canvas: sample its background, it must be dark
      const dark = await page.evaluate(() => {
        const canvas = document.querySelector('.jp-EsapResults-grid canvas') as HTMLCanvasElement;
        const [r, g, b] = canvas.getContext('2d')!.getImageData(canvas.width - 3, canvas.height - 3, 1, 1).data;
        return (r + g + b) / 3 < 100;
      });
      expect(dark).toBe(true);
      await shot(page, 'search-dark-theme');
      await page.theme.setLightTheme();
    });

    test('a search where one archive answers says why there is nothing to merge', async ({ page }) => {
      const entry = await fanOutCone(page, ['local', 'dead'], 0.1);
      await expect(entry('local')).toHaveAttribute('data-status', 'completed', { timeout: 60000 });
      await expect(entry('dead')).toHaveAttribute('data-status', 'error', { timeout: 60000 });
      await expect(page.locator('.jp-EsapSearch-mergeHint')).toHaveText(
        'Merging needs two archives with rows: only one answered.', { timeout: 30000 });
      await expect(page.locator('.jp-EsapSearch-merge')).toHaveCount(0);
    });

    test('a search over several archives merges their results into one grid', async ({ page }) => {
      const entry = await fanOutCone(page, ['local', 'mirror', 'dead'], 0.15);
      for (const id of ['local', 'mirror']) {
        await expect(entry(id)).toHaveAttribute('data-status', 'completed', { timeout: 60000 });
      }
      await expect(entry('dead')).toHaveAttribute('data-status', 'error', { timeout: 60000 });
      const rowsOf = async (id: string) =>
        Number((await entry(id).locator('.jp-EsapSearch-rows').innerText()).replace(/\D/g, ''));
      const n = await rowsOf('local');
      expect(n).toBeGreaterThan(10);
      expect(await rowsOf('mirror')).toBe(n);

      // the dead archive adds nothing; the two others' rows in one grid, an "archive" column first
      const merge = page.locator('.jp-EsapSearch-merge');
      await expect(merge).toHaveText('Merge the 2 results');
      const firstPage = page.waitForResponse(r => /\/rows\?offset=0/.test(r.url()) && r.status() === 200, {
        timeout: 30000
      });
      await merge.click();
      const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: '2 merged' });
      await expect(tab).toBeVisible({ timeout: 30000 });
      const grid = page.locator('.jp-EsapResults:visible');
      await expect(grid.locator('.jp-EsapResults-count')).toHaveText(`${2 * n} rows`, { timeout: 30000 });
      const rows = (await (await firstPage).json()).rows as Record<string, unknown>[];
      expect(Object.keys(rows[0])[0]).toBe('archive');
      expect(rows[0].archive).toBe('local');

      // sorted on the server like any result: a click in the "archive" header, twice (descending)
      const box = (await grid.locator('.jp-EsapResults-grid').boundingBox())!;
      for (const order of ['asc', 'desc']) {
        const sorted = page.waitForResponse(
          r => r.url().includes('sort=archive') && r.url().includes(`order=${order}`) && r.status() === 200
        );
        await page.mouse.click(box.x + 64 + 60, box.y + 12);
        const body = await (await sorted).json();
        expect(body.rows[0].archive).toBe(order === 'asc' ? 'local' : 'mirror');
      }
      await expect(grid.locator('.jp-EsapResults-bar')).toContainText('sorted by archive');
      await page.waitForTimeout(500);
      // the grid is painted on a canvas: its background follows the theme
      await expect
        .poll(
          () =>
            page.evaluate(() => {
              // the mean of the whole canvas: mostly the cells' background
              const canvas = document.querySelector('.jp-EsapResults:not(.lm-mod-hidden) canvas') as HTMLCanvasElement;
              const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
              let sum = 0;
              for (let i = 0; i < data.length; i += 4) {
                sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
              }
              return sum / (data.length / 4) < 100;
            }),
          { timeout: 15000 }
        )
        .toBe(theme === 'dark');
      await shot(page, 'search-fanout-merged');
    });

    test('image rows are staged into the session from the grid', async ({ page }) => {
      await openSearch(page);
      await page.click('.jp-EsapSearch-mode-sia');
      await page.fill('.jp-EsapSearch input[name="size"]', '0.4');
      await page.click('.jp-EsapSearch-run');
      await expect(page.locator('.jp-EsapResults')).toBeVisible({ timeout: 30000 });
      const grid = page.locator('.jp-EsapResults-grid');
      const box = (await grid.boundingBox())!;
      await page.mouse.click(box.x + 30, box.y + 24 + 11); // the row header of the first row
      const stage = page.locator('.jp-EsapResults-stage');
      await expect(stage).toContainText('Stage 1 selected');
      await stage.click();
      const transfer = page.locator('#esap-lab-staging .jp-EsapStaging-transfer').first();
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      await shot(page, 'search-images-staged');
    });

    test('the step bar shows every step whole at the default width', async ({ page }) => {
      await openSearch(page);
      const tabs = page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab');
      expect(await tabs.count()).toBeGreaterThanOrEqual(4);
      // no label is cut ("Sea…"): each fits its tab, and the tabs wrap onto rows instead
      const cut = await tabs.evaluateAll(els =>
        els
          .map(el => el.querySelector('.lm-TabBar-tabLabel') as HTMLElement)
          .filter(l => l.scrollWidth > l.clientWidth + 1)
          .map(l => l.textContent)
      );
      expect(cut).toEqual([]);
      // the step shown starts below the bar (the bar's height follows its rows)
      const bar = (await page.locator('.jp-EsapSidebar-tabs').boundingBox())!;
      const lastTab = (await tabs.last().boundingBox())!;
      expect(lastTab.y + lastTab.height).toBeLessThanOrEqual(bar.y + bar.height + 1);
      const step = (await page.locator('#esap-lab-search').boundingBox())!;
      expect(step.y).toBeGreaterThanOrEqual(bar.y + bar.height - 1);
      await shot(page, 'sidebar-step-bar');
    });

    test('an async TAP query shows its UWS phase while running and in Recent queries', async ({ page }) => {
      await openSearch(page);
      await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
      await page.click('.jp-EsapSearch-mode-tap');
      await page.check('.jp-EsapSearch input[name="async"]');
      // a bounded join (6000 x 6000 rows, a few seconds on the local DaCHS): long enough to show
      // the remote job's phase while it runs, short enough not to load the shared archive
      await page.fill(
        '.jp-EsapSearch textarea[name="adql"]',
        'SELECT COUNT(*) AS n FROM esapdemo.sources AS a JOIN esapdemo.sources AS b ON a.vmag < b.vmag ' +
          'WHERE a.source_id < 6000 AND b.source_id < 6000'
      );
      await page.click('.jp-EsapSearch-run');
      await expect(page.locator('.jp-EsapSearch-progress')).toContainText(/(QUEUED|EXECUTING) · \d+ s/, {
        timeout: 20000
      });
      await shot(page, 'search-async-phase');

      // once done, Recent queries keeps its final phase and the time it took
      await expect(page.locator('.jp-EsapResults')).toBeVisible({ timeout: 60000 });
      await openSearch(page);
      await expect(page.locator('.jp-EsapSearch-recentEntry .jp-EsapSearch-phase').first()).toHaveText(
        /^COMPLETED · [\d.]+ s$/
      );
      await shot(page, 'search-async-recent');
    });
  });
});

forEachTheme(() => {
  test.describe('ESAP search: a switch starts clean', () => {
    test("another kind of search or archive drops the last one's error and fan-out", async ({ page }) => {
      await openSearch(page);
      await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
      // an ADQL error, then the Cone form: the error was about the ADQL, it goes
      await page.click('.jp-EsapSearch-mode-tap');
      await page.fill('.jp-EsapSearch textarea[name="adql"]', 'SELECT nothing FROM nowhere');
      await page.click('.jp-EsapSearch-run');
      const error = page.locator('.jp-EsapSearch-error');
      await expect(error).toContainText('nowhere', { timeout: 20000 });
      await page.click('.jp-EsapSearch-mode-cone');
      await expect(error).toHaveCount(0);

      // a search over several archives, then another kind of search: its list goes
      await page.check('.jp-EsapSearch input[name="fanout"]');
      await page.locator('.jp-EsapSearch-archives input[name="archive-local"]').check();
      await page.fill('.jp-EsapSearch input[name="ra"]', '155');
      await page.fill('.jp-EsapSearch input[name="dec"]', '5');
      await page.fill('.jp-EsapSearch input[name="radius"]', '0.05');
      await page.click('.jp-EsapSearch-run');
      const entry = page.locator('.jp-EsapSearch-fanoutEntry[data-archive="local"]');
      await expect(entry).toHaveAttribute('data-status', 'completed', { timeout: 60000 });
      await openStep(page, 'Search');
      await page.click('.jp-EsapSearch-mode-sia');
      await expect(page.locator('.jp-EsapSearch-fanout')).toHaveCount(0);
      await shot(page, 'search-switch-clean');
    });
  });
});
