import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { forEachTheme, openStep, selectGridRows, shot, Step } from './helpers';

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
    await openStep(page, 'Basket');
    const clear = page.locator('#esap-lab-basket button[aria-label="Clear the basket"]');
    if (await clear.isEnabled()) {
      await clear.click();
      await page.locator('.jp-Dialog button.jp-mod-warn').click();
    }
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
});
