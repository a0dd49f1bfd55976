import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import * as path from 'path';

import { addGridRowsToBasket, coneSearch, emptyBasket, forEachTheme, openStep, shot } from './helpers';

const NOTEBOOK = path.resolve(__dirname, '..', '..', 'tests', 'notebooks', 'params.ipynb');

async function openJobs(page: Page): Promise<void> {
  await openStep(page, 'Jobs');
}

forEachTheme(() => {
  test.describe('ESAP batch jobs', () => {
    test('submit a notebook from its toolbar, see it complete, open the output', async ({ page, tmpPath }) => {
      // a name of its own: the jobs of earlier tests (the other theme) are in the list too
      const name = `params-${Date.now().toString(36)}.ipynb`;
      await page.contents.uploadFile(NOTEBOOK, `${tmpPath}/${name}`);
      await page.notebook.openByPath(`${tmpPath}/${name}`);
      await page.notebook.activate(name);

      // the toolbar button opens the dialog, with the parameters of the "parameters" cell
      await page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="esapSubmitJob"]').click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('.jp-EsapJobs-form')).toBeVisible({ timeout: 30000 });
      await expect(dialog.locator('select[aria-label="Batch backend"]')).toContainText('local');
      const n = dialog.locator('input[aria-label="Value of parameter n (a Python literal)"]');
      await expect(n).toHaveValue('2');
      await n.fill('9');
      // a value of the wrong type is refused in the dialog: delay is declared as a float
      const delay = dialog.locator('input[aria-label="Value of parameter delay (a Python literal)"]');
      await delay.fill('fifteen');
      await expect(dialog.locator('button.jp-mod-accept')).toBeDisabled();
      await expect(dialog).toContainText('delay is declared as float');
      await shot(page, 'jobs-dialog-type-check');
      await delay.fill('0.5');
      await expect(dialog.locator('button.jp-mod-accept')).toBeEnabled();
      await dialog.locator('input[aria-label="CPU cores"]').fill('1');
      await shot(page, 'jobs-submit-dialog');
      // the notification of the job's end closes after 8 s: watch for it from now on, so a slow
      // step below cannot make us miss it
      const toast = page.locator('.jp-Notification-Toast-success', { hasText: name });
      const toastSeen = expect(toast).toBeVisible({ timeout: 120000 });
      await dialog.locator('button.jp-mod-accept').click();
      await expect(dialog).toHaveCount(0);

      // the submission opens the Jobs step by itself (a click on the sidebar's tab now could
      // close it again): it shows the job, which completes
      await expect(page.locator('#esap-lab-jobs')).toBeVisible({ timeout: 30000 });
      await openJobs(page);
      const job = page.locator('#esap-lab-jobs .jp-EsapJobs-job', { hasText: name });
      await expect(job).toHaveCount(1, { timeout: 30000 });
      await expect(job.locator('.jp-EsapChip')).toHaveText('completed', { timeout: 120000 });
      await toastSeen;
      await shot(page, 'jobs-section');

      // its log (standard output and error), then its output notebook with the parameter-dependent result
      await job.locator('button[aria-label^="Show the log"]').click();
      const log = page.locator('.jp-EsapJobs-log:visible');
      await expect(log.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 30000 });
      await expect(log).toContainText('result=81');
      await job.locator('button[aria-label^="Open the output notebook"]').click();
      const output = page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', { hasText: 'result=81' });
      await expect(output).toBeVisible({ timeout: 60000 });
      await shot(page, 'jobs-output');
    });

    test('basket items selected in the Basket step go to the job as esap_basket', async ({ page, tmpPath }) => {
      // two rows of a cone search in an emptied basket, both selected
      await emptyBasket(page);
      await coneSearch(page, 155, 5, 0.05);
      await addGridRowsToBasket(page, 0, 1);
      await openStep(page, 'Basket');
      const boxes = page.locator('#esap-lab-basket .jp-EsapBasket-item input[type="checkbox"]');
      await expect(boxes).toHaveCount(2, { timeout: 20000 });
      for (const box of await boxes.all()) {
        await box.check();
      }
      const name = `params-${Date.now().toString(36)}.ipynb`;
      await page.contents.uploadFile(NOTEBOOK, `${tmpPath}/${name}`);
      await page.sidebar.openTab('filebrowser'); // the notebook is opened from the file browser
      await page.notebook.openByPath(`${tmpPath}/${name}`);
      await page.notebook.activate(name);
      await page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="esapSubmitJob"]').click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('.jp-EsapJobs-form')).toBeVisible({ timeout: 30000 });
      // the parameter says where its value comes from: the basket items under Data, not a literal
      const pass = dialog.locator('.jp-EsapJobs-check', { hasText: 'Pass the 2 selected basket items' });
      await expect(pass.locator('input')).toBeChecked();
      const param = dialog.locator('input[aria-label="Value of parameter esap_basket (a Python literal)"]');
      await expect(param).toBeDisabled();
      await expect(param).toHaveValue('the 2 selected basket items (see Data)');
      await shot(page, 'jobs-dialog-basket');
      await dialog.locator('button.jp-mod-accept').click();
      await expect(dialog).toHaveCount(0);
      await expect(page.locator('#esap-lab-jobs')).toBeVisible({ timeout: 30000 });
      const job = page.locator('#esap-lab-jobs .jp-EsapJobs-job', { hasText: name });
      await expect(job.locator('.jp-EsapChip')).toHaveText('completed', { timeout: 120000 });
      await job.locator('button[aria-label^="Show the log"]').click();
      const log = page.locator('.jp-EsapJobs-log:visible');
      await expect(log).toContainText(/basket=\['[0-9a-f]+', '[0-9a-f]+'\]/, { timeout: 30000 });
    });
  });
});
