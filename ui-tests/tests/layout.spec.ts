import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { coneSearch, emptyBasket, forEachTheme, openStep, selectGridRows, shot, Step } from './helpers';

/**
 * Room to work (at 1280x800, the viewport of these tests): each step of the ESAP sidebar has the
 * sidebar's whole height, nothing inside it has a scrollbar of its own, and its primary actions
 * stay in view even when its list is long and scrolled to the end.
 */
const PRIMARY: Record<Step, string[]> = {
  Search: ['.jp-EsapSearch-run', '.jp-EsapSearch-cancel'],
  Basket: [
    'button[aria-label="Export the basket to a file"]',
    'button[aria-label="Import a basket file"]',
    'button[aria-label="Clear the basket"]'
  ],
  Staging: ['button[aria-label="Stage the items selected in the basket"]'],
  Jobs: ['button[aria-label="Submit the active notebook as a batch job"]']
};

const STEP_IDS: Record<Step, string> = {
  Search: 'esap-lab-search',
  Basket: 'esap-lab-basket',
  Staging: 'esap-lab-staging',
  Jobs: 'esap-lab-jobs'
};

/** Elements inside the step (not the step itself) that scroll on their own. */
async function nestedScrollers(page: Page, id: string): Promise<string[]> {
  return page.evaluate(id => {
    const root = document.getElementById(id)!;
    const out: string[] = [];
    root.querySelectorAll('*').forEach(el => {
      const style = getComputedStyle(el);
      const scrolls = /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
      if (scrolls) {
        out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
      }
    });
    return out;
  }, id);
}

/** Is the element wholly inside the viewport and inside the step's visible part? */
async function inView(page: Page, id: string, selector: string): Promise<boolean> {
  return page.evaluate(
    ({ id, selector }) => {
      const root = document.getElementById(id)!;
      const el = root.querySelector(selector);
      if (!el) {
        return false;
      }
      const r = el.getBoundingClientRect();
      const v = root.getBoundingClientRect();
      return (
        r.width > 0 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1 && r.bottom <= window.innerHeight &&
        r.right <= window.innerWidth
      );
    },
    { id, selector }
  );
}

forEachTheme(() => {
  test('every step has the sidebar to itself and its actions in view', async ({ page }) => {
    expect(page.viewportSize()).toEqual({ width: 1280, height: 800 });
    // a long basket, filled from the UI: 40 rows of a cone search
    await emptyBasket(page);
    await openStep(page, 'Search');
    await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
    await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
    await page.fill('.jp-EsapSearch input[name="radius"]', '0.5');
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapResults:visible')).toBeVisible({ timeout: 30000 });
    await selectGridRows(page, 0, 25);
    await page.click('.jp-EsapResults:visible .jp-EsapResults-addRows');
    await openStep(page, 'Basket');
    await expect(page.locator('#esap-lab-basket .jp-EsapBasket-item')).toHaveCount(26);

    for (const step of ['Search', 'Basket', 'Staging', 'Jobs'] as Step[]) {
      await openStep(page, step);
      const id = STEP_IDS[step];
      // the step fills the sidebar below the step tabs
      const sidebar = (await page.locator('#esap-lab-sidebar').boundingBox())!;
      const body = (await page.locator(`#${id}`).boundingBox())!;
      expect(body.y + body.height).toBeGreaterThan(sidebar.y + sidebar.height - 2);
      expect(body.height).toBeGreaterThan(sidebar.height - 80);
      expect(await nestedScrollers(page, id)).toEqual([]);
      for (const selector of [...PRIMARY[step], ...(step === 'Search' ? ['select[name="archive"]'] : [])]) {
        expect(await inView(page, id, selector), `${step}: ${selector} at the top`).toBe(true);
      }
      // scrolled to its end, the actions are still there
      await page.evaluate(id => {
        const el = document.getElementById(id)!;
        el.scrollTop = el.scrollHeight;
      }, id);
      for (const selector of PRIMARY[step]) {
        expect(await inView(page, id, selector), `${step}: ${selector} scrolled to the end`).toBe(true);
      }
      await shot(page, `layout-${step.toLowerCase()}`);
    }
  });

  test('the ESAP menu lists the steps and runs a command', async ({ page }) => {
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^ESAP$/ }).click();
    const menu = page.locator('.lm-Menu:visible').last();
    const labels = (await menu.locator('.lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel').allTextContents()).map(x =>
      x.trim()
    );
    // grouped as the journey goes: search first, clearing the basket last, after a separator
    expect(labels[0]).toBe('Search archives');
    for (const label of ['Show the basket', 'Show staged data', 'Show the batch jobs', 'Show my tables', 'Find software in the OSSR']) {
      expect(labels).toContain(label);
    }
    expect(labels.every(l => !l.startsWith('ESAP'))).toBe(true);
    expect(labels[labels.length - 1]).toBe('Clear the basket…');
    const kinds = await menu.locator('.lm-Menu-item:not(.lm-mod-hidden)').evaluateAll(els => els.map(e => e.getAttribute('data-type')));
    expect(kinds[kinds.length - 2]).toBe('separator');
    await shot(page, 'menu-esap');
    await menu.locator('.lm-Menu-item', { hasText: 'Show the batch jobs' }).click();
    await expect(page.locator('#esap-lab-jobs')).toBeVisible();
    await expect(menu).toBeHidden();
  });

  test('on a narrow tab the result bar keeps its actions: the rest wait in "…"', async ({ page }) => {
    await page.setViewportSize({ width: 800, height: 800 });
    await emptyBasket(page);
    await coneSearch(page, 155, 5, 0.1);
    const results = page.locator('.jp-EsapResults:visible');
    const bar = results.locator('.jp-EsapResults-bar');
    const more = bar.locator('.jp-EsapResults-more');
    await expect(more).toBeVisible();

    /** Every action shown is wholly inside the bar, the bar has at most two lines, the grid is below. */
    const check = async () => {
      const box = (await bar.boundingBox())!;
      const grid = (await results.locator('.jp-EsapResults-grid').boundingBox())!;
      expect(box.height).toBeLessThan(80);
      expect(grid.y).toBeGreaterThanOrEqual(box.y + box.height - 1);
      for (const el of await bar.locator('button:visible, select:visible, .jp-EsapResults-count').all()) {
        const r = (await el.boundingBox())!;
        expect(r.x).toBeGreaterThanOrEqual(box.x - 1);
        expect(r.x + r.width, await el.innerText()).toBeLessThanOrEqual(box.x + box.width + 1);
        expect(r.y + r.height).toBeLessThanOrEqual(box.y + box.height + 1);
      }
    };
    await expect.poll(async () => (await bar.boundingBox())?.height ?? 0).toBeLessThan(80);
    await check();
    // the primary actions stay in the bar
    await expect(bar.locator('.jp-EsapResults-addRows')).toBeVisible();
    await expect(bar.locator('.jp-EsapResults-stage, .jp-EsapResults-addRows').first()).toBeVisible();
    await shot(page, 'results-narrow');

    // "…" lists the actions that left the bar, and runs them
    const hidden = (await bar.locator('button.jp-mod-overflowed').allTextContents()).map(x => x.trim());
    expect(hidden.length).toBeGreaterThan(0);
    await more.click();
    const menu = page.locator('.jp-EsapResults-moreMenu');
    await expect(menu).toBeVisible();
    expect((await menu.locator('.lm-Menu-itemLabel').allTextContents()).map(x => x.trim())).toEqual(hidden);
    await shot(page, 'results-narrow-more');
    const addQuery = menu.locator('.lm-Menu-item', { hasText: 'Add query to basket' });
    if ((await addQuery.count()) > 0) {
      await addQuery.click();
    } else {
      await menu.press('Escape');
      await bar.locator('.jp-EsapResults-addQuery').click();
    }
    await expect(page.locator('.jp-Notification-Toast-success', { hasText: 'Added the query' })).toBeVisible();
    await openStep(page, 'Basket');
    await expect(page.locator('.jp-EsapBasket-group[data-kind="query"] .jp-EsapBasket-item')).toHaveCount(1);

    // a row selected: the bar still fits; with the sidebar closed the tab is wider and fewer wait
    await selectGridRows(page, 0);
    await check();
    await page.locator('li[data-id="esap-lab-sidebar"]').click();
    await expect(page.locator('#esap-lab-sidebar')).toBeHidden();
    await expect
      .poll(async () => (await bar.locator('button.jp-mod-overflowed').count()))
      .toBeLessThan(hidden.length);
    await check();
    await shot(page, 'results-narrow-wide');
  });
});
