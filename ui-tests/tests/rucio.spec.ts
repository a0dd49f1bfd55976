import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  didSearch,
  expectReadable,
  forEachTheme,
  openStep,
  selectGridRows,
  shot,
  textContrasts,
  themeSettings,
  THEMES
} from './helpers';

/**
 * Rucio from the UI alone: a DID search, its rows into the basket as DIDs, staged by download
 * (basket context menu) and as a replica (the grid's Replica mode), Show Files, the folder; a
 * search that finds nothing says what to try. Nothing is arranged through the REST API.
 */
const RUCIO = process.env.ESAP_TEST_RUCIO_HOST;
const SERVICE = path.resolve(__dirname, '..', '..', 'scripts', 'services', 'rucio.sh');

/** A fresh dataset (a replication rule on it starts from nothing), uploaded by the Rucio admin. */
function freshDataset(): string {
  const name = `uir.${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esap-ui-'));
  const files = [0, 1].map(i => {
    const p = path.join(dir, `${name}.${i}.dat`);
    fs.writeFileSync(p, Buffer.alloc(50000 + i, i + 1));
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
  return name;
}

/** Empty the basket from its toolbar (asks first). */
async function clearBasket(page: Page): Promise<void> {
  await openStep(page, 'Basket');
  const clear = page.locator('#esap-lab-basket button[aria-label="Clear the basket"]');
  if (await clear.isEnabled()) {
    await clear.click();
    await page.locator('.jp-Dialog button.jp-mod-warn').click();
  }
  await expect(page.locator('#esap-lab-basket .jp-EsapBasket-item')).toHaveCount(0);
}

const transferOf = (page: Page, title: string) =>
  page
    .locator('#esap-lab-staging .jp-EsapStaging-transfer')
    .filter({ has: page.locator('.jp-EsapStaging-title').getByText(title, { exact: true }) });

test.describe('ESAP Rucio from the UI', () => {
  test.skip(!RUCIO, 'no Rucio server (scripts/services/rucio.sh start; eval its env)');

  for (const theme of ['light', 'dark'] as const) {
    test(`DID search -> basket DIDs -> download, Show Files, folder (${theme})`, async ({ page }) => {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
      await clearBasket(page);

      // a search that finds nothing says what to try, with the scopes there are
      await didSearch(page, 'lake', 'no-such-thing*', 'all');
      const hint = page.locator('.jp-EsapSearch-noRows');
      await expect(hint).toContainText('No DID matched lake:no-such-thing*', { timeout: 30000 });
      await expect(hint).toContainText('Scopes on Local data lake:');
      await expect(hint).toContainText('user.alice');
      await shot(page, `rucio-no-rows-hint-${theme}`);

      // two datasets found, both into the basket: they are DIDs, not records
      await didSearch(page, 'lake', 'demo.run*', 'dataset');
      const results = page.locator('.jp-EsapResults:visible');
      await expect(results.locator('.jp-EsapResults-count')).toHaveText('2 rows', { timeout: 30000 });
      await selectGridRows(page, 0, 1);
      await results.locator('.jp-EsapResults-addRows').click();
      await openStep(page, 'Basket');
      const dids = page.locator('#esap-lab-basket .jp-EsapBasket-group[data-kind="did"] .jp-EsapBasket-item');
      await expect(dids).toHaveCount(2);
      await expect(page.locator('#esap-lab-basket .jp-EsapBasket-group[data-kind="record"]')).toHaveCount(0);
      await shot(page, `rucio-basket-dids-${theme}`);

      // the DID's context menu: download into the session, then its files in Rucio
      const run8 = dids.filter({ hasText: 'lake:demo.run8' });
      await run8.click({ button: 'right' });
      await expect(page.locator('.lm-Menu-itemLabel', { hasText: 'Stage as Replica (Rucio Rule)' })).toBeVisible();
      await expect(page.locator('.lm-Menu-itemLabel', { hasText: 'Show Files in Rucio' })).toBeVisible();
      await page.locator('.lm-Menu-itemLabel', { hasText: 'Download into This Session' }).click();
      const transfer = transferOf(page, 'lake:demo.run8');
      await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 60000 });
      await expect(transfer).toContainText('3/3 files');
      await shot(page, `rucio-staged-${theme}`);

      await openStep(page, 'Basket');
      await run8.click({ button: 'right' });
      await page.locator('.lm-Menu-itemLabel', { hasText: 'Show Files in Rucio' }).click();
      const view = page.locator('.jp-EsapStaging-contents:visible');
      await expect(view.locator('tbody tr')).toHaveCount(3, { timeout: 20000 });
      // its buttons, header, chips and cells read at 4.5:1 (WCAG AA) in both themes
      const found = await textContrasts(page, '.jp-EsapStaging-contents:not(.lm-mod-hidden)');
      expect(found.some(f => f.text === 'Download')).toBe(true);
      expectReadable(found, `DID files (${theme})`);
      await shot(page, `rucio-did-files-${theme}`);

      await openStep(page, 'Staging');
      await transfer.hover();
      await transfer.locator('button[aria-label^="Open the folder of"]').click();
      await expect(page.locator('.jp-DirListing-item', { hasText: 'run8.000.fits' })).toBeVisible({
        timeout: 20000
      });
      await shot(page, `rucio-folder-${theme}`);
      if (theme === 'dark') {
        await page.theme.setLightTheme();
      }
    });
  }

  for (const theme of THEMES) {
    test.describe(`${theme} theme`, () => {
      test.use({ mockSettings: themeSettings(theme) });
      test(`"Stage selected" in the grid honours the Replica mode (${theme})`, async ({ page }) => {
        const name = freshDataset();
        await didSearch(page, 'user.alice', name, 'dataset');
        const results = page.locator('.jp-EsapResults:visible');
        await expect(results.locator('.jp-EsapResults-count')).toHaveText('1 row', { timeout: 30000 });
        await selectGridRows(page, 0);
        await results.locator('select.jp-EsapResults-mode').selectOption('replica');
        const stage = results.locator('.jp-EsapResults-stage');
        await expect(stage).toContainText('Stage 1 selected');
        await stage.click();
        const transfer = transferOf(page, `user.alice:${name} → LAKE_B`);
        await expect(transfer).toContainText('replica → LAKE_B', { timeout: 20000 });
        await expect(transfer).toContainText('rule REPLICATING');
        execFileSync(SERVICE, ['transfer-once']);
        await expect(transfer.locator('.jp-EsapChip').first()).toHaveText('completed', { timeout: 30000 });
        await expect(transfer).toContainText('rule OK');
        await shot(page, `rucio-grid-replica-${theme}`);
      });
    });
  }
});

forEachTheme(() => {
  test.describe('ESAP Rucio DID form', () => {
    test.skip(!RUCIO, 'no Rucio server (scripts/services/rucio.sh start; eval its env)');

    test("the Scope box offers the instance's scopes, the first chosen; a hint goes with the archive", async ({ page }) => {
      await openStep(page, 'Search');
      const form = page.locator('.jp-EsapSearch');
      await form.locator('select[name="archive"]').selectOption('lake');
      await form.locator('.jp-EsapSearch-mode-did').click();
      const scope = form.locator('input[name="scope"]');
      // a real value, one of the scopes offered (not a grey placeholder that looks like one)
      await expect(scope).not.toHaveValue('', { timeout: 30000 });
      const offered = await form.locator('#jp-EsapSearch-scopes option').evaluateAll(os => os.map(o => (o as HTMLOptionElement).value));
      expect(offered).toContain('user.alice');
      await expect(scope).toHaveValue(offered[0]);
      await expect(form.locator('.jp-EsapSearch-run')).toBeEnabled();
      await shot(page, 'rucio-scope-chosen');
      // emptied, the box says what belongs there, and Run waits for it
      await scope.fill('');
      await expect(scope).toHaveAttribute('placeholder', /^scope, e\.g\. /);
      await expect(form.locator('.jp-EsapSearch-run')).toBeDisabled();
      await expect(form.getByRole('alert')).toHaveText('Give a scope.');

      // a search that finds nothing leaves a hint; another archive: the hint goes
      await scope.fill('lake');
      await form.locator('input[name="name"]').fill('no-such-thing*');
      await form.locator('.jp-EsapSearch-run').click();
      const hint = page.locator('.jp-EsapSearch-noRows');
      await expect(hint).toContainText('No DID matched lake:no-such-thing*', { timeout: 30000 });
      await form.locator('select[name="archive"]').selectOption('local');
      await expect(hint).toHaveCount(0);
    });
  });
});
