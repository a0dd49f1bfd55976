import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import * as path from 'path';

import { forEachTheme, openStep, shot } from './helpers';

const NOTEBOOK = path.resolve(__dirname, '..', '..', 'tests', 'notebooks', 'params.ipynb');

async function openJobs(page: Page): Promise<void> {
  await openStep(page, 'Jobs');
}

forEachTheme(() => {
  test.describe('ESAP batch jobs', () => {
    test('submit a notebook from its toolbar, see it complete, open the output', async ({ page, tmpPath }) => {
      await page.contents.uploadFile(NOTEBOOK, `${tmpPath}/params.ipynb`);
      await page.notebook.openByPath(`${tmpPath}/params.ipynb`);
      await page.notebook.activate('params.ipynb');

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
      await dialog.locator('button.jp-mod-accept').click();

      // the Jobs section shows it, and it completes
      await openJobs(page);
      const job = page.locator('#esap-lab-jobs .jp-EsapJobs-job').first();
      await expect(job).toContainText('params.ipynb');
      await expect(job.locator('.jp-EsapChip')).toHaveText('completed', { timeout: 90000 });
      await expect(page.locator('.jp-Notification-Toast-success', { hasText: 'params.ipynb' })).toBeVisible();
      await shot(page, 'jobs-section');

      // its log, then its output notebook with the parameter-dependent result
      await job.hover();
      await job.locator('button[aria-label^="Show the log"]').click();
      await expect(page.locator('.jp-EsapJobs-log pre').nth(1)).toContainText('result=81');
      await job.hover();
      await job.locator('button[aria-label^="Open the output notebook"]').click();
      const output = page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', { hasText: 'result=81' });
      await expect(output).toBeVisible({ timeout: 30000 });
      await shot(page, 'jobs-output');
    });
  });
});
