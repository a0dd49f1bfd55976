/**
 * The SQL console in the main area: the workbench's SQL editor (DuckDB's dialect, completion of
 * my tables' and their columns' names), Run (or Ctrl+Enter), the engine's error in monospace
 * with its caret and its place marked in the text; a result opens in the result grid.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import { BoxPanel, Widget } from '@lumino/widgets';

import { esapIcon } from '../sidebar';
import { duckdbPosition, ISchemaSource, SqlEditor } from '../workbench/editor';
import { ITableInfo, tablesApi } from './api';

/** My tables as the editor's completion sees them: no schemas, tables with their columns. */
class MyTablesSource implements ISchemaSource {
  constructor(private _tables: () => readonly ITableInfo[]) {}

  async schemas(): Promise<string[]> {
    return [];
  }

  async tables(schema: string | null, q: string): Promise<{ name: string; description?: string; nrows?: number }[]> {
    if (schema !== null) {
      return [];
    }
    const needle = q.toLowerCase();
    return this._tables()
      .filter(x => x.name.toLowerCase().includes(needle))
      .map(x => ({ name: x.name, description: x.description || x.project, nrows: x.row_count }));
  }

  async columns(table: string): Promise<ITableInfo['columns'] | null> {
    const hit = this._tables().find(x => x.name.toLowerCase() === table.toLowerCase());
    return hit ? hit.columns : null;
  }
}

export class SqlConsole extends BoxPanel {
  constructor(
    editors: IEditorServices | null,
    private _t: TranslationBundle,
    private _open: (result: ITableInfo) => void,
    private _tables: () => readonly ITableInfo[]
  ) {
    super({ direction: 'top-to-bottom', spacing: 4 });
    this.id = 'esap-lab-sql-console';
    this.addClass('jp-EsapSql');
    this.title.label = _t.__('SQL: my tables');
    this.title.caption = _t.__('SQL over my tables (DuckDB)');
    this.title.icon = esapIcon;
    this.title.closable = true;

    const bar = new Widget();
    bar.addClass('jp-EsapResults-bar');
    this._run = document.createElement('button');
    this._run.className = 'jp-mod-styled jp-mod-accept jp-EsapSql-run';
    this._run.textContent = _t.__('Run');
    this._run.title = _t.__('Run the statement (Ctrl+Enter)');
    this._run.addEventListener('click', () => void this.run());
    this._hint = document.createElement('span');
    this._hint.className = 'jp-EsapSection-hint';
    bar.node.append(this._run, this._hint);
    this._renderHint();

    const source = new MyTablesSource(_tables);
    this._editor = new SqlEditor({
      editors,
      dialect: 'duckdb',
      source: () => source,
      onRun: () => void this.run(),
      label: _t.__('SQL statement'),
      placeholder: _t.__('Write SQL over your tables, e.g. SELECT * FROM my_table LIMIT 100  (Ctrl+Space completes names, Ctrl+Enter runs)')
    });
    this._editor.addClass('jp-EsapSql-editor');
    // a complete statement over the first table (once the tables are known), never a fragment
    this._startWith();
    this._editor.model.sharedModel.changed.connect(() => this._changed.emit());

    this._error = new Widget({ node: document.createElement('pre') });
    this._error.addClass('jp-EsapSql-error');
    this._error.node.setAttribute('role', 'alert');
    this._error.hide();

    this.addWidget(bar);
    this.addWidget(this._editor);
    this.addWidget(this._error);
    BoxPanel.setStretch(bar, 0);
    BoxPanel.setStretch(this._editor, 1);
    BoxPanel.setStretch(this._error, 0);
  }

  get sql(): string {
    return this._editor.text;
  }

  set sql(value: string) {
    this._editor.text = value;
  }

  /** Emits when the statement changes (the restorer saves it then). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Names the statement can use: my tables, each with its columns. */
  refreshHint(): void {
    this._renderHint();
    this._startWith();
  }

  async run(): Promise<void> {
    const sql = this.sql.trim();
    if (!sql || this._run.disabled) {
      return;
    }
    this._run.disabled = true;
    this._error.hide();
    this._editor.clearError();
    try {
      const result = await tablesApi.sql(this.sql);
      this._open(result);
    } catch (e) {
      // DuckDB's message keeps its "LINE 1: ..." and the caret under the place: shown as is,
      // and the place marked in the editor
      const message = (e as Error).message;
      this._error.node.textContent = message;
      this._error.show();
      const at = duckdbPosition(message, this.sql);
      if (at) {
        this._editor.markError(at.line, at.column);
      }
    } finally {
      this._run.disabled = false;
    }
  }

  protected onActivateRequest(): void {
    this._editor.focus();
  }

  /**
   * While the editor is still empty and untouched: a statement that runs as it is, over the
   * first of my tables (none yet: the editor stays empty and its placeholder says what to write).
   */
  private _startWith(): void {
    const first = this._tables()[0];
    if (this._started || !first || this._editor.text.trim()) {
      this._started = this._started || !!this._editor.text.trim();
      return;
    }
    this._started = true;
    const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(first.name) ? first.name : `"${first.name.replace(/"/g, '""')}"`;
    this._editor.text = `SELECT * FROM ${name} LIMIT 100`;
  }

  private _renderHint(): void {
    const names = this._tables().map(x => x.name);
    this._hint.textContent = names.length
      ? this._t.__('Tables: %1', names.join(', '))
      : this._t.__('No tables yet: save a result or import a file first.');
    this._hint.title = this._tables()
      .map(x => `${x.name}: ${x.columns.map(c => c.name).join(', ')}`)
      .join('\n');
  }

  private _started = false;
  private _changed = new Signal<this, void>(this);
  private _editor: SqlEditor;
  private _run: HTMLButtonElement;
  private _hint: HTMLSpanElement;
  private _error: Widget;
}
