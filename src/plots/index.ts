/**
 * The Plots plugin: on every result grid (and every table of My tables) a *Plot* button (a plot
 * of the whole result beside the grid) and an *Export…* button (a format, the whole result or the
 * selected rows, downloaded or saved into the workspace); the basket's records export the same
 * way (context menu of a basket item, and the palette).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IThemeManager, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { contextTarget, notifyFailure } from '../common/commands';
import { gridInMain, waitForGrid } from '../common/grids';
import { restyleOnThemeChange } from '../common/theme';
import { ResultsWidget } from '../search/results';
import { numericColumns, PlotKind, plotsApi, targetOf } from './api';
import { askExport, download, saveWithOverwrite, savedMessage } from './export';
import { PlotWidget } from './widget';

export const PlotCommands = {
  plot: 'esap-lab:plot-result',
  exportResult: 'esap-lab:export-result',
  exportBasket: 'esap-lab:export-basket-records'
};

const BASKET_ITEM_CLASS = 'jp-EsapBasket-item';
const BASKET_ID_ATTR = 'data-esap-basket-id';

function fileBase(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+|[._]+$/g, '').slice(0, 60) || 'result';
}

export const plotsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:plots',
  description: 'Plots of a whole result (scatter, histogram, density; region selection) and exports.',
  autoStart: true,
  optional: [ITranslator, ICommandPalette, IThemeManager, IDefaultFileBrowser, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    browser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null
  ) => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const { commands, shell } = app;
    const plots = new WidgetTracker<PlotWidget>({ namespace: 'esap-lab-plots' });
    restyleOnThemeChange(themes?.themeChanged, fn => plots.forEach(fn));
    /** The grid a command acts on: the one given, else the current main-area widget's. */
    const grids = new Map<string, ResultsWidget>();
    const gridOf = (args: { grid?: unknown }): ResultsWidget | null => {
      const byId = typeof args.grid === 'string' ? grids.get(args.grid) ?? gridInMain(shell, args.grid) : undefined;
      if (byId && !byId.isDisposed) {
        return byId;
      }
      if (typeof args.grid === 'string') {
        return null; // that grid is not open (any more)
      }
      const current = shell.currentWidget;
      if (current instanceof ResultsWidget) {
        return current;
      }
      if (current instanceof PlotWidget) {
        return current.results;
      }
      return null;
    };
    const remember = (w: ResultsWidget) => {
      grids.set(w.id, w);
      w.disposed.connect(() => grids.delete(w.id));
      return w.id;
    };

    commands.addCommand(PlotCommands.plot, {
      label: t.__('ESAP: Plot the whole result'),
      caption: t.__('A scatter, histogram or density plot of every row of the result, beside its grid'),
      isEnabled: args => !!gridOf(args),
      execute: async args => {
        const startedAt = typeof args.startedAt === 'number' ? args.startedAt : performance.now();
        // after a reload the grid is being restored too: give it a few seconds to come back
        const w = args.restoring ? await waitForGrid(() => gridOf(args)) : gridOf(args);
        if (!w) {
          return;
        }
        let plot = plots.find(p => p.results === w);
        if (!plot) {
          const initial =
            typeof args.kind === 'string' && typeof args.x === 'string'
              ? { kind: args.kind as PlotKind, x: args.x, y: typeof args.y === 'string' ? args.y : null }
              : undefined;
          plot = new PlotWidget(w, t, startedAt, initial);
          shell.add(plot, 'main', { mode: 'split-right', ref: w.id });
          void plots.add(plot);
          const p = plot;
          p.stateChanged.connect(() => void plots.save(p));
        }
        shell.activateById(plot.id);
      }
    });

    if (restorer) {
      void restorer.restore(plots, {
        command: PlotCommands.plot,
        args: p => ({ grid: p.results.id, ...p.state, restoring: true }),
        name: p => p.id
      });
    }

    commands.addCommand(PlotCommands.exportResult, {
      label: t.__('ESAP: Export the result…'),
      caption: t.__('Export the result or its selected rows as VOTable, FITS, CSV, ECSV or Parquet'),
      isEnabled: args => !!gridOf(args),
      execute: async args => {
        const w = gridOf(args);
        if (!w) {
          return;
        }
        const q = w.query;
        const isTable = q.kind === 'table';
        // the rows the user sees selected, by their numbers in stored order (sorted grid or not)
        const selected = isTable ? [] : await w.storedRows();
        const choice = await askExport(t, {
          title: t.__('Export %1', w.title.label),
          base: fileBase(w.title.label),
          folder: browser?.model.path ?? '',
          selected: selected.length,
          canSave: !isTable,
          what: t._n('the whole result (%1 row)', 'the whole result (%1 rows)', q.row_count ?? 0)
        });
        if (!choice) {
          return;
        }
        const rows = choice.selected ? selected : undefined;
        try {
          if (!choice.save) {
            const url = plotsApi.exportUrl(targetOf(q), choice.format, rows);
            if (!url) {
              Notification.warning(t.__('Too many rows for a download link: save them into the workspace instead.'));
              return;
            }
            download(url);
            return;
          }
          if (!choice.path) {
            Notification.warning(t.__('Give the file a name.'));
            return;
          }
          const saved = await saveWithOverwrite(t, overwrite =>
            plotsApi.save(q.id, { format: choice.format, path: choice.path, rows, overwrite })
          );
          if (saved) {
            savedMessage(t, saved);
            void browser?.model.refresh();
          }
        } catch (e) {
          notifyFailure(t, t.__('Not exported'), e);
        }
      }
    });

    const basketTarget = contextTarget(app, BASKET_ITEM_CLASS, BASKET_ID_ATTR);
    commands.addCommand(PlotCommands.exportBasket, {
      label: args =>
        basketTarget(args) ? t.__('Export Records of This Query…') : t.__('ESAP: Export basket records…'),
      caption: t.__('The basket records (all, or those from one query) as one table file'),
      execute: async args => {
        const id = basketTarget(args);
        let queryId: string | undefined;
        if (id) {
          try {
            const item = await plotsApi.basketItem(id);
            if (item.kind !== 'record') {
              Notification.info(t.__('Only record items export as a table.'));
              return;
            }
            queryId = item.query_id ?? undefined;
          } catch (e) {
            notifyFailure(t, t.__('Not exported'), e);
            return;
          }
        }
        const choice = await askExport(t, {
          title: queryId ? t.__('Export the basket records of one query') : t.__('Export the basket records'),
          base: queryId ? `basket-${queryId.slice(0, 8)}` : 'basket-records',
          folder: browser?.model.path ?? '',
          selected: 0,
          canSave: true,
          what: queryId ? t.__('the records from this query') : t.__('every record of the basket')
        });
        if (!choice) {
          return;
        }
        try {
          if (!choice.save) {
            download(plotsApi.basketUrl(choice.format, queryId));
            return;
          }
          const saved = await saveWithOverwrite(t, overwrite =>
            plotsApi.saveBasket({ format: choice.format, path: choice.path, query_id: queryId, overwrite })
          );
          if (saved) {
            savedMessage(t, saved);
            void browser?.model.refresh();
          }
        } catch (e) {
          notifyFailure(t, t.__('Not exported'), e);
        }
      }
    });
    app.contextMenu.addItem({
      command: PlotCommands.exportBasket,
      selector: `.jp-EsapBasket-group[data-kind="record"] .${BASKET_ITEM_CLASS}`,
      rank: 60
    });

    // the grids' bar: Plot and Export… (a plot needs a numeric column)
    ResultsWidget.extraActions.push(
      {
        label: t.__('Plot'),
        title: t.__('Plot the whole result (scatter, histogram, density) beside the grid'),
        className: 'jp-EsapResults-plot',
        show: w => w.query.kind !== 'did' && numericColumns(w.query.columns).length > 0,
        run: w => void commands.execute(PlotCommands.plot, { grid: remember(w), startedAt: performance.now() })
      },
      {
        label: t.__('Export…'),
        title: t.__('Export the result or the selected rows: VOTable, FITS, CSV, ECSV, Parquet'),
        className: 'jp-EsapResults-export',
        show: w => w.query.kind !== 'did',
        run: w => void commands.execute(PlotCommands.exportResult, { grid: remember(w) })
      }
    );
    [PlotCommands.plot, PlotCommands.exportResult, PlotCommands.exportBasket].forEach((command, i) =>
      palette?.addItem({ command, category: 'ESAP', rank: 70 + i })
    );
  }
};
