/**
 * The Previews plugin: a FITS image or a spectrum rendered on the server, opened in the main area
 * from a result row with a data link (the grid's *Preview* button), a basket record (context
 * menu) or a FITS file of the workspace (file browser context menu "ESAP: Preview"). Previews
 * come back after a reload.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IThemeManager, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { contextTarget, selectedFile } from '../common/commands';
import { restyleOnThemeChange } from '../common/theme';
import { PreviewSource } from '../plots/api';
import { ResultsWidget } from '../search/results';
import { ThumbnailStrip } from './thumbnails';
import { PreviewWidget, previewId } from './widget';

export const PreviewCommands = {
  open: 'esap-lab:preview',
  file: 'esap-lab:preview-file',
  row: 'esap-lab:preview-row',
  item: 'esap-lab:preview-basket-item'
};

const FITS = /\.(fits?|fts)(\.gz)?$/i;

function sourceOf(args: Record<string, unknown>): PreviewSource | null {
  if (typeof args.path === 'string') {
    return { path: args.path };
  }
  if (typeof args.item === 'string') {
    return { item: args.item };
  }
  if (typeof args.query === 'string' && typeof args.row === 'number') {
    return { query: args.query, row: args.row };
  }
  return null;
}

export const previewsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:previews',
  description: 'Previews of FITS images and spectra rendered on the server.',
  autoStart: true,
  optional: [ITranslator, ICommandPalette, ILayoutRestorer, IDefaultFileBrowser, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    browser: IDefaultFileBrowser | null,
    themes: IThemeManager | null
  ) => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const { commands, shell } = app;
    const tracker = new WidgetTracker<PreviewWidget>({ namespace: 'esap-lab-previews' });
    restyleOnThemeChange(themes?.themeChanged, fn => tracker.forEach(fn));

    commands.addCommand(PreviewCommands.open, {
      label: t.__('ESAP: Preview'),
      execute: args => {
        const source = sourceOf(args);
        if (!source) {
          return;
        }
        const id = previewId(source);
        let w = tracker.find(p => p.id === id);
        if (!w) {
          w = new PreviewWidget(source, String(args.label ?? ('path' in source ? source.path : id)), t);
          // beside the work the first time; then as a tab with the other previews
          const other = tracker.currentWidget ?? tracker.find(() => true);
          shell.add(w, 'main', other && !other.isDisposed ? { mode: 'tab-after', ref: other.id } : { mode: 'split-right' });
          void tracker.add(w);
        }
        shell.activateById(w.id);
      }
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: PreviewCommands.open,
        args: w => ({ ...w.source, label: w.label }),
        name: w => w.id
      });
    }

    const selectedFits = () => selectedFile(browser, FITS);
    commands.addCommand(PreviewCommands.file, {
      label: t.__('ESAP: Preview'),
      caption: t.__('Render this FITS image or spectrum on the server'),
      isVisible: () => !!selectedFits(),
      execute: () => {
        const item = selectedFits();
        if (item) {
          return commands.execute(PreviewCommands.open, { path: item.path, label: PathExt.basename(item.path) });
        }
      }
    });
    app.contextMenu.addItem({
      command: PreviewCommands.file,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 80
    });

    const basketTarget = contextTarget(app, 'jp-EsapBasket-item', 'data-esap-basket-id');
    commands.addCommand(PreviewCommands.item, {
      label: t.__('Preview'),
      caption: t.__("Render the item's data link (a FITS image or spectrum) on the server"),
      execute: args => {
        const id = basketTarget(args);
        if (id) {
          const node = app.contextMenuHitTest(n => n.classList.contains('jp-EsapBasket-item'));
          const title = node?.querySelector('.jp-EsapSection-title')?.textContent ?? id;
          return commands.execute(PreviewCommands.open, { item: id, label: title });
        }
      }
    });
    app.contextMenu.addItem({
      command: PreviewCommands.item,
      selector: '.jp-EsapBasket-group[data-kind="record"] .jp-EsapBasket-item',
      rank: 59
    });

    // the first selected row, sorted grid or not: by its number in stored order (the server's),
    // named by the number it shows in the grid
    const previewSelected = async (w: ResultsWidget) => {
      const shown = w.selectedRows()[0];
      if (shown === undefined) {
        Notification.info(t.__('Select a row in the grid first.'));
        return;
      }
      const [row] = await w.model.stored([shown]);
      if (row === undefined) {
        return; // its page could not be read: the grid said why
      }
      return commands.execute(PreviewCommands.open, {
        query: w.query.id,
        row,
        label: t.__('%1 row %2', w.title.label, shown + 1)
      });
    };

    commands.addCommand(PreviewCommands.row, {
      label: t.__('ESAP: Preview the selected row'),
      caption: t.__("Render the selected row's data link (a FITS image or spectrum) on the server"),
      execute: args => {
        const w = shell.currentWidget;
        if (!(w instanceof ResultsWidget)) {
          return;
        }
        if (typeof args.row === 'number') {
          return commands.execute(PreviewCommands.open, {
            query: w.query.id,
            row: args.row,
            label: t.__('%1 row %2', w.title.label, args.row + 1)
          });
        }
        return previewSelected(w);
      }
    });
    ResultsWidget.extraActions.push({
      label: t.__('Preview'),
      title: t.__("Preview the first selected row's image or spectrum (rendered on the server)"),
      className: 'jp-EsapResults-preview',
      show: w => !!w.query.access_url_column && w.query.kind !== 'table',
      run: w => void previewSelected(w)
    });
    // thumbnails of an image search: a strip above the grid (the button shows and hides it)
    const strips = new Map<string, ThumbnailStrip>();
    ResultsWidget.extraActions.push({
      label: t.__('Thumbnails'),
      title: t.__('Show or hide thumbnails of the first rows above the grid'),
      className: 'jp-EsapResults-thumbnails',
      show: w => !!w.query.access_url_column && w.query.kind === 'sia',
      run: w => {
        const shown = strips.get(w.id);
        if (shown && !shown.isDisposed) {
          shown.dispose();
          strips.delete(w.id);
          return;
        }
        const strip = new ThumbnailStrip(w, t, row =>
          void commands.execute(PreviewCommands.open, {
            query: w.query.id,
            row,
            label: t.__('%1 row %2', w.title.label, row + 1)
          })
        );
        strips.set(w.id, strip);
        w.disposed.connect(() => strips.delete(w.id));
        w.insertWidget(1, strip);
      }
    });
    palette?.addItem({ command: PreviewCommands.row, category: 'ESAP', rank: 80 });
  }
};
