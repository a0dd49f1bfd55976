/**
 * Seeing a result: the sky view (Aladin Lite), a row's DataLink and SODA cutouts, and SAMP
 * (send a result or the selected rows to TOPCAT, Aladin or DS9; tables they send back land in
 * my tables and the basket). Each adds a button to every result grid's bar.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';

import { gridInMain, waitForGrid } from '../common/grids';
import { showLinks } from '../datalink/dialog';
import { NoHubError, SampWebClient } from '../samp/client';
import { ResultsWidget } from '../search/results';
import { skyApi } from './api';
import { SkyWidget } from './widget';

const CommandIDs = {
  sky: 'esap-lab:sky-view',
  connect: 'esap-lab:samp-connect',
  disconnect: 'esap-lab:samp-disconnect'
};

/** What to say when no hub answers. */
function noHub(t: TranslationBundle): string {
  return t.__(
    'No SAMP hub is running. Start TOPCAT or Aladin (or astropy\'s samp_hub), then send again.'
  );
}

export class SampBridge {
  constructor(private _t: TranslationBundle) {
    this._poll = new Poll({
      factory: () => this._pull(),
      frequency: { interval: 1500, backoff: true, max: 15000 },
      standby: () => !this.client.registered || 'when-hidden',
      name: 'esap-lab:samp'
    });
  }

  readonly client = new SampWebClient();

  /** Register with the hub (it may ask the user to accept esap-lab) and take tables sent here. */
  async connect(): Promise<boolean> {
    const t = this._t;
    if (this.client.registered) {
      return true;
    }
    try {
      await this.client.register(t.__('esap-lab: results of IVOA archives from JupyterLab'));
      await this.client.listen();
      void this._poll.refresh();
      return true;
    } catch (error) {
      Notification.error(error instanceof NoHubError ? noHub(t) : t.__('SAMP: %1', (error as Error).message), {
        autoClose: false
      });
      return false;
    }
  }

  async disconnect(): Promise<void> {
    await this.client.unregister();
  }

  /** Send a result, or its selected rows, to every SAMP client that takes tables. */
  async send(w: ResultsWidget): Promise<void> {
    const t = this._t;
    if (!(await this.connect())) {
      return;
    }
    try {
      // sorted or not, the rows the user sees selected, in the grid's order
      const rows = await w.storedRows();
      if (!rows.length && w.selectedRows().length) {
        return; // their pages could not be read (the grid said why): not the whole result instead
      }
      const link = await skyApi.sampLink({ query_id: w.query.id, rows: rows.length ? rows : null, format: 'votable' });
      const targets = await this.client.subscribed(link.mtype);
      const names = Object.values(targets);
      if (!names.length) {
        Notification.warning(t.__('No SAMP client takes tables: start TOPCAT or Aladin first.'));
        return;
      }
      await this.client.notify(null, {
        'samp.mtype': link.mtype,
        'samp.params': { url: link.url, 'table-id': link.table_id, name: link.name }
      });
      Notification.success(
        rows.length
          ? t.__('Sent %1 rows to %2.', rows.length, names.join(', '))
          : t.__('Sent the result to %1.', names.join(', ')),
        { autoClose: 4000 }
      );
    } catch (error) {
      Notification.error(
        error instanceof NoHubError ? noHub(t) : t.__('Could not send over SAMP: %1', (error as Error).message)
      );
    }
  }

  private async _pull(): Promise<void> {
    const t = this._t;
    let tables;
    try {
      tables = await this.client.pull(0);
    } catch (error) {
      if (error instanceof NoHubError) {
        await this.client.unregister();
        Notification.warning(t.__('The SAMP hub has gone away; esap-lab no longer receives tables.'));
        return;
      }
      throw error;
    }
    for (const table of tables) {
      try {
        const r = await fetch(this.client.translate(table.url));
        if (!r.ok) {
          throw new Error(`HTTP ${r.status}`);
        }
        const fmt = table.mtype === 'table.load.fits' ? 'fits' : 'votable';
        const got = await skyApi.sampReceived(await r.arrayBuffer(), table.name, table.sender, fmt);
        Notification.success(
          t.__('%1 sent a table: it is in the basket and in My tables as %2 (%3 rows).', table.sender, got.table_name, got.row_count),
          { autoClose: 6000 }
        );
      } catch (error) {
        Notification.error(t.__('Could not keep the table %1 sent: %2', table.sender, (error as Error).message));
      }
    }
  }

  private _poll: Poll;
}

export const skyPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:sky',
  description: 'Sky view (Aladin Lite), DataLink and SODA cutouts, and SAMP for result grids.',
  autoStart: true,
  optional: [ITranslator, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const samp = new SampBridge(t);
    // the sky views open now: restored after a reload, beside their grid (restored too)
    const skies = new WidgetTracker<SkyWidget>({ namespace: 'esap-lab-sky' });

    const openSky = (w: ResultsWidget) => {
      let sky = skies.find(s => s.results === w);
      if (!sky) {
        sky = new SkyWidget(w, t);
        app.shell.add(sky, 'main', { mode: 'split-right', ref: w.id });
        void skies.add(sky);
        void sky.start();
      }
      app.shell.activateById(sky.id);
    };

    app.commands.addCommand(CommandIDs.sky, {
      label: t.__('ESAP: Sky view of the result'),
      caption: t.__('Show the rows of a result grid on the sky (Aladin Lite)'),
      execute: async args => {
        const id = typeof args.grid === 'string' ? args.grid : '';
        const find = () => gridInMain(app.shell, id);
        const w = args.restoring ? await waitForGrid(find) : find();
        if (w) {
          openSky(w);
        }
      }
    });
    if (restorer) {
      void restorer.restore(skies, {
        command: CommandIDs.sky,
        args: s => ({ grid: s.results.id, restoring: true }),
        name: s => s.id
      });
    }

    const links = async (w: ResultsWidget) => {
      const rows = w.selectedRows();
      if (rows.length !== 1) {
        Notification.info(t.__('Select one row in the grid first.'));
        return;
      }
      const [stored] = await w.storedRows(); // the row's number in the archive's order
      if (stored === undefined) {
        return; // its page could not be read: the grid said why
      }
      await showLinks(w.query.id, stored, rows[0], t);
    };

    ResultsWidget.extraActions.push(
      {
        label: t.__('Sky view'),
        title: t.__('Show the rows on the sky (Aladin Lite); clicking a source selects its row'),
        className: 'jp-EsapResults-sky',
        show: w => w.query.kind !== 'did',
        run: w => openSky(w)
      },
      {
        label: t.__('DataLink…'),
        title: t.__('The links of the selected row (full data, preview, cutouts) and a SODA cutout'),
        className: 'jp-EsapResults-datalink',
        show: w => w.query.kind !== 'did',
        run: w => void links(w)
      },
      {
        label: t.__('Send to SAMP'),
        title: t.__('Send the result, or the selected rows, to TOPCAT, Aladin or DS9 (SAMP)'),
        className: 'jp-EsapResults-samp',
        show: w => w.query.kind !== 'did',
        run: w => void samp.send(w)
      }
    );

    app.commands.addCommand(CommandIDs.connect, {
      label: t.__('Connect to a SAMP Hub (receive tables from TOPCAT, Aladin)'),
      execute: async () => {
        if (await samp.connect()) {
          Notification.success(t.__('Connected to the SAMP hub: tables sent to esap-lab land in the basket.'), {
            autoClose: 4000
          });
        }
      }
    });
    app.commands.addCommand(CommandIDs.disconnect, {
      label: t.__('Disconnect from the SAMP Hub'),
      isEnabled: () => samp.client.registered,
      execute: () => samp.disconnect()
    });
    palette?.addItem({ command: CommandIDs.connect, category: 'ESAP', rank: 80 });
    palette?.addItem({ command: CommandIDs.disconnect, category: 'ESAP', rank: 81 });
    window.addEventListener('beforeunload', () => void samp.disconnect());
  }
};
