/**
 * A spectrum previewed in both themes: a TAP query of the demo spectra, its first row previewed
 * (flux against wavelength, with units), drawn again in the page's colours when the theme
 * changes. (Image previews in both themes: plots.spec.ts.)
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { gridAction, openStep, selectGridRows, shot } from './helpers';

async function runSearch(page: Page, fill: () => Promise<void>): Promise<void> {
  await openStep(page, 'Search');
  const form = page.locator('.jp-EsapSearch');
  await expect(form.locator('select[name="archive"] option')).not.toHaveCount(0);
  await form.locator('select[name="archive"]').selectOption('local');
  await fill();
  await form.locator('.jp-EsapSearch-run').click();
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', {
    timeout: 90000
  });
}

test.describe('ESAP spectrum preview in both themes', () => {
  test.setTimeout(240000);

  test('a spectrum of a TAP result, light then dark', async ({ page }) => {
    await runSearch(page, async () => {
      await page.click('.jp-EsapSearch-mode-tap');
      await page.fill('.jp-EsapSearch textarea[name="adql"]', 'SELECT TOP 3 accref, ssa_dstitle, mime FROM esapspec.ssa');
    });
    await selectGridRows(page, 0);
    await gridAction(page, 'jp-EsapResults-preview');
    const preview = page.locator('.jp-EsapPreview');
    await expect(preview).toHaveAttribute('data-state', 'shown', { timeout: 60000 });
    await expect(preview).toHaveAttribute('data-kind', 'spectrum');
    await expect(preview).toHaveAttribute('data-theme', 'light');
    await expect(preview.locator('.jp-EsapSection-hint')).toContainText('Spectrum');
    await expect(preview.locator('canvas')).toBeVisible();
    await shot(page, 'previews-spectrum-light');
    await page.theme.setDarkTheme();
    await expect(preview).toHaveAttribute('data-theme', 'dark', { timeout: 10000 });
    await shot(page, 'previews-spectrum-dark');
    await page.theme.setLightTheme();
    await expect(preview).toHaveAttribute('data-theme', 'light', { timeout: 10000 });
  });
});
