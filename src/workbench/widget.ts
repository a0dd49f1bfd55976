/**
 * The ADQL workbench in the main area: an archive's schema browser beside a CodeMirror editor
 * (ADQL highlighting, completion of schema, table and column names), the service's examples,
 * Run (sync or async: the UWS phase and the time while it runs) and Cancel, the error's place
 * marked in the text, and the history of the archive's queries to edit or run again. A result
 * opens in the result grid of the Search step.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import { BoxPanel, SplitPanel, Widget } from '@lumino/widgets';

import { archivesApi, EsapApiError, IArchive, IQueryInfo } from '../api';
import { isFinal } from '../common/format';
import { esapIcon } from '../sidebar';
import { IErrorPosition, IExample, workbenchApi } from './api';
import { SchemaBrowser } from './browser';
import { SqlEditor } from './editor';
import { ArchiveSchema } from './model';

export interface IWorkbenchOptions {
  editors: IEditorServices | null;
  trans: TranslationBundle;
  /** Open a completed query in the result grid. */
  openResult: (q: IQueryInfo, archiveTitle: string) => void;
  /** Seconds between polls of a running query (the user's setting). */
  pollInterval: () => number;
}

export interface IWorkbenchState {
  archive: string;
  query: string;
  async: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export class AdqlWorkbench extends BoxPanel {
  constructor(private _o: IWorkbenchOptions) {
    super({ direction: 'top-to-bottom', spacing: 0 });
    const t = _o.trans;
    this.id = 'esap-lab-workbench';
    this.addClass('jp-EsapWorkbench');
    this.title.label = t.__('ADQL workbench');
    this.title.caption = t.__('Write and run ADQL on an archive, with its schema and examples');
    this.title.icon = esapIcon;
    this.title.closable = true;

    // -- the bar: archive, run options, status ----------------------------------------------
    const bar = new Widget();
    bar.addClass('jp-EsapResults-bar');
    bar.addClass('jp-EsapWorkbench-bar');
    this._archiveSelect = el('select', 'jp-mod-styled jp-EsapWorkbench-archive');
    this._archiveSelect.setAttribute('aria-label', t.__('Archive'));
    this._archiveSelect.addEventListener('change', () => this.setArchive(this._archiveSelect.value));
    this._runButton = el('button', 'jp-mod-styled jp-mod-accept jp-EsapWorkbench-run', t.__('Run'));
    this._runButton.title = t.__('Run the query (Ctrl+Enter)');
    this._runButton.addEventListener('click', () => void this.run());
    this._cancelButton = el('button', 'jp-mod-styled jp-mod-reject jp-EsapWorkbench-cancel', t.__('Cancel'));
    this._cancelButton.title = t.__('Cancel the running query (and its job on the archive)');
    this._cancelButton.disabled = true;
    this._cancelButton.addEventListener('click', () => void this.cancel());
    const asyncLabel = el('label', 'jp-EsapWorkbench-async');
    this._asyncBox = el('input', 'jp-EsapWorkbench-asyncBox');
    this._asyncBox.type = 'checkbox';
    this._asyncBox.name = 'async';
    this._asyncBox.addEventListener('change', () => this._changed.emit());
    asyncLabel.append(this._asyncBox, document.createTextNode(t.__('Async (UWS job)')));
    asyncLabel.title = t.__('Run as an asynchronous job on the archive: for long queries and large results');
    this._maxrec = el('input', 'jp-mod-styled jp-EsapWorkbench-maxrec');
    this._maxrec.inputMode = 'numeric';
    this._maxrec.placeholder = t.__('max rows');
    this._maxrec.setAttribute('aria-label', t.__('Max rows (optional)'));
    this._status = el('span', 'jp-EsapSection-hint jp-EsapWorkbench-status');
    this._status.setAttribute('role', 'status');
    const archiveLabel = el('label', 'jp-EsapWorkbench-async', t.__('Archive'));
    archiveLabel.appendChild(this._archiveSelect);
    bar.node.append(archiveLabel, this._runButton, asyncLabel, this._maxrec, this._cancelButton, this._status);

    // -- left: the schema browser; right: examples, editor, error, history ------------------
    this._browser = new SchemaBrowser(t, name => this.editor.insert(name));
    this.editor = new SqlEditor({
      editors: _o.editors,
      dialect: 'adql',
      source: () => this._schema,
      onRun: () => void this.run(),
      label: t.__('ADQL query'),
      placeholder: t.__('SELECT TOP 10 * FROM schema.table  (Ctrl+Space completes names, Ctrl+Enter runs)')
    });
    this.editor.model.sharedModel.changed.connect(() => this._changed.emit());
    this._examples = new Widget();
    this._examples.addClass('jp-EsapWorkbench-examples');
    this._error = new Widget({ node: el('div', 'jp-EsapSection-error jp-EsapWorkbench-error') });
    this._error.node.setAttribute('role', 'alert');
    this._error.hide();
    this._history = new Widget();
    this._history.addClass('jp-EsapWorkbench-history');
    const right = new BoxPanel({ direction: 'top-to-bottom', spacing: 4 });
    right.addClass('jp-EsapWorkbench-main');
    right.addWidget(this._examples);
    right.addWidget(this.editor);
    right.addWidget(this._error);
    right.addWidget(this._history);
    BoxPanel.setStretch(this._examples, 0);
    BoxPanel.setStretch(this.editor, 3);
    BoxPanel.setStretch(this._error, 0);
    BoxPanel.setStretch(this._history, 2);
    this._right = right;
    // the examples wrap onto as many lines as they need (up to a few): the layout is told their height
    new ResizeObserver(() => this._fitExamples()).observe(right.node);
    const split = new SplitPanel({ orientation: 'horizontal', spacing: 4 });
    split.addWidget(this._browser);
    split.addWidget(right);
    split.setRelativeSizes([1, 2]);
    this.addWidget(bar);
    this.addWidget(split);
    BoxPanel.setStretch(bar, 0);
    BoxPanel.setStretch(split, 1);
  }

  readonly editor: SqlEditor;

  /** The archive shown ('' until the archives are known). */
  get archive(): string {
    return this._archive?.id ?? this._pendingArchive;
  }

  /** What a reload restores: the archive, the query text, sync or async. */
  get state(): IWorkbenchState {
    return { archive: this.archive, query: this.editor.text, async: this._asyncBox.checked };
  }

  /** Emits when the query, the archive or the options change (the draft is saved then). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The schema browser (the tests read its timings). */
  get browser(): SchemaBrowser {
    return this._browser;
  }

  /** Fill the archive list, then show `archive` (or the first TAP archive). */
  async load(state: Partial<IWorkbenchState> = {}): Promise<void> {
    if (state.query !== undefined) {
      this.editor.text = state.query;
    }
    if (state.async !== undefined) {
      this._asyncBox.checked = state.async;
    }
    if (state.archive) {
      this._pendingArchive = state.archive;
    }
    if (!this._archives.length) {
      try {
        this._archives = (await archivesApi.list(false)).filter(a => a.capabilities.includes('tap'));
      } catch (e) {
        this._showError((e as Error).message);
        return;
      }
      this._archiveSelect.textContent = '';
      for (const a of this._archives) {
        const o = el('option', '', a.title);
        o.value = a.id;
        o.title = a.description;
        this._archiveSelect.appendChild(o);
      }
      if (!this._archives.length) {
        this._status.textContent = this._o.trans.__('No archive with a TAP service is configured.');
      }
    }
    const wanted = this._pendingArchive || this._archive?.id || this._archives[0]?.id;
    if (wanted && wanted !== this._archive?.id) {
      this.setArchive(wanted);
    }
  }

  setArchive(id: string): void {
    const archive = this._archives.find(a => a.id === id) ?? this._archives[0];
    if (!archive) {
      return;
    }
    this._pendingArchive = '';
    this._archive = archive;
    this._archiveSelect.value = archive.id;
    this._schema = new ArchiveSchema(archive.id);
    this._browser.setSource(this._schema);
    this.title.label = this._o.trans.__('ADQL: %1', archive.title);
    this._maxrec.placeholder = archive.details?.default_maxrec
      ? this._o.trans.__('max rows (%1)', String(archive.details.default_maxrec))
      : this._o.trans.__('max rows');
    this._error.hide();
    void this._loadExamples(archive);
    void this.refreshHistory();
    this._changed.emit();
  }

  /** Run the editor's query on the archive; the result opens in the grid. */
  async run(): Promise<void> {
    const t = this._o.trans;
    const archive = this._archive;
    const query = this.editor.text.trim();
    if (!archive || this._running) {
      return;
    }
    if (!query) {
      this._showError(t.__('Write an ADQL query first.'));
      return;
    }
    const maxrec = this._maxrec.value.trim();
    if (maxrec && !/^[1-9]\d*$/.test(maxrec)) {
      this._showError(t.__('Max rows must be a whole number above 0.'));
      return;
    }
    this.editor.clearError();
    this._error.hide();
    this._cancelled = false;
    this._setRunning(true);
    const started = Date.now();
    const tick = () => this._renderStatus(started);
    const timer = window.setInterval(tick, 250);
    try {
      let q = await archivesApi.start(archive.id, {
        kind: 'tap',
        query: this.editor.text,
        async: this._asyncBox.checked,
        ...(maxrec ? { maxrec: Number(maxrec) } : {})
      });
      this._current = q;
      tick();
      void this.refreshHistory(); // the running query is listed at once
      while (!isFinal(q.status) && !this._cancelled) {
        const early = Date.now() - started < 3000;
        await sleep(Math.max(250, this._o.pollInterval() * 1000 * (early ? 0.15 : 0.5)));
        if (this._cancelled) {
          break;
        }
        q = await archivesApi.get(q.id);
        this._current = q;
        tick();
      }
      if (this._cancelled) {
        return;
      }
      if (q.status === 'error') {
        this._showError(q.message ?? t.__('The query failed.'), (q as { position?: IErrorPosition | null }).position);
      } else if (q.status === 'completed') {
        this._status.textContent = t.__('%1 · %2 rows · %3 s', q.phase ?? t.__('Done'), q.row_count ?? 0, ((Date.now() - started) / 1000).toFixed(1));
        this._o.openResult(q, archive.title);
      }
    } catch (e) {
      this._showError(e instanceof EsapApiError ? e.message : String(e));
    } finally {
      window.clearInterval(timer);
      this._current = null;
      this._setRunning(false);
      void this.refreshHistory();
    }
  }

  async cancel(): Promise<void> {
    const q = this._current;
    this._cancelled = true;
    this._setRunning(false);
    this._status.textContent = this._o.trans.__('Cancelled.');
    if (q) {
      try {
        await archivesApi.cancel(q.id);
      } catch (e) {
        this._showError(this._o.trans.__('Could not cancel: %1', (e as Error).message));
      }
    }
  }

  /** The archive's ADQL queries, newest first: edit one, or run it again. */
  async refreshHistory(): Promise<void> {
    const t = this._o.trans;
    const archive = this._archive;
    let queries: IQueryInfo[] = [];
    try {
      queries = (await archivesApi.queries()).filter(q => q.kind === 'tap' && q.archive === archive?.id);
    } catch {
      return; // the history waits for the next run
    }
    const node = this._history.node;
    node.textContent = '';
    node.appendChild(el('div', 'jp-EsapWorkbench-historyTitle', t.__('History (%1)', queries.length)));
    const list = el('ul', 'jp-EsapSection-list jp-EsapWorkbench-historyList');
    list.setAttribute('aria-label', t.__('Query history'));
    for (const q of queries.slice(0, 50)) {
      const text = String(q.request.query ?? '');
      const li = el('li', 'jp-EsapWorkbench-historyEntry');
      li.dataset.status = q.status;
      const chip = el('span', 'jp-EsapChip', q.status);
      chip.dataset.status = q.status;
      const code = el('code', 'jp-EsapWorkbench-historyQuery', text.replace(/\s+/g, ' '));
      code.title = [text, q.message ?? ''].filter(Boolean).join('\n\n');
      const when = el('span', 'jp-EsapSchema-meta', [
        new Date(q.created).toLocaleTimeString(),
        q.request.async ? 'async' : 'sync',
        q.row_count !== null ? t._n('%1 row', '%1 rows', q.row_count) : ''
      ].filter(Boolean).join(' · '));
      const edit = el('button', 'jp-mod-styled jp-mod-reject jp-EsapWorkbench-edit', t.__('Edit'));
      edit.title = t.__('Put this query into the editor');
      edit.addEventListener('click', () => {
        this.editor.text = text;
        this._asyncBox.checked = !!q.request.async;
        this.editor.focus();
      });
      const again = el('button', 'jp-mod-styled jp-mod-reject jp-EsapWorkbench-rerun', t.__('Run again'));
      again.addEventListener('click', () => {
        this.editor.text = text;
        this._asyncBox.checked = !!q.request.async;
        void this.run();
      });
      li.append(chip, code, when, edit, again);
      if (q.status === 'completed') {
        const open = el('button', 'jp-mod-styled jp-mod-reject jp-EsapWorkbench-openResult', t.__('Result'));
        open.title = t.__('Open the result in the grid');
        open.addEventListener('click', () => this._o.openResult(q, archive?.title ?? q.archive));
        li.appendChild(open);
      }
      list.appendChild(li);
    }
    node.appendChild(list);
  }

  protected onActivateRequest(): void {
    this.editor.focus();
  }

  private async _loadExamples(archive: IArchive): Promise<void> {
    const t = this._o.trans;
    const node = this._examples.node;
    node.textContent = '';
    let examples: IExample[] = [];
    try {
      examples = await workbenchApi.examples(archive.id);
    } catch {
      examples = [];
    }
    if (this._archive !== archive) {
      return;
    }
    node.appendChild(el('span', 'jp-EsapSection-hint', examples.length ? t.__('Examples:') : t.__('This service gives no examples.')));
    for (const x of examples) {
      const b = el('button', 'jp-mod-styled jp-mod-reject jp-EsapWorkbench-example', x.name);
      b.title = x.query;
      b.addEventListener('click', () => {
        this.editor.text = x.query;
        this.editor.focus();
      });
      node.appendChild(b);
    }
    this._fitExamples();
  }

  /** Give the examples' box the height of their lines (the box layout would keep it at one). */
  private _fitExamples(): void {
    const node = this._examples.node;
    const before = node.style.minHeight;
    node.style.minHeight = '0';
    const lines = Math.min(node.scrollHeight, 96);
    const wanted = `${Math.max(26, lines)}px`;
    node.style.minHeight = wanted;
    if (wanted !== before) {
      this._right?.fit();
    }
  }

  private _setRunning(running: boolean): void {
    this._running = running;
    this._runButton.disabled = running;
    this._cancelButton.disabled = !running;
    this.node.dataset.running = running ? 'true' : 'false';
  }

  private _renderStatus(started: number): void {
    const q = this._current;
    if (!q || !this._running) {
      return;
    }
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    const t = this._o.trans;
    const progress = typeof (q as { progress?: number | null }).progress === 'number'
      ? ` · ${Math.round(((q as { progress?: number }).progress ?? 0) * 100)} %`
      : '';
    this._status.textContent = q.phase
      ? t.__('%1 · %2 s', q.phase, secs) + progress
      : t.__('%1 for %2 s…', q.status === 'queued' ? t.__('Queued') : t.__('Running'), secs);
    this._status.dataset.phase = q.phase ?? '';
  }

  /** The message (naming the archive) under the editor, and the place marked in the text. */
  private _showError(message: string, position?: IErrorPosition | null): void {
    const t = this._o.trans;
    const title = this._archive?.title ?? '';
    const named = title && !message.includes(title) ? t.__('%1: %2', title, message) : message;
    const node = this._error.node;
    node.textContent = '';
    if (position) {
      const at = el('strong', 'jp-EsapWorkbench-errorAt', position.column
        ? t.__('Line %1, column %2: ', position.line, position.column)
        : t.__('Line %1: ', position.line));
      node.appendChild(at);
      this.editor.markError(position.line, position.column);
    }
    node.appendChild(document.createTextNode(named));
    this._error.show();
    this._status.textContent = t.__('Failed.');
  }

  private _archives: IArchive[] = [];
  private _archive: IArchive | null = null;
  private _pendingArchive = '';
  private _schema: ArchiveSchema | null = null;
  private _archiveSelect: HTMLSelectElement;
  private _runButton: HTMLButtonElement;
  private _cancelButton: HTMLButtonElement;
  private _asyncBox: HTMLInputElement;
  private _maxrec: HTMLInputElement;
  private _status: HTMLSpanElement;
  private _browser: SchemaBrowser;
  private _examples: Widget;
  private _right: BoxPanel | null = null;
  private _error: Widget;
  private _history: Widget;
  private _running = false;
  private _cancelled = false;
  private _current: IQueryInfo | null = null;
  private _changed = new Signal<this, void>(this);
}
