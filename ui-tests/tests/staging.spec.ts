import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  addGridRowsToBasket,
  didSearch,
  emptyBasket,
  forEachTheme,
  openStep,
  selectGridRows,
  setEsapSetting,
  shot,
  Step
} from './helpers';

const RUCIO = process.env.ESAP_TEST_RUCIO_HOST;
const SERVICE = path.resolve(__dirname, '..', '..', 'scripts', 'services', 'rucio.sh');

/** The transfer whose title is exactly `title`. */
const transferOf = (page: Page, title: string) =>
  page
    .locator('#esap-lab-staging .jp-EsapStaging-transfer')
    .filter({ has: page.locator('.jp-EsapStaging-title').getByText(title, { exact: true }) });

async function openSection(page: Page, _id: string, title: string): Promise<void> {
  await openStep(page, title as Step);
}

/**
 * Empty the transfer list from the Staging step, as a user would: a running transfer is
 * cancelled (and confirmed), an ended one removed from the list.
 */
async function clearTransfers(page: Page): Promise<void> {
  await openStep(page, 'Staging');
  const staging = page.locator('#esap-lab-staging');
  const list = staging.locator('.jp-EsapStaging-transfer');
  const hint = staging.getByText('Nothing staged yet');
  // the list is read a moment after the step shows: wait for it (entries or the empty hint)
  await expect
    .poll(async () => (await list.count()) > 0 || (await hint.count()) > 0, { timeout: 30000 })
    .toBe(true);
  for (let i = 0; i < 50 && (await list.count()) > 0; i++) {
    const first = list.first();
    const cancel = first.locator('button[aria-label^="Cancel "]');
    if ((await cancel.count()) > 0) {
      await cancel.click();
      await page.locator('.jp-Dialog button.jp-mod-warn').click();
      await expect(first.locator('button[aria-label^="Remove "]')).toBeVisible({ timeout: 30000 });
    }
    const n = await list.count();
    await first.locator('button[aria-label^="Remove "]').click();
    await expect(list).toHaveCount(n - 1, { timeout: 20000 });
  }
  await expect(hint).toBeVisible();
}

/** A DID search's one row into the basket (as a `did` item). */
async function didToBasket(page: Page, scope: string, name: string, type: 'dataset' | 'container'): Promise<void> {
  await didSearch(page, scope, name, type);
  await expect(page.locator('.jp-EsapResults:visible .jp-EsapResults-count')).toHaveText('1 row', { timeout: 30000 });
  await addGridRowsToBasket(page, 0);
  await openStep(page, 'Basket');
  await expect(page.locator('#esap-lab-basket .jp-EsapBasket-group[data-kind="did"] .jp-EsapBasket-item')).toHaveCount(1);
}

/** Show the Staging step (screenshots). */
async function focusStaging(page: Page): Promise<void> {
  await openStep(page, 'Staging');
}

/** A fresh dataset (replication rules on it start from nothing), uploaded by the Rucio admin. */
function freshDataset(): string {
  const name = `ui.${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esap-ui-'));
  const files = [0, 1, 2].map(i => {
    const p = path.join(dir, `${name}.${i}.dat`);
    fs.writeFileSync(p, Buffer.alloc(200000 + i, i + 1));
    return p;
  });
  const script = [
    'import logging, sys',
    'from rucio.client.uploadclient import UploadClient',
    'q = logging.getLogger("up"); q.setLevel(logging.ERROR)',
    'scope, name, *paths = sys.argv[1:]',
    'UploadClient(logger=q).upload([{"path": p, "rse": "LAKE_A", "did_scope": scope, "dataset_scope": scope, "dataset_name": name} for p in paths])'
  ].join('\n');
  execFileSync(process.env.ESAP_TEST_RUCIO_PYTHON!, ['-I', '-c', script, 'user.alice', name, ...files], {
    env: { ...process.env, RUCIO_CONFIG: process.env.ESAP_TEST_RUCIO_SERVER_CONFIG }
  });
  return `user.alice:${name}`;
}

forEachTheme(() => {
  test.describe('ESAP staging', () => {
    test.skip(!RUCIO, 'no Rucio server (scripts/services/rucio.sh start; eval its env)');

    // an empty basket and an empty transfer list, both emptied from the UI
    test.beforeEach(async ({ page }) => {
      await emptyBasket(page);
      await clearTransfers(page);
    });

    test('stage a basket DID by download, see progress and completion, open its folder', async ({ page }) => {
      await didToBasket(page, 'lake', 'demo.run7', 'dataset');
      await page.locator('#esap-lab-basket .jp-EsapBasket-item input[type="checkbox"]').first().check();

      await openSection(page, 'esap-lab-staging', 'Staging');
      const staging = page.locator('#esap-lab-staging');
      await expect(staging.locator('select[aria-label="Staging mode"]')).toHaveValue('download');
      // the notification that follows the transfer says how it ended, with a way to its folder;
      // it closes by itself: watch for it from the start
      const toast = page.getByRole('alert').filter({ hasText: 'Staged lake:demo.run7 (5 files).' });
      const toastSeen = expect(toast.getByRole('button', { name: 'Open folder' })).toBeVisible({ timeout: 90000 });
      await staging.locator('button[aria-label="Stage the items selected in the basket"]').click();

      const transfer = transferOf(page, 'lake:demo.run7');
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      await expect(transfer).toContainText('5/5 files');
      await toastSeen;
      // a success goes away by itself, like the other success notifications
      await expect(toast).toBeHidden({ timeout: 30000 });

      // the per-file list, then the folder in the file browser
      await transfer.locator('button[aria-label^="Show the files of"]').click();
      await expect(transfer.locator('.jp-EsapStaging-file')).toHaveCount(5);
      await focusStaging(page);
      await shot(page, 'staging-download-completed');
      await transfer.hover();
      await transfer.locator('button[aria-label^="Open the folder of"]').click();
      await expect(page.locator('.jp-DirListing-item', { hasText: 'run7.000.fits' })).toBeVisible({
        timeout: 20000
      });
    });

    test('a basket DID has Stage and Show Files actions in its context menu', async ({ page }) => {
      await didToBasket(page, 'lake', 'demo.run8', 'dataset');
      const item = page.locator('#esap-lab-basket .jp-EsapBasket-item').first();
      await item.click({ button: 'right' });
      await page.locator('.lm-Menu-itemLabel', { hasText: 'Download into This Session' }).click();
      await openSection(page, 'esap-lab-staging', 'Staging');
      const transfer = transferOf(page, 'lake:demo.run8');
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });

      await openSection(page, 'esap-lab-basket', 'Basket');
      await item.click({ button: 'right' });
      await page.locator('.lm-Menu-itemLabel', { hasText: 'Show Files in Rucio' }).click();
      await expect(page.locator('.jp-EsapStaging-contents tbody tr')).toHaveCount(3, { timeout: 20000 });
    });

    test('the files of a container with their replicas, staged from there', async ({ page }) => {
      // the container found by a DID search, into the basket, then "Show Files in Rucio"
      await didToBasket(page, 'lake', 'demo', 'container');
      await page.locator('#esap-lab-basket .jp-EsapBasket-item').first().click({ button: 'right' });
      await page.locator('.lm-Menu-itemLabel', { hasText: 'Show Files in Rucio' }).click();
      const view = page.locator('.jp-EsapStaging-contents');
      await expect(view.locator('tbody tr')).toHaveCount(8, { timeout: 20000 });
      await expect(view).toContainText('CONTAINER · 8 files');
      await expect(view.locator('th', { hasText: 'LAKE_A' })).toBeVisible();
      await shot(page, 'staging-did-contents');
      await view.getByRole('button', { name: 'Download lake:demo into this session' }).click();
      await openSection(page, 'esap-lab-staging', 'Staging');
      const transfer = transferOf(page, 'lake:demo');
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      await expect(transfer).toContainText('8/8 files');
    });

    test('replica mode shows the rule locks until the rule is OK', async ({ page }) => {
      const did = freshDataset();
      await openSection(page, 'esap-lab-staging', 'Staging');
      await focusStaging(page);
      const staging = page.locator('#esap-lab-staging');
      // the fresh dataset, found by a DID search, staged from the grid as a replica (a Rucio rule)
      await didSearch(page, 'user.alice', did.split(':')[1], 'dataset');
      const results = page.locator('.jp-EsapResults:visible');
      await expect(results.locator('.jp-EsapResults-count')).toHaveText('1 row', { timeout: 30000 });
      await selectGridRows(page, 0);
      await results.locator('select.jp-EsapResults-mode').selectOption('replica');
      await results.locator('.jp-EsapResults-stage').click();
      // staging shows the Staging step by itself: the next search waits for that first
      await expect(transferOf(page, `${did} → LAKE_B`)).toBeVisible({ timeout: 30000 });
      // also a large download (two datasets at once), to be seen half way
      await didSearch(page, 'lake', 'bench.*', 'dataset');
      await expect(results.locator('.jp-EsapResults-count')).toHaveText('2 rows', { timeout: 30000 });
      await selectGridRows(page, 0, 1);
      await expect(results.locator('select.jp-EsapResults-mode')).toHaveValue('download');
      await results.locator('.jp-EsapResults-stage').click();
      await expect(staging).toBeVisible({ timeout: 30000 });
      await openStep(page, 'Staging');
      await staging.locator('button[aria-label="Refresh the transfer list"]').click();

      const replica = transferOf(page, `${did} → LAKE_B`);
      await expect(replica).toContainText('rule REPLICATING', { timeout: 20000 });
      await expect(replica).toContainText('0 OK, 3 replicating, 0 stuck');
      await expect(replica.locator('progress').first()).toBeVisible();
      const big = page
        .locator('#esap-lab-staging .jp-EsapStaging-transfer')
        .filter({ has: page.locator('.jp-EsapStaging-title').getByText(/^lake:bench\.(large|small) and 1 more$/) });
      const bar = big.locator('progress').first();
      for (let i = 0; i < 100; i++) {  // catch the download half way for the screenshot, if it lets us
        const v = Number(await bar.getAttribute('value'));
        if ((v > 0.05 && v < 0.95) || (await big.locator('.jp-EsapChip').first().textContent()) !== 'running') {
          break;
        }
        await page.waitForTimeout(50);
      }
      await shot(page, 'staging-section-progress');

      execFileSync(SERVICE, ['transfer-once']);
      await expect(replica.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 30000 });
      await expect(replica).toContainText('rule OK');
      await expect(replica).toContainText('3 OK, 0 replicating');
      await expect(big.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      await shot(page, 'staging-section-completed');
    });

    test('the Download folder setting decides where a download goes (Settings Editor)', async ({ page }) => {
      const folder = `my-downloads-${Date.now().toString(36)}`;
      const did = freshDataset();
      await openStep(page, 'Staging');
      const where = page.locator('#esap-lab-staging .jp-EsapStaging-folder');
      await expect(where).toContainText('Downloads go to');
      await expect(where).not.toContainText(folder);

      await setEsapSetting(page, 'downloadFolder', folder);
      await shot(page, 'settings-download-folder');
      await openStep(page, 'Staging');
      await expect(where).toHaveText(`Downloads go to ${folder}/ (a folder per dataset or query).`);

      // a dataset found by a DID search, downloaded from the grid: into that folder
      await didSearch(page, 'user.alice', did.split(':')[1], 'dataset');
      const results = page.locator('.jp-EsapResults:visible');
      await expect(results.locator('.jp-EsapResults-count')).toHaveText('1 row', { timeout: 30000 });
      await selectGridRows(page, 0);
      await results.locator('.jp-EsapResults-stage').click();
      await openStep(page, 'Staging');
      const transfer = transferOf(page, did);
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      // each file's path (its tooltip in the file list) is under the folder, one subfolder per dataset
      await transfer.locator('button[aria-label^="Show the files of"]').click();
      await expect(transfer.locator('.jp-EsapStaging-file')).toHaveCount(3);
      for (const file of await transfer.locator('.jp-EsapStaging-file').all()) {
        await expect(file).toHaveAttribute('title', new RegExp(`\\n${folder}/user\\.alice/`));
      }
      await transfer.hover();
      await transfer.locator('button[aria-label^="Open the folder of"]').click();
      await expect(page.locator('.jp-DirListing-item', { hasText: '.0.dat' })).toBeVisible({ timeout: 20000 });
      await shot(page, 'settings-download-folder-used');
    });
  });
});
