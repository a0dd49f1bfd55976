/**
 * The SQL console in the main area: a CodeMirror editor (SQL), Run (or Ctrl+Enter), the
 * engine's error in monospace with its caret; a result opens in the result grid.
 */
import { CodeEditor, IEditorServices } from '@jupyterlab/codeeditor';
import { TranslationBundle } from '@jupyterlab/translation';
import { BoxPanel, Widget } from '@lumino/widgets';

import { esapIcon } from '../sidebar';
import { ITableInfo, tablesApi } from './api';

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

    const host = new Widget();
    host.addClass('jp-EsapSql-editor');
    this.model = new CodeEditor.Model({ mimeType: 'text/x-sql' });
    this.model.sharedModel.setSource('SELECT * FROM ');
    if (editors) {
      this._editor = editors.factoryService.newInlineEditor({ host: host.node, model: this.model });
    } else {
      // no editor service (a stripped-down Lab): a plain text area
      const area = document.createElement('textarea');
      area.value = this.model.sharedModel.getSource();
      area.addEventListener('input', () => this.model.sharedModel.setSource(area.value));
      host.node.appendChild(area);
    }
    host.node.setAttribute('aria-label', _t.__('SQL statement'));
    host.node.addEventListener(
      'keydown',
      e => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          e.stopPropagation();
          void this.run();
        }
      },
      true
    );

    this._error = new Widget({ node: document.createElement('pre') });
    this._error.addClass('jp-EsapSql-error');
    this._error.node.setAttribute('role', 'alert');
    this._error.hide();

    this.addWidget(bar);
    this.addWidget(host);
    this.addWidget(this._error);
    BoxPanel.setStretch(bar, 0);
    BoxPanel.setStretch(host, 1);
    BoxPanel.setStretch(this._error, 0);
  }

  readonly model: CodeEditor.IModel;

  get sql(): string {
    return this.model.sharedModel.getSource();
  }

  set sql(value: string) {
    this.model.sharedModel.setSource(value);
  }

  /** Names the statement can use: my tables, each with its columns. */
  refreshHint(): void {
    this._renderHint();
  }

  async run(): Promise<void> {
    const sql = this.sql.trim();
    if (!sql) {
      return;
    }
    this._run.disabled = true;
    this._error.hide();
    try {
      const result = await tablesApi.sql(sql);
      this._open(result);
    } catch (e) {
      // DuckDB's message keeps its "LINE 1: ..." and the caret under the place: shown as is
      this._error.node.textContent = (e as Error).message;
      this._error.show();
    } finally {
      this._run.disabled = false;
    }
  }

  protected onActivateRequest(): void {
    this._editor?.focus();
  }

  dispose(): void {
    this._editor?.dispose();
    super.dispose();
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

  private _editor: CodeEditor.IEditor | null = null;
  private _run: HTMLButtonElement;
  private _hint: HTMLSpanElement;
  private _error: Widget;
}
