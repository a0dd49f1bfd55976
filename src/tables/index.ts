/**
 * The Tables plugin: the Tables step of the ESAP sidebar, tables and SQL / crossmatch results
 * in the result grid (rows from GET /tables/{t}/rows), the SQL console, "Save as table" on
 * every result grid, and commands for each action (palette "ESAP: ...", context menu).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  IThemeManager,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { contextTarget, notifyFailure, selectedFile } from '../common/commands';
import { restoredTracker } from '../common/restore';
import { ResultsWidget } from '../search/results';
import { IEsapSidebar } from '../tokens';
import { asQuery, ICrossmatch, ITableInfo, suggestTableName, tablesApi, TableFormat } from './api';
import { SqlConsole } from './console';
import { TablesModel } from './model';
import { ITablesActions, TABLE_CLASS, TABLE_ID_ATTR, TablesSection } from './panel';

export const CommandIDs = {
  show: 'esap-lab:tables-show',
  open: 'esap-lab:tables-open',
  console: 'esap-lab:tables-sql',
  crossmatch: 'esap-lab:tables-crossmatch',
  importFile: 'esap-lab:tables-import',
  rename: 'esap-lab:tables-rename',
  remove: 'esap-lab:tables-delete',
  saveResult: 'esap-lab:tables-save-result',
  openFile: 'esap-lab:tables-open-file'
};

/** A table name from anything: an SQL identifier. */
/** Files My tables can import (esap_lab.tables.formats). */
const TABLE_FILE = /\.(csv|tsv|fits?|fts|vot|votable|xml|ecsv|parquet|pq)$/i;

function tableName(text: string): string {
  const base = text.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^[^A-Za-z]+/, '');
  return (base || 'table').slice(0, 60);
}

/** A dialog body of labelled fields (after a note, when given); its value is the fields' values by name. */
class FormBody extends Widget implements Dialog.IBodyWidget<Record<string, string>> {
  constructor(
    fields: { name: string; label: string; value?: string; options?: [string, string][]; type?: string }[],
    note?: string
  ) {
    super();
    this.addClass('jp-EsapForm');
    if (note) {
      const p = document.createElement('p');
      p.className = 'jp-EsapForm-note';
      p.textContent = note;
      this.node.appendChild(p);
    }
    for (const f of fields) {
      const label = document.createElement('label');
      label.textContent = f.label;
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.options) {
        input = document.createElement('select');
        for (const [value, text] of f.options) {
          const o = document.createElement('option');
          o.value = value;
          o.textContent = text;
          input.appendChild(o);
        }
      } else {
        input = document.createElement('input');
        input.type = f.type ?? 'text';
        input.step = 'any';
      }
      input.className = 'jp-mod-styled';
      input.name = f.name;
      input.value = f.value ?? '';
      label.appendChild(input);
      this.node.appendChild(label);
    }
  }

  getValue(): Record<string, string> {
    const out: Record<string, string> = {};
    this.node.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select').forEach(i => {
      out[i.name] = i.value;
    });
    return out;
  }
}

export const tablesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:tables',
  description: 'My tables: saved results and files, SQL over them, crossmatch.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [
    ITranslator,
    ISettingRegistry,
    ICommandPalette,
    IThemeManager,
    ILayoutRestorer,
    IEditorServices,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    restorer: ILayoutRestorer | null,
    editors: IEditorServices | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const prefs = { pageSize: 200, pollInterval: 2 };
    if (registry) {
      void registry
        .load('esap-lab:plugin')
        .then(s => {
          const read = () => Object.assign(prefs, s.composite as any);
          read();
          s.changed.connect(read);
        })
        .catch(() => undefined);
    }
    const model = new TablesModel(() => prefs.pollInterval);
    const { commands } = app;
    const run = (id: string, args: Record<string, any> = {}) => void commands.execute(id, args);

    // tables and results in the result grid; restored after a reload
    const grids = new Map<string, ResultsWidget>();
    const tracker = restoredTracker<ResultsWidget>(restorer, {
      namespace: 'esap-lab-tables',
      command: CommandIDs.open,
      args: w => ({ id: w.query.id, restoring: true }),
      name: w => w.query.id
    });
    /** A short tab title: the table's name, or what made the result. */
    const label = (info: ITableInfo): string => {
      const p = info.provenance;
      if (info.kind === 'result' && p.kind === 'crossmatch') {
        const inputs = (p.inputs as string[]) ?? [];
        const radius = (p.params as { radius?: number } | undefined)?.radius;
        return t.__('%1 × %2 (%3″)', inputs[0] ?? '?', inputs[1] ?? '?', radius ?? '?');
      }
      if (info.kind === 'result' && p.kind === 'sql') {
        return t.__('SQL: %1', String(p.sql ?? '').replace(/\s+/g, ' ').slice(0, 40));
      }
      return info.name;
    };
    const openGrid = (info: ITableInfo) => {
      let w = grids.get(info.id);
      if (!w || w.isDisposed) {
        w = new ResultsWidget(asQuery(info), label(info), prefs.pageSize, t, null, null);
        w.id = `esap-table-${info.id}`;
        w.title.caption = t.__('%1: %2 (%3 rows)', label(info), info.name, info.row_count);
        grids.set(info.id, w);
        app.shell.add(w, 'main');
        void tracker.add(w);
      }
      app.shell.activateById(w.id);
    };
    themes?.themeChanged.connect(() => {
      setTimeout(() => grids.forEach(w => !w.isDisposed && w.restyle()), 200);
    });

    // the SQL console comes back after a reload, with its statement
    let sqlConsole: SqlConsole | null = null;
    model.changed.connect(() => sqlConsole?.refreshHint());
    const consoles = restoredTracker<SqlConsole>(restorer, {
      namespace: 'esap-lab-sql',
      command: CommandIDs.console,
      args: w => ({ sql: w.sql }),
      name: () => 'sql'
    });

    const target = contextTarget(app, TABLE_CLASS, TABLE_ID_ATTR);
    const actions: ITablesActions = {
      open: id => run(CommandIDs.open, { id }),
      rename: id => run(CommandIDs.rename, { id }),
      remove: id => run(CommandIDs.remove, { id }),
      exportTable: (id: string, format: TableFormat) => {
        const a = document.createElement('a');
        a.href = tablesApi.exportUrl(id, format);
        a.download = '';
        document.body.appendChild(a);
        a.click();
        a.remove();
      },
      console: () => run(CommandIDs.console),
      crossmatch: () => run(CommandIDs.crossmatch),
      importFile: () => run(CommandIDs.importFile)
    };
    const section = new TablesSection(model, actions, t);
    sidebar.addSection(section, 50);

    commands.addCommand(CommandIDs.show, {
      label: t.__('ESAP: Show my tables'),
      execute: () => sidebar.activateSection(section)
    });
    commands.addCommand(CommandIDs.open, {
      label: t.__('Open Table'),
      execute: async args => {
        const id = target(args);
        if (!id) {
          return;
        }
        try {
          openGrid(model.get(id) ?? (await tablesApi.get(id)));
        } catch (e) {
          // a restored grid whose table is gone says nothing; a click says why
          if (!args.restoring) {
            notifyFailure(t, t.__('Cannot open the table'), e);
          }
        }
      }
    });
    commands.addCommand(CommandIDs.console, {
      label: t.__('ESAP: SQL over my tables'),
      execute: args => {
        if (!sqlConsole || sqlConsole.isDisposed) {
          const w = new SqlConsole(editors, t, openGrid, () => model.tables);
          sqlConsole = w;
          if (typeof args.sql === 'string' && args.sql.trim()) {
            w.sql = args.sql;
          }
          let saveTimer = 0;
          w.changed.connect(() => {
            window.clearTimeout(saveTimer);
            saveTimer = window.setTimeout(() => void consoles.save(w), 500);
          });
          app.shell.add(w, 'main');
          void consoles.add(w);
        }
        app.shell.activateById(sqlConsole.id);
      }
    });
    commands.addCommand(CommandIDs.rename, {
      label: t.__('Rename Table…'),
      execute: async args => {
        const table = model.get(target(args) ?? '');
        if (!table) {
          return;
        }
        const answer = await InputDialog.getText({
          title: t.__('Rename %1', table.name),
          text: table.name,
          okLabel: t.__('Rename')
        });
        if (answer.button.accept && answer.value && answer.value !== table.name) {
          await tablesApi
            .patch(table.id, { name: answer.value })
            .catch(e => notifyFailure(t, t.__('Not renamed'), e));
          await model.refresh(true);
        }
      }
    });
    commands.addCommand(CommandIDs.remove, {
      label: t.__('Delete Table…'),
      execute: async args => {
        const table = model.get(target(args) ?? '');
        if (!table) {
          return;
        }
        const answer = await showDialog({
          title: t.__('Delete %1?', table.name),
          body: t.__('The table and its %1 rows are deleted; SQL will no longer find it.', table.row_count),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: t.__('Delete') })]
        });
        if (answer.button.accept) {
          await tablesApi.remove(table.id).catch(e => notifyFailure(t, t.__('Not deleted'), e));
          grids.get(table.id)?.dispose();
          await model.refresh(true);
        }
      }
    });
    commands.addCommand(CommandIDs.importFile, {
      label: t.__('ESAP: Import a file as a table'),
      execute: async args => {
        // the file given, else the table file selected in the file browser
        const given = typeof args.path === 'string' ? args.path : (selectedTableFile()?.path ?? '');
        const answer = await showDialog({
          title: t.__('Import a file as a table'),
          body: new FormBody([
            { name: 'path', label: t.__('File (relative to the Jupyter root)'), value: given },
            { name: 'name', label: t.__('Table name (optional)'), value: '' },
            { name: 'project', label: t.__('Project'), value: 'default' }
          ]),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Import') })]
        });
        const v = answer.value;
        if (!answer.button.accept || !v?.path) {
          return;
        }
        const name = v.name || tableName(v.path.split('/').pop() ?? v.path);
        try {
          const info = await tablesApi.create(name, { kind: 'file', path: v.path }, v.project || 'default');
          await model.refresh(true);
          Notification.success(t.__('Imported %1 as %2 (%3 rows).', v.path, info.name, info.row_count), {
            autoClose: 4000
          });
        } catch (e) {
          notifyFailure(t, t.__('%1 was not imported', v.path), e);
        }
      }
    });
    const selectedTableFile = () => selectedFile(browser, TABLE_FILE);
    // a table file of the workspace (an export, a download) opened in the grid: imported into My
    // tables under a free name first (the file browser itself can only show it as text)
    commands.addCommand(CommandIDs.openFile, {
      label: t.__('ESAP: Open as a Table'),
      caption: t.__('Import this CSV, FITS, VOTable, ECSV or Parquet file into My tables and open it in a grid'),
      isVisible: () => !!selectedTableFile(),
      execute: async args => {
        const path = typeof args.path === 'string' ? args.path : selectedTableFile()?.path;
        if (!path) {
          return;
        }
        const base = path.split('/').pop() ?? path;
        const name = suggestTableName(base.replace(/\.[^.]+$/, ''), model.tables.map(x => x.name));
        try {
          const info = await tablesApi.create(name, { kind: 'file', path }, 'default');
          await model.refresh(true);
          openGrid(info);
          Notification.success(t.__('Imported %1 as %2 (%3 rows).', path, info.name, info.row_count), {
            autoClose: 4000
          });
        } catch (e) {
          notifyFailure(t, t.__('%1 was not opened as a table', path), e);
        }
      }
    });
    app.contextMenu.addItem({
      command: CommandIDs.openFile,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 81
    });
    commands.addCommand(CommandIDs.crossmatch, {
      label: t.__('ESAP: Crossmatch two tables'),
      execute: async () => {
        await model.refresh(true);
        const options = model.tables.map(x => [x.name, x.name] as [string, string]);
        if (options.length < 2) {
          Notification.info(t.__('A crossmatch needs two tables: save or import one more.'));
          return;
        }
        const answer = await showDialog({
          title: t.__('Crossmatch two tables'),
          body: new FormBody([
            { name: 'a', label: t.__('Table a'), options, value: options[0][0] },
            { name: 'b', label: t.__('Table b'), options, value: options[1][0] },
            { name: 'radius', label: t.__('Radius (arcsec)'), value: '2', type: 'number' },
            {
              name: 'find',
              label: t.__('Matches'),
              value: 'best',
              options: [
                ['best', t.__('best: closest pairs, each row at most once')],
                ['best1', t.__('best for each row of a')],
                ['best2', t.__('best for each row of b')],
                ['all', t.__('all pairs within the radius')]
              ]
            }
          ]),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Crossmatch') })]
        });
        const v = answer.value;
        if (!answer.button.accept || !v) {
          return;
        }
        try {
          const result = await tablesApi.crossmatch({
            a: v.a,
            b: v.b,
            radius: Number(v.radius),
            find: v.find as ICrossmatch['find']
          });
          openGrid(result);
        } catch (e) {
          notifyFailure(t, t.__('Crossmatch failed'), e);
        }
      }
    });
    commands.addCommand(CommandIDs.saveResult, {
      label: t.__('Save as Table…'),
      execute: async args => {
        const qid = String(args.id ?? '');
        const isResult = args.kind === 'result';
        const rows = typeof args.rows === 'number' ? args.rows : null;
        await model.refresh(true).catch(() => undefined);
        const answer = await showDialog({
          title: t.__('Save as a table'),
          body: new FormBody(
            [
              {
                name: 'name',
                label: t.__('Table name (letters, digits, _)'),
                value: suggestTableName(String(args.title ?? 'result'), model.tables.map(x => x.name))
              },
              { name: 'project', label: t.__('Project'), value: 'default' }
            ],
            rows === null
              ? t.__('Saves every row of this result (not only the selected rows) as one of your tables.')
              : t._n(
                  'Saves the %1 row of this result as one of your tables.',
                  'Saves all %1 rows of this result (not only the selected rows) as one of your tables.',
                  rows
                )
          ),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Save') })]
        });
        const v = answer.value;
        if (!answer.button.accept || !v?.name) {
          return;
        }
        try {
          const info = await tablesApi.create(
            v.name,
            isResult ? { kind: 'result', id: qid } : { kind: 'query', query_id: qid },
            v.project || 'default'
          );
          await model.refresh(true);
          Notification.success(t.__('Saved as table %1 (%2 rows).', info.name, info.row_count), { autoClose: 4000 });
        } catch (e) {
          notifyFailure(t, t.__('Not saved'), e);
        }
      }
    });
    // "Save as table" on every result grid: a query's result, or an SQL / crossmatch result
    ResultsWidget.extraActions.push({
      label: t.__('Save as table'),
      title: t.__('Save this result as one of my tables'),
      className: 'jp-EsapResults-saveTable',
      show: w => w.query.kind !== 'table' || w.query.archive === 'SQL',
      run: w =>
        run(CommandIDs.saveResult, {
          id: w.query.id,
          kind: w.query.kind === 'table' ? 'result' : 'query',
          title: w.query.kind === 'table' ? 'matched' : w.title.label,
          ...(typeof w.query.row_count === 'number' ? { rows: w.query.row_count } : {})
        })
    });

    [CommandIDs.show, CommandIDs.console, CommandIDs.crossmatch, CommandIDs.importFile].forEach((command, i) =>
      palette?.addItem({ command, category: 'ESAP', rank: 60 + i })
    );

    model.standby = () => !sidebar.shown;
    sidebar.shownChanged.connect((_, shown) => shown && model.poke());
    model.start();
  }
};
