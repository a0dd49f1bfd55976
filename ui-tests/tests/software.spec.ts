/**
 * Software from the OSSR, as a user goes, in the light and the dark theme: spectra of the local
 * DaCHS (its SSA table, esapspec.ssa, through the ADQL form) in the basket; the OSSR's records
 * that fit it, the spectra workflow saying why ("spectra"); that one opened here (a long
 * operation: progress, then its README); its notebook run with the basket on the local backend,
 * which counts the spectra it got. The OSSR is a stand-in of Zenodo's records API
 * (tests/zenodo_standin.py, started by jupyter_server_test_config.py): Zenodo cannot be reached.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { openStep, selectGridRows, shot } from './helpers';

async function openSoftware(page: Page): Promise<void> {
  await openStep(page, 'Search'); // shows the ESAP sidebar
  await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Software' }).click();
  await expect(page.locator('#esap-lab-software')).toBeVisible();
}

for (const theme of ['light', 'dark'] as const) {
  test(`spectra in the basket -> suggestions -> open here -> run with the basket (${theme})`, async ({ page }) => {
    test.setTimeout(240000); // a search, a download and a job on a loaded machine
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    // spectra of the local archive in the basket: its SSA table through the ADQL form
    await openStep(page, 'Search');
    await page.locator('.jp-EsapSearch select[name="archive"]').selectOption('local');
    await page.click('.jp-EsapSearch-mode-tap');
    await page.fill(
      '.jp-EsapSearch textarea[name="adql"]',
      "SELECT TOP 5 * FROM esapspec.ssa WHERE ssa_targclass = 'galaxy'"
    );
    await page.click('.jp-EsapSearch-run');
    await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toContainText('rows', {
      timeout: 60000
    });
    await selectGridRows(page, 0, 2);
    await page.locator('.jp-EsapResults:visible .jp-EsapResults-addRows').click();
    await expect(page.locator('.Toastify__toast', { hasText: 'to the basket' }).first()).toBeVisible();
    await shot(page, `software-spectra-${theme}`);

    // the OSSR's records that fit it: the spectra workflow says why
    await openSoftware(page);
    const suggestion = page.locator('.jp-EsapSoftware-suggestions .jp-EsapSoftware-card', { hasText: 'SpecFit' });
    await expect(suggestion).toBeVisible({ timeout: 30000 });
    await expect(suggestion.locator('.jp-EsapSoftware-why')).toContainText(/Fits your basket: .*spectra/);
    await expect(suggestion.locator('.jp-EsapSoftware-status')).toHaveText('codemeta');
    await suggestion.scrollIntoViewIfNeeded();
    await shot(page, `software-suggestions-${theme}`);

    // a search, paged cards with their metadata
    await page.fill('.jp-EsapSoftware-search input[name="q"]', 'photometry');
    await page.locator('.jp-EsapSoftware-go').click();
    const card = page.locator('.jp-EsapSoftware-results .jp-EsapSoftware-card').first();
    await expect(card).toContainText('PhotoFit');
    await expect(card).toContainText('10.5281/zenodo.7001');
    await expect(card).toContainText('MIT');

    // open here, a long operation: the files are fetched, checked and unpacked; the README opens
    await suggestion.locator('.jp-EsapSoftware-open').click();
    // (the second theme finds it opened already: "is in ... already")
    await expect(
      page.locator('.Toastify__toast', { hasText: /SpecFit: \d+ files in .*checksums verified|SpecFit is in .* already/ })
    ).toBeVisible({ timeout: 60000 });
    await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'README.md' }).first()).toBeVisible({
      timeout: 20000
    });
    await expect(suggestion.locator('.jp-EsapSoftware-open')).toBeEnabled(); // the operation has ended
    await shot(page, `software-opened-${theme}`);

    // run its notebook with the basket on the local backend; the job completes, counting spectra
    await suggestion.locator('.jp-EsapSoftware-run').click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('select[name="backend"]').selectOption('local');
    await dialog.locator('button.jp-mod-accept').click();
    await expect(page.locator('.Toastify__toast', { hasText: 'submitted as job' }).first()).toBeVisible({
      timeout: 30000
    });
    await openStep(page, 'Jobs');
    const job = page.locator('#esap-lab-jobs .jp-EsapJobs-job', { hasText: 'specfit.ipynb' }).first();
    await expect(job).toBeVisible();
    await expect(job.locator('.jp-EsapChip')).toHaveText('completed', { timeout: 120000 });
    await job.hover();
    await job.locator('button[aria-label^="Show the log"]').click();
    // earlier journeys of the run may have put other items in the basket too
    await expect(page.locator('.jp-EsapJobs-log').first()).toContainText(
      /SpecFit got [1-9]\d* spectra from [1-9]\d* basket items/,
      { timeout: 120000 }
    );
    await shot(page, `software-run-${theme}`);
    if (theme === 'dark') {
      await page.theme.setLightTheme();
    }
  });
}
