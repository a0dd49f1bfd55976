/**
 * Software from the OSSR, as a user goes: records from a search in the basket, the OSSR's
 * records that fit it (each says why), one opened here (its README), its notebook run with the
 * basket on the local backend. The OSSR is a stand-in of Zenodo's records API
 * (ui-tests/ossr_standin.py, started by jupyter_server_test_config.py): Zenodo cannot be reached.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { openStep, selectGridRows, shot } from './helpers';

async function openSoftware(page: Page): Promise<void> {
  await openStep(page, 'Search'); // shows the ESAP sidebar
  await page.locator('.jp-EsapSidebar-tabs .lm-TabBar-tab', { hasText: 'Software' }).click();
  await expect(page.locator('#esap-lab-software')).toBeVisible();
}

test('basket -> suggestions -> open here -> run with the basket', async ({ page }) => {
  test.setTimeout(180000); // a search, a download and a job on a loaded machine
  // records of the local archive in the basket
  await openStep(page, 'Search');
  await page.fill('.jp-EsapSearch input[name="ra"]', '155');
  await page.fill('.jp-EsapSearch input[name="dec"]', '5');
  await page.fill('.jp-EsapSearch input[name="radius"]', '0.1');
  await page.click('.jp-EsapSearch-run');
  await expect(page.locator('.jp-EsapResults-count')).toContainText('rows', { timeout: 60000 });
  await selectGridRows(page, 0, 2);
  await page.locator('.jp-EsapResults-addRows').click();
  await expect(page.locator('.Toastify__toast', { hasText: 'to the basket' })).toBeVisible();

  // the OSSR's records that fit it, each saying why
  await openSoftware(page);
  const suggestion = page.locator('.jp-EsapSoftware-suggestions .jp-EsapSoftware-card').first();
  await expect(suggestion).toContainText('PhotoFit', { timeout: 30000 });
  await expect(suggestion.locator('.jp-EsapSoftware-why')).toContainText('Fits your basket');
  await expect(suggestion.locator('.jp-EsapSoftware-status')).toHaveText('codemeta');
  await shot(page, 'software-suggestions');

  // a search, paged cards with their metadata
  await page.fill('.jp-EsapSoftware-search input[name="q"]', 'photometry');
  await page.locator('.jp-EsapSoftware-go').click();
  const card = page.locator('.jp-EsapSoftware-results .jp-EsapSoftware-card').first();
  await expect(card).toContainText('PhotoFit');
  await expect(card).toContainText('10.5281/zenodo.7001');
  await expect(card).toContainText('MIT');

  // open here: the files are fetched, checked and unpacked; the README opens
  await suggestion.locator('.jp-EsapSoftware-open').click();
  // (a retry finds it opened already: "is in ... already")
  await expect(page.locator('.Toastify__toast', { hasText: /checksums verified|already/ })).toBeVisible({
    timeout: 30000
  });
  await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'README.md' })).toBeVisible({
    timeout: 20000
  });
  await shot(page, 'software-opened');

  // run its notebook with the basket on the local backend; the job completes
  await suggestion.locator('.jp-EsapSoftware-run').click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select[name="backend"]').selectOption('local');
  await dialog.locator('button.jp-mod-accept').click();
  await expect(page.locator('.Toastify__toast', { hasText: 'submitted as job' })).toBeVisible({ timeout: 30000 });
  await openStep(page, 'Jobs');
  const job = page.locator('#esap-lab-jobs .jp-EsapJobs-job').first();
  await expect(job).toContainText('fit.ipynb');
  await expect(job.locator('.jp-EsapChip')).toHaveText('completed', { timeout: 90000 });
  await job.hover();
  await job.locator('button[aria-label^="Show the log"]').click();
  await expect(page.locator('.jp-EsapJobs-log').first()).toContainText(
    // earlier journeys of the run may have put other kinds in the basket too
    /PhotoFit got [1-9]\d* basket items: \[[^\]]*'record'/, { timeout: 120000 });
  await shot(page, 'software-run');
});
