/**
 * What the ESAP UI specs share: screenshots, the sidebar's steps (a tab each), the result grid.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';

/**
 * Screenshots for people to look at (ui-tests/test-results/screenshots, or ESAP_SHOTS). In the
 * dark theme the name ends with -dark (unless it names its theme already).
 */
export const shot = async (page: Page, name: string) => {
  const dark = await page.evaluate(() => document.body.dataset.jpThemeLight === 'false').catch(() => false);
  const file = dark && !/-(dark|light)$/.test(name) ? `${name}-dark` : name;
  return page.screenshot({ path: `${process.env.ESAP_SHOTS || 'test-results/screenshots'}/${file}.png` });
};

export const THEMES = ['light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** The settings a page starts with in `theme` (Galata's defaults, plus the theme). */
export function themeSettings(theme: Theme): Record<string, any> {
  return theme === 'dark'
    ? { ...galata.DEFAULT_SETTINGS, '@jupyterlab/apputils-extension:themes': { theme: 'JupyterLab Dark' } }
    : galata.DEFAULT_SETTINGS;
}

/**
 * Declare a spec's tests once per theme: each pass is a describe block named "light theme" /
 * "dark theme" whose pages start in that theme (its screenshots end with -dark).
 */
export function forEachTheme(body: (theme: Theme) => void): void {
  for (const theme of THEMES) {
    test.describe(`${theme} theme`, () => {
      test.use({ mockSettings: themeSettings(theme) });
      body(theme);
    });
  }
}

export type Step = 'Search' | 'Basket' | 'Staging' | 'Jobs';

const STEP_IDS: Record<Step, string> = {
  Search: 'esap-lab-search',
  Basket: 'esap-lab-basket',
  Staging: 'esap-lab-staging',
  Jobs: 'esap-lab-jobs'
};

/**
 * Show the ESAP sidebar at one step (its tab), as a user would click them. The application may
 * open the sidebar itself at the same moment (a submitted job shows the Jobs step): a click on
 * the sidebar's tab then closes it again, so the clicks are made again until the step shows.
 */
export async function openStep(page: Page, step: Step): Promise<void> {
  const tab = page.locator('li[data-id="esap-lab-sidebar"]');
  const stepTab = page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: step });
  const body = page.locator(`#${STEP_IDS[step]}`);
  for (let attempt = 0; ; attempt++) {
    if ((await tab.getAttribute('aria-selected')) !== 'true') {
      await tab.click();
    }
    if (!(await stepTab.getAttribute('class'))?.includes('lm-mod-current')) {
      await stepTab.click();
    }
    try {
      await expect(body).toBeVisible({ timeout: attempt < 2 ? 3000 : 5000 });
      return;
    } catch (error) {
      if (attempt >= 2) {
        throw error;
      }
    }
  }
}

/**
 * Click the row header of rows `from`..`to` (0-based) of the result grid shown. The grid paints
 * its first page a moment after the row count shows: the click is made again until the rows are
 * selected (the "Add selected" button is enabled).
 */
export async function selectGridRows(page: Page, from: number, to = from): Promise<void> {
  const results = page.locator('.jp-EsapResults:visible');
  const add = results.locator('.jp-EsapResults-addRows');
  const grid = results.locator('.jp-EsapResults-grid');
  for (let attempt = 0; ; attempt++) {
    await expect(grid).toBeVisible({ timeout: 30000 });
    const box = await grid.boundingBox();
    if (!box) {
      if (attempt >= 20) {
        throw new Error('the result grid has no box to click in');
      }
      continue; // hidden between the check and the measure (a re-render): measure again
    }
    await page.mouse.click(box.x + 30, box.y + 24 + from * 22 + 11);
    if (to !== from) {
      await page.keyboard.down('Shift');
      await page.mouse.click(box.x + 30, box.y + 24 + to * 22 + 11);
      await page.keyboard.up('Shift');
    }
    if (attempt >= 4 || (await add.count()) === 0) {
      return;
    }
    try {
      await expect(add).toBeEnabled({ timeout: 2000 });
      return;
    } catch {
      // not painted yet: click again
    }
  }
}

/** Fill the DID form of a Rucio archive (`archive`, e.g. 'lake') in the Search step and run it. */
export async function didSearch(
  page: Page,
  scope: string,
  name: string,
  type: 'all' | 'dataset' | 'container' | 'file' = 'all',
  archive = 'lake'
): Promise<void> {
  await openStep(page, 'Search');
  const form = page.locator('.jp-EsapSearch');
  await form.locator('select[name="archive"]').selectOption(archive);
  await form.locator('.jp-EsapSearch-mode-did').click();
  await form.locator('input[name="scope"]').fill(scope);
  await form.locator('input[name="name"]').fill(name);
  await form.locator('select[name="didtype"]').selectOption(type);
  await form.locator('.jp-EsapSearch-run').click();
}

/**
 * Set one of the ESAP settings (`key` of schema/plugin.json) in the Settings Editor, as a user
 * does: Settings → Settings Editor → ESAP, then the field (saved as it changes).
 */
export async function setEsapSetting(page: IJupyterLabPageFixture, key: string, value: string): Promise<void> {
  await page.menu.clickMenuItem('Settings>Settings Editor');
  await page.locator('.jp-PluginList-entry[data-id="esap-lab:plugin"]').click();
  const field = page.locator(`[id="jp-SettingsEditor-esap-lab:plugin_${key}"]`);
  await expect(field).toBeVisible({ timeout: 20000 });
  await field.fill(value);
  await field.press('Tab');
}

/**
 * Resolves once JupyterLab saved its workspace (the layout and the restorable widgets, saved
 * about a second after a change) with state entries satisfying `ready` (their keys, e.g.
 * 'esap-lab-results:<id>'). Start waiting before the action whose tab must survive a reload.
 */
export function workspaceSaved(page: Page, ready: (keys: string[]) => boolean): Promise<unknown> {
  return page.waitForRequest(
    request => {
      if (request.method() !== 'PUT' || !/\/api\/workspaces\//.test(request.url())) {
        return false;
      }
      try {
        return ready(Object.keys(request.postDataJSON()?.data ?? {}));
      } catch {
        return false;
      }
    },
    { timeout: 30000 }
  );
}

// ---- contrast of rendered text (WCAG AA), used by contrast.spec.ts and the journeys ----------
/** WCAG AA for normal text. */
export const AA = 4.5;

export interface IFinding {
  text: string;
  where: string;
  ratio: number;
}

/** Contrast of every visible, enabled text under the elements matching `selector`. */
export async function textContrasts(page: Page, selector: string): Promise<IFinding[]> {
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
export async function gridCellContrast(page: Page, row: number, column: number): Promise<number> {
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

export function expectReadable(found: IFinding[], what: string): void {
  expect(found.length, `${what}: texts measured`).toBeGreaterThan(0);
  const low = found.filter(f => f.ratio < AA);
  expect(low, `${what}: texts below ${AA}:1`).toEqual([]);
}


// ---- arranging state through the UI, as a user would ------------------------------------------
/**
 * Empty the basket from its step: "Clear", then the dialog's warning button. Waits until the
 * basket was read (its items, or the empty-state hint) so a slow first read is not mistaken for
 * an empty basket.
 */
export async function emptyBasket(page: Page): Promise<void> {
  await openStep(page, 'Basket');
  const basket = page.locator('#esap-lab-basket');
  const items = basket.locator('.jp-EsapBasket-item');
  const hint = basket.getByText('The basket is empty', { exact: false });
  await expect
    .poll(async () => (await items.count()) > 0 || (await hint.count()) > 0, { timeout: 30000 })
    .toBe(true);
  if ((await items.count()) > 0) {
    await basket.locator('button[aria-label="Clear the basket"]').click();
    await page.locator('.jp-Dialog button.jp-mod-warn').click();
    await expect(items).toHaveCount(0, { timeout: 20000 });
  }
  await expect(hint).toBeVisible();
}

/**
 * Run a cone search from the Search step (archive `archive`, the local demo archive unless
 * given) and wait for its result grid with its row count.
 */
export async function coneSearch(page: Page, ra: number, dec: number, radius: number, archive = 'local'): Promise<void> {
  await openStep(page, 'Search');
  const form = page.locator('.jp-EsapSearch');
  await expect(form.locator('select[name="archive"] option')).not.toHaveCount(0);
  await form.locator('select[name="archive"]').selectOption(archive);
  const cone = form.locator('.jp-EsapSearch-mode-cone');
  if ((await cone.count()) > 0) {
    await cone.click();
  }
  await form.locator('input[name="ra"]').fill(String(ra));
  await form.locator('input[name="dec"]').fill(String(dec));
  await form.locator('input[name="radius"]').fill(String(radius));
  await form.locator('.jp-EsapSearch-run').click();
  const results = page.locator('.jp-EsapResults:visible');
  await expect(results.locator('.jp-EsapResults-grid')).toBeVisible({ timeout: 30000 });
  await expect(results.locator('.jp-EsapResults-count')).toContainText(/\d+ rows?/, { timeout: 30000 });
}

/** Select rows `from`..`to` of the result grid shown and add them to the basket ("Add … selected"). */
export async function addGridRowsToBasket(page: Page, from: number, to = from): Promise<void> {
  await selectGridRows(page, from, to);
  const add = page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows');
  await expect(add).toContainText(String(to - from + 1));
  await add.click();
  await expect(page.locator('.jp-Notification-Toast-success', { hasText: 'to the basket' }).last()).toBeVisible();
}

/**
 * Run an action of the result grid shown (e.g. 'jp-EsapResults-export'): its button on the bar,
 * or, when the bar is too narrow for it, its entry in the bar's "…" menu.
 */
export async function gridAction(page: Page, className: string): Promise<void> {
  const results = page.locator('.jp-EsapResults:visible');
  const button = results.locator(`.jp-EsapResults-bar button.${className}`);
  await expect(button).toHaveCount(1, { timeout: 30000 });
  if (await button.isVisible()) {
    await button.click();
    return;
  }
  const label = ((await button.textContent()) ?? '').trim();
  await results.locator('.jp-EsapResults-more').click();
  await page.locator('.jp-EsapResults-moreMenu .lm-Menu-item', { hasText: label }).first().click();
}

/**
 * Sort the result grid shown by one of its columns, descending: two clicks in the column's header
 * (the grid paints on a canvas; columns are 120 px after a 64 px row header). Returns the rows of
 * the first sorted page the server sent.
 */
export async function sortGridDescending(
  page: Page,
  column: string,
  index: number
): Promise<Record<string, unknown>[]> {
  const results = page.locator('.jp-EsapResults:visible');
  const box = (await results.locator('.jp-EsapResults-grid').boundingBox())!;
  const desc = page.waitForResponse(
    r => /[?&]offset=0&/.test(r.url()) && r.url().includes(`sort=${encodeURIComponent(column)}`) &&
      r.url().includes('order=desc') && r.status() === 200
  );
  for (const order of ['ascending', 'descending']) {
    await page.mouse.click(box.x + 64 + index * 120 + 60, box.y + 12);
    await expect(results.locator('.jp-EsapResults-bar')).toContainText(`sorted by ${column} (${order})`);
  }
  return (await (await desc).json()).rows as Record<string, unknown>[];
}

/**
 * A cone search around (155, 5) on several archives at once, from the Search step ("Several archives
 * at once", the archives ticked, Run). Returns the locator of one archive's entry in the fan-out list.
 */
export async function fanOutCone(page: Page, ids: string[], radius: number): Promise<(id: string) => Locator> {
  await openStep(page, 'Search');
  await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
  await page.check('.jp-EsapSearch input[name="fanout"]');
  const choices = page.locator('.jp-EsapSearch-archives');
  await expect(choices).toBeVisible();
  await page.click('.jp-EsapSearch-mode-cone');
  for (const id of ids) {
    await choices.locator(`input[name="archive-${id}"]`).check();
  }
  await page.fill('.jp-EsapSearch input[name="ra"]', '155');
  await page.fill('.jp-EsapSearch input[name="dec"]', '5');
  await page.fill('.jp-EsapSearch input[name="radius"]', String(radius));
  await page.click('.jp-EsapSearch-run');
  return (id: string) => page.locator(`.jp-EsapSearch-fanoutEntry[data-archive="${id}"]`);
}
