/**
 * Registry discovery and searches over several archives, through the UI alone: find the local
 * DaCHS's spectrum service in its registry, add it as an archive, search it for spectra; one cone
 * search over the demo archive and a dead one (only the dead one fails); an ObsCore search with a
 * band and a time interval.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { fanOutCone, openStep, shot } from './helpers';

async function openSearch(page: Page): Promise<void> {
  await openStep(page, 'Search');
  await expect(page.locator('.jp-EsapSearch select[name="archive"] option')).not.toHaveCount(0);
}

const SPECTRA = 'ivo://esaplab.demo/esapspec/q/ssap';

test.describe('ESAP registry and fan-out', () => {
  test('find a service in the registry, add it, search it for spectra', async ({ page }) => {
    await openSearch(page);
    await page.click('.jp-EsapSearch-registry');
    const panel = page.locator('.jp-EsapRegistry');
    await expect(panel).toBeVisible();
    await panel.locator('input[name="keywords"]').fill('spectra');
    await panel.locator('select[name="servicetype"]').selectOption('ssa');
    await panel.locator('.jp-EsapRegistry-search').click();
    const resource = panel.locator(`.jp-EsapRegistry-resource[data-ivoid="${SPECTRA}"]`);
    await expect(resource).toBeVisible({ timeout: 60000 });
    await expect(resource.locator('.jp-EsapRegistry-title')).toHaveText('esap-lab demo spectra search');
    await expect(resource.locator('.jp-EsapRegistry-capability')).toHaveText(['SSA (spectra)']);
    await expect(resource.locator('.jp-EsapRegistry-description')).toContainText('spectra');
    // a retry finds it added by the first attempt: remove it, then add it again
    const remove = resource.locator('.jp-EsapRegistry-remove');
    if (await remove.isVisible()) {
      await remove.click();
    }
    await shot(page, 'registry-found');
    await resource.locator('.jp-EsapRegistry-add').click();
    await expect(resource.locator('.jp-EsapRegistry-added')).toContainText('Your archive', { timeout: 20000 });
    await shot(page, 'registry-added');
    await page.theme.setDarkTheme();
    await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
    await page.waitForTimeout(1500);
    await shot(page, 'registry-added-dark');
    await page.theme.setLightTheme();

    // the Search form lists it (selected) and offers what it answers: spectra
    const select = page.locator('.jp-EsapSearch select[name="archive"]');
    await expect(select.locator('option', { hasText: 'esap-lab demo spectra search' })).toHaveCount(1);
    await expect(select).toHaveValue('esap-lab-demo-spectra-search');
    await expect(page.locator('.jp-EsapSearch-yours')).toBeVisible();
    await expect(page.locator('.jp-EsapSearch-mode-ssa')).toBeVisible();
    await page.click('.jp-EsapSearch-mode-ssa');
    await page.fill('.jp-EsapSearch input[name="ra"]', '155');
    await page.fill('.jp-EsapSearch input[name="dec"]', '5');
    await page.fill('.jp-EsapSearch input[name="size"]', '0.6');
    await page.click('.jp-EsapSearch-run');
    const grid = page.locator('.jp-EsapResults:visible');
    await expect(grid).toBeVisible({ timeout: 60000 });
    await expect(grid.locator('.jp-EsapResults-count')).toContainText('rows');
    const rows = Number((await grid.locator('.jp-EsapResults-count').innerText()).replace(/\D/g, ''));
    expect(rows).toBeGreaterThanOrEqual(10);
    await page.waitForTimeout(500);
    await shot(page, 'registry-spectra-grid');

    // band and time (SSA BAND and TIME): a band the wrong way round is refused in the form
    const form = page.locator('.jp-EsapSearch');
    await form.locator('input[name="band_lo"]').fill('700');
    await form.locator('input[name="band_hi"]').fill('400');
    await expect(form.locator('.jp-EsapSection-error[role="alert"]')).toContainText('Band');
    await expect(page.locator('.jp-EsapSearch-run')).toBeDisabled();
    // the spectra cover 380-720 nm; those on the field were observed one a month through 2022
    await form.locator('input[name="band_lo"]').fill('500');
    await form.locator('input[name="band_hi"]').fill('600');
    await form.locator('input[name="time_start"]').fill('2022-01-01');
    await form.locator('input[name="time_end"]').fill('2022-03-31');
    await page.click('.jp-EsapSearch-run');
    const some = page.locator('.jp-EsapResults:visible .jp-EsapResults-count');
    await expect(some).not.toHaveText(`${rows} rows`, { timeout: 60000 });
    const inQ1 = Number((await some.innerText()).replace(/\D/g, ''));
    expect(inQ1).toBeGreaterThan(0);
    expect(inQ1).toBeLessThan(rows);
    await page.waitForTimeout(500);
    await shot(page, 'registry-spectra-band-time');
  });

  test('one cone search over the demo archive and a dead one: only the dead one fails', async ({ page }) => {
    await page.theme.setDarkTheme(); // this journey in the dark theme (the others in the light one)
    await fanOutCone(page, ['local', 'dead'], 0.2);
    const entries = page.locator('.jp-EsapSearch-fanoutEntry');
    const local = entries.locator('xpath=.').filter({ has: page.locator('text=Local demo archive') });
    const dead = page.locator('.jp-EsapSearch-fanoutEntry[data-archive="dead"]');
    await expect(page.locator('.jp-EsapSearch-fanoutEntry[data-archive="local"]')).toHaveAttribute(
      'data-status',
      'completed',
      { timeout: 60000 }
    );
    await expect(dead).toHaveAttribute('data-status', 'error', { timeout: 60000 });
    await expect(dead.locator('.jp-EsapSearch-entryError')).toContainText('unreachable');
    await expect(local.locator('.jp-EsapSearch-rows')).toContainText('rows');
    // the live archive's rows are in a grid of their own
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', {
      timeout: 30000
    });
    // the grid is painted on a canvas: its background follows the theme
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const canvas = document.querySelector('.jp-EsapResults:not(.lm-mod-hidden) canvas') as HTMLCanvasElement;
            const [r, g, b] = canvas.getContext('2d')!.getImageData(canvas.width - 3, canvas.height - 3, 1, 1).data;
            return {
              canvas: (r + g + b) / 3 < 100,
              light: document.body.dataset.jpThemeLight
            };
          }),
        { timeout: 15000 }
      )
      .toMatchObject({ canvas: true, light: 'false' });
    await page.waitForTimeout(500);
    await shot(page, 'fanout-dead-archive-dark');
    await page.theme.setLightTheme();
  });

  test('an ObsCore search with a band and a time interval; bad input is refused first', async ({ page }) => {
    await openSearch(page);
    await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
    await expect(page.locator('.jp-EsapSearch-mode-obscore')).toBeVisible({ timeout: 30000 });
    await page.click('.jp-EsapSearch-mode-obscore');
    await page.fill('.jp-EsapSearch input[name="ra"]', '155');
    await page.fill('.jp-EsapSearch input[name="dec"]', '5');
    await page.fill('.jp-EsapSearch input[name="radius"]', '3');
    await page.fill('.jp-EsapSearch input[name="band_lo"]', '600');
    await page.fill('.jp-EsapSearch input[name="band_hi"]', '500');
    await expect(page.locator('.jp-EsapSearch-run')).toBeDisabled();
    await expect(page.locator('.jp-EsapSearch [role="alert"]').first()).toContainText('Band');
    await page.fill('.jp-EsapSearch input[name="band_lo"]', '500');
    await page.fill('.jp-EsapSearch input[name="band_hi"]', '600');
    await page.fill('.jp-EsapSearch input[name="time_start"]', '2020-01-01');
    await page.fill('.jp-EsapSearch input[name="time_end"]', '2020-01-10');
    await page.check('.jp-EsapSearch input[name="dataproduct-image"]');
    await page.check('.jp-EsapSearch input[name="calib-2"]');
    await expect(page.locator('.jp-EsapSearch-run')).toBeEnabled();
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapSearch-fanoutEntry[data-archive="local"]')).toHaveAttribute(
      'data-status',
      'completed',
      { timeout: 60000 }
    );
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', {
      timeout: 30000
    });
    await page.waitForTimeout(500);
    await shot(page, 'obscore-search');
  });
});
