import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { openStep, selectGridRows, shot } from './helpers';

/**
 * Readable in both themes: the contrast of the text as rendered (WCAG AA, 4.5:1) in the ESAP
 * steps (chips, buttons, hints, errors), the result bar's buttons and the grid's cells. Colours come
 * from getComputedStyle of the real elements, the background from walking up to the first opaque
 * one (translucent layers composited); the grid is a canvas, so its cells are read as pixels.
 */
const AA = 4.5;

interface IFinding {
  text: string;
  where: string;
  ratio: number;
}

/** Contrast of every visible, enabled text under the elements matching `selector`. */
async function textContrasts(page: Page, selector: string): Promise<IFinding[]> {
  return page.evaluate(selector => {
    type RGBA = [number, number, number, number];
    const parse = (c: string): RGBA => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) {
        return [0, 0, 0, 0];
      }
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top: RGBA, below: RGBA): RGBA => {
      const a = top[3];
      return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat(1) as RGBA;
    };
    const background = (el: Element | null): RGBA => {
      const layers: RGBA[] = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3] > 0) {
          layers.push(bg);
          if (bg[3] >= 1) {
            break;
          }
        }
      }
      let out: RGBA = [255, 255, 255, 1];
      for (const layer of layers.reverse()) {
        out = over(layer, out);
      }
      return out;
    };
    const lum = (c: RGBA) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const out: { text: string; where: string; ratio: number }[] = [];
    for (const root of document.querySelectorAll(selector)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = (n.textContent ?? '').trim();
        const el = n.parentElement;
        if (!text || !el) {
          continue;
        }
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        const disabled = el.closest('button:disabled, [aria-disabled="true"], option, select:disabled, input:disabled');
        if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || disabled || el.closest('option')) {
          continue;
        }
        const bg = background(el);
        const fg = over(parse(style.color), bg);
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        out.push({
          text: text.slice(0, 40),
          where: `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`,
          ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100
        });
      }
    }
    return out;
  }, selector);
}

/** The contrast of a grid body cell's text: its farthest pixel from the cell's background. */
async function gridCellContrast(page: Page, row: number, column: number): Promise<number> {
  return page.evaluate(
    ({ row, column }) => {
      const grid = [...document.querySelectorAll('.jp-EsapResults-grid')].find(
        g => (g as HTMLElement).offsetParent !== null
      )!;
      const canvas = grid.querySelector('canvas') as HTMLCanvasElement;
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const x0 = Math.round((64 + column * 120 + 2) * scale);
      const y0 = Math.round((24 + row * 22 + 2) * scale);
      const w = Math.round(116 * scale);
      const h = Math.round(18 * scale);
      const data = canvas.getContext('2d')!.getImageData(x0, y0, w, h).data;
      const counts = new Map<string, number>();
      for (let i = 0; i < data.length; i += 4) {
        const k = `${data[i]},${data[i + 1]},${data[i + 2]}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const bg = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
      const lum = (c: number[]) => {
        const f = (v: number) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
        };
        return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
      };
      const lb = lum(bg);
      let best = 1;
      for (let i = 0; i < data.length; i += 4) {
        const l = lum([data[i], data[i + 1], data[i + 2]]);
        const [a, b] = [l, lb].sort((x, y) => y - x);
        best = Math.max(best, (a + 0.05) / (b + 0.05));
      }
      return Math.round(best * 100) / 100;
    },
    { row, column }
  );
}

function expectReadable(found: IFinding[], what: string): void {
  expect(found.length, `${what}: texts measured`).toBeGreaterThan(0);
  const low = found.filter(f => f.ratio < AA);
  expect(low, `${what}: texts below ${AA}:1`).toEqual([]);
}

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
