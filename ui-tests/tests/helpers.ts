/**
 * What the ESAP UI specs share: screenshots, the sidebar's steps (a tab each), the result grid.
 */
import { expect } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

/** Screenshots for people to look at (ui-tests/test-results/screenshots, or ESAP_SHOTS). */
export const shot = (page: Page, name: string) =>
  page.screenshot({ path: `${process.env.ESAP_SHOTS || 'test-results/screenshots'}/${name}.png` });

export type Step = 'Search' | 'Basket' | 'Staging' | 'Jobs';

const STEP_IDS: Record<Step, string> = {
  Search: 'esap-lab-search',
  Basket: 'esap-lab-basket',
  Staging: 'esap-lab-staging',
  Jobs: 'esap-lab-jobs'
};

/** Show the ESAP sidebar at one step (its tab), as a user would click them. */
export async function openStep(page: Page, step: Step): Promise<void> {
  const tab = page.locator('li[data-id="esap-lab-sidebar"]');
  if ((await tab.getAttribute('aria-selected')) !== 'true') {
    await tab.click();
  }
  const stepTab = page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: step });
  if (!(await stepTab.getAttribute('class'))?.includes('lm-mod-current')) {
    await stepTab.click();
  }
  await expect(page.locator(`#${STEP_IDS[step]}`)).toBeVisible();
}

/** Click the row header of rows `from`..`to` (0-based) of the result grid shown. */
export async function selectGridRows(page: Page, from: number, to = from): Promise<void> {
  const box = (await page.locator('.jp-EsapResults:visible .jp-EsapResults-grid').boundingBox())!;
  await page.mouse.click(box.x + 30, box.y + 24 + from * 22 + 11);
  if (to !== from) {
    await page.keyboard.down('Shift');
    await page.mouse.click(box.x + 30, box.y + 24 + to * 22 + 11);
    await page.keyboard.up('Shift');
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
