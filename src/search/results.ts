/**
 * The result of one query in the main area: a Lumino DataGrid over ServerDataModel (pages
 * fetched as the user scrolls, server-side sort on header click, units in the headers,
 * descriptions on hover) and a bar with the row count, the overflow warning and basket actions.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  BasicKeyHandler,
  BasicMouseHandler,
  BasicSelectionModel,
  DataGrid,
  TextRenderer
} from '@lumino/datagrid';
import type { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import { BoxPanel, Menu, Widget } from '@lumino/widgets';

import { IQueryInfo } from '../api';
import { cssVar } from '../common/theme';
import { esapIcon } from '../sidebar';
import { IBasketItemInput, IEsapBasket, IEsapStaging } from '../tokens';
import { ServerDataModel } from './model';

/** Sorts on a click in a column header (not on its resize edge); shows descriptions on hover. */
class HeaderMouseHandler extends BasicMouseHandler {
  constructor(private _model: ServerDataModel) {
    super();
  }

  onMouseDown(grid: DataGrid, event: MouseEvent): void {
    const hit = grid.hitTest(event.clientX, event.clientY);
    const nearEdge = hit.x < 6 || hit.width - hit.x < 6;
    if (hit.region === 'column-header' && !nearEdge && event.button === 0) {
      this._model.sortBy(this._model.columns[hit.column].name);
      return;
    }
    super.onMouseDown(grid, event);
  }

  onMouseHover(grid: DataGrid, event: MouseEvent): void {
    super.onMouseHover(grid, event);
    const hit = grid.hitTest(event.clientX, event.clientY);
    if (hit.region === 'column-header') {
      const c = this._model.columns[hit.column];
      const parts = [c.description, c.ucd ? `UCD: ${c.ucd}` : '', c.datatype ? `type: ${c.datatype}` : ''];
      grid.node.title = parts.filter(Boolean).join('\n');
    } else {
      grid.node.title = '';
    }
  }
}

/** `#rrggbb` (or `#rgb`) with an alpha, for the grid's translucent selection. */
function withAlpha(color: string, alpha: number): string {
  let hex = color.replace('#', '');
  if (hex.length === 3) {
    hex = hex.split('').map(c => c + c).join('');
  }
  if (!/^[0-9a-f]{6}$/i.test(hex)) {
    return color;
  }
  const [r, g, b] = [0, 2, 4].map(i => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** DataGrid paints on a canvas: take its colours from the theme's --jp-* variables. */
export function gridStyle(): DataGrid.Style {
  return {
    ...DataGrid.defaultStyle,
    backgroundColor: cssVar('--jp-layout-color0', 'white'),
    voidColor: cssVar('--jp-layout-color0', 'white'),
    headerBackgroundColor: cssVar('--jp-layout-color2', '#eee'),
    headerGridLineColor: cssVar('--jp-border-color1', '#bbb'),
    gridLineColor: cssVar('--jp-border-color3', '#eee'),
    headerHorizontalGridLineColor: cssVar('--jp-border-color1', '#bbb'),
    selectionFillColor: withAlpha(cssVar('--jp-brand-color1', '#1976d2'), 0.25),
    selectionBorderColor: cssVar('--jp-brand-color1', '#1976d2'),
    headerSelectionFillColor: withAlpha(cssVar('--jp-brand-color1', '#1976d2'), 0.15),
    cursorFillColor: withAlpha(cssVar('--jp-brand-color1', '#1976d2'), 0.1),
    cursorBorderColor: cssVar('--jp-brand-color1', '#1976d2')
  };
}

export class ResultsWidget extends BoxPanel {
  constructor(
    readonly query: IQueryInfo,
    title: string,
    pageSize: number,
    private _trans: TranslationBundle,
    private _basket: IEsapBasket | null,
    private _staging: IEsapStaging | null = null
  ) {
    super({ direction: 'top-to-bottom', spacing: 0 });
    this.id = `esap-results-${query.id}`;
    this.addClass('jp-EsapResults');
    this.title.label = title;
    this.title.caption = title;
    this.archive = query.archive;
    this.title.icon = esapIcon;
    this.title.closable = true;

    this.model = new ServerDataModel(query, pageSize);
    this.model.fetchFailed.connect((_, message) =>
      Notification.error(this._trans.__('Could not load rows: %1', message))
    );
    this._bar = new Widget();
    this._bar.addClass('jp-EsapResults-bar');
    this._renderBar();
    this.grid = new DataGrid({
      defaultSizes: {
        rowHeight: 22,
        columnWidth: 120,
        rowHeaderWidth: 64,
        columnHeaderHeight: 24
      },
      style: gridStyle()
    });
    this.grid.addClass('jp-EsapResults-grid');
    this.grid.dataModel = this.model;
    this.grid.selectionModel = new BasicSelectionModel({
      dataModel: this.model,
      selectionMode: 'row'
    });
    this.grid.keyHandler = new BasicKeyHandler();
    this.grid.mouseHandler = new HeaderMouseHandler(this.model);
    this._setRenderers();
    this.grid.node.setAttribute('role', 'grid');
    this.grid.node.setAttribute(
      'aria-label',
      this._trans.__('Result rows of %1', title)
    );
    this.grid.selectionModel.changed.connect(() => this._renderBar());
    this.model.changed.connect(() => this._renderBarSoon());
    this.addWidget(this._bar);
    this.addWidget(this.grid);
    BoxPanel.setStretch(this._bar, 0);
    BoxPanel.setStretch(this.grid, 1);
  }

  readonly model: ServerDataModel;
  /** Buttons other areas add to every grid's bar (My tables: "Save as table"). */
  static extraActions: {
    label: string;
    title: string;
    className: string;
    show: (w: ResultsWidget) => boolean;
    run: (w: ResultsWidget) => void;
  }[] = [];
  readonly grid: DataGrid;
  /** The archive's title (for the tooltip after a reload). */
  archive: string;

  /** Re-read the theme's colours (called when the theme changes). */
  restyle(): void {
    this.grid.style = gridStyle();
    this._setRenderers();
  }

  /** Text colours from the theme (read again when it changes). */
  private _setRenderers(): void {
    this.grid.cellRenderers.update({
      body: new TextRenderer({
        textColor: cssVar('--jp-ui-font-color0', '#000'),
        horizontalAlignment: 'left'
      }),
      'column-header': new TextRenderer({
        textColor: cssVar('--jp-ui-font-color0', '#000'),
        font: 'bold 12px sans-serif'
      }),
      'row-header': new TextRenderer({
        textColor: cssVar('--jp-ui-font-color1', '#555')
      }),
      'corner-header': new TextRenderer({
        textColor: cssVar('--jp-ui-font-color1', '#555')
      })
    });
  }

  /** Closed is gone (not merely hidden): opened again, the result starts anew. */
  protected onCloseRequest(msg: Message): void {
    super.onCloseRequest(msg);
    this.dispose();
  }

  /** Row numbers the user selected in the grid, as shown (in a sorted grid: sorted positions). */
  selectedRows(): number[] {
    const rows = new Set<number>();
    // `grid` is not there yet while the constructor renders the bar the first time
    const selections = this.grid?.selectionModel?.selections();
    if (!selections) {
      return [];
    }
    for (const s of selections) {
      const lo = Math.min(s.r1, s.r2);
      const hi = Math.max(s.r1, s.r2);
      for (let r = Math.max(lo, 0); r <= hi && rows.size < SELECTION_LIMIT; r++) {
        rows.add(r);
      }
    }
    return [...rows].sort((a, b) => a - b);
  }

  /**
   * The selected rows' numbers in stored order (from 0), in the grid's order: what is sent to
   * the server (export of a selection, SAMP, DataLink, previews) or matched with it (the plot's
   * highlight). The same as `selectedRows()` when the grid is not sorted; when it is, read from
   * the sorted pages (the pages a selection spans and that were not looked at are fetched).
   */
  storedRows(): Promise<number[]> {
    return this.model.stored(this.selectedRows());
  }

  /**
   * Select these rows (numbers from 0 in stored order, e.g. the rows inside a region of a plot)
   * and scroll to the first. A sorted grid keeps its sort when it can find each row: always
   * when the result has at most as many rows as a selection holds (its pages are fetched),
   * otherwise when the rows are on pages already loaded. When not, it goes back to stored order
   * (as the row numbers are), which the bar shows by losing its "sorted by".
   */
  async selectRows(rows: number[]): Promise<void> {
    let shown = rows;
    if (this.model.sortColumn) {
      const found = await this.model.displayed(rows, SELECTION_LIMIT);
      if (found) {
        shown = found;
      } else {
        this.model.sortBy(null as unknown as string, 'asc'); // no sort column: stored order
      }
    }
    const selection = this.grid.selectionModel;
    if (!selection || this.isDisposed) {
      return;
    }
    selection.clear();
    const sorted = [...shown].sort((a, b) => a - b);
    const last = this.model.columnCount('body') - 1;
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) {
        j++;
      }
      selection.select({
        r1: sorted[i],
        c1: 0,
        r2: sorted[j],
        c2: last,
        cursorRow: sorted[0],
        cursorColumn: 0,
        clear: 'none'
      });
      i = j + 1;
    }
    if (sorted.length) {
      this.grid.scrollToRow(sorted[0]);
    }
  }

  async addSelectionToBasket(): Promise<void> {
    if (!this._basket) {
      return;
    }
    const indices = this.selectedRows();
    if (!indices.length) {
      Notification.info(this._trans.__('Select rows in the grid first.'));
      return;
    }
    const rows = await this.model.rows(indices);
    const access = this.query.access_url_column;
    // a row of a DID search is a Rucio DID: a `did` item, which can be staged and browsed
    const items: IBasketItemInput[] =
      this.query.kind === 'did'
        ? rows.map(row => didItem(row, this.query.archive))
        : rows.map(row => ({
            kind: 'record',
            archive: this.query.archive,
            query_id: this.query.id,
            title: recordTitle(row, this.query),
            row,
            access_url: access ? ((row[access] as string) ?? undefined) : undefined
          }));
    const r = await this._basket.add(items);
    Notification.success(
      r.duplicates
        ? this._trans._n('Added %1 row to the basket (%2 were there already).',
            'Added %1 rows to the basket (%2 were there already).', r.added, r.duplicates)
        : this._trans._n('Added %1 row to the basket.', 'Added %1 rows to the basket.', r.added),
      { autoClose: 3000 }
    );
  }

  async addQueryToBasket(): Promise<void> {
    if (!this._basket) {
      return;
    }
    const r = await this._basket.add([
      {
        kind: 'query',
        archive: this.query.archive,
        query_id: this.query.id,
        title: this.title.label,
        request: this.query.request
      }
    ]);
    Notification.success(
      r.added
        ? this._trans.__('Added the query to the basket.')
        : this._trans.__('The query is in the basket already.'),
      { autoClose: 3000 }
    );
  }

  /** What the selected rows point at that can be staged: Rucio DIDs or access URLs. */
  private _stageable(): 'dids' | 'urls' | null {
    if (!this._staging) {
      return null;
    }
    if (this.query.kind === 'did') {
      return 'dids';
    }
    return this.query.access_url_column ? 'urls' : null;
  }

  async stageSelection(): Promise<void> {
    const what = this._stageable();
    const indices = this.selectedRows();
    if (!what || !this._staging) {
      return;
    }
    if (!indices.length) {
      Notification.info(this._trans.__('Select rows in the grid first.'));
      return;
    }
    const rows = await this.model.rows(indices);
    try {
      if (what === 'dids') {
        await this._staging.stage({
          dids: rows.map(r => String(r.did)),
          instance: rows[0]?.instance ? String(rows[0].instance) : undefined,
          mode: this._mode
        });
      } else {
        const column = this.query.access_url_column as string;
        await this._staging.stage({
          urls: rows.map(r => String(r[column])).filter(u => /^https?:\/\//.test(u)),
          mode: 'download'
        });
      }
    } catch (error) {
      Notification.error(this._trans.__('Could not stage: %1', (error as Error).message));
    }
  }

  private _renderBarSoon(): void {
    if (!this._barTimer) {
      this._barTimer = window.setTimeout(() => {
        this._barTimer = 0;
        this._renderBar();
      }, 100);
    }
  }

  /**
   * The bar wraps on narrow tabs, to at most two lines of actions: the buttons that would need a
   * third line (the last ones first) leave the bar for the "…" menu at its end. Then the bar gets
   * the height its content needs (the grid below).
   */
  private _fitBar(): void {
    const node = this._bar.node;
    const before = node.style.minHeight;
    node.style.minHeight = '';
    this._overflow();
    const height = node.scrollHeight;
    node.style.minHeight = height > 0 ? `${height}px` : before;
    if (node.style.minHeight !== before) {
      this.fit();
    }
  }

  /** Move the buttons that do not fit on two lines into the "…" menu (the others back out). */
  private _overflow(): void {
    const node = this._bar.node;
    const more = node.querySelector<HTMLButtonElement>('.jp-EsapResults-more');
    if (!more) {
      return;
    }
    const movable = Array.from(node.querySelectorAll<HTMLButtonElement>('button[data-overflow]')).sort(
      (a, b) => Number(b.dataset.overflow) - Number(a.dataset.overflow)
    );
    for (const b of movable) {
      b.classList.remove(OVERFLOWED);
    }
    more.hidden = true;
    const items = Array.from(node.children).filter(
      (el): el is HTMLElement => !el.classList.contains('jp-EsapResults-warning') && (el as HTMLElement).offsetParent !== null
    );
    if (!items.length) {
      return;
    }
    const lineHeight = Math.max(...items.map(el => el.offsetHeight));
    const top = Math.min(...items.map(el => el.offsetTop));
    // below the second line: the element starts more than one line (and a gap) below the first
    const tooLow = (el: HTMLElement) => el.offsetTop - top > lineHeight * 1.5 + 8;
    if (!items.some(tooLow)) {
      return;
    }
    more.hidden = false;
    for (const b of movable) {
      if (!tooLow(more) && !items.some(el => el.offsetParent !== null && tooLow(el))) {
        break;
      }
      b.classList.add(OVERFLOWED);
    }
  }

  /** The "…" menu: the actions moved out of the bar, each running its button. */
  private _openMore(anchor: HTMLElement): void {
    const commands = ResultsWidget.commands;
    if (!commands) {
      return;
    }
    const menu = new Menu({ commands });
    menu.addClass('jp-EsapResults-moreMenu');
    const hidden = Array.from(this._bar.node.querySelectorAll<HTMLButtonElement>(`button.${OVERFLOWED}`)).sort(
      (x, y) => Number(x.dataset.overflow) - Number(y.dataset.overflow)
    );
    for (const b of hidden) {
      menu.addItem({ command: MORE_COMMAND, args: { grid: this.id, action: b.dataset.overflow ?? '' } });
    }
    anchor.setAttribute('aria-expanded', 'true');
    menu.aboutToClose.connect(() => {
      anchor.setAttribute('aria-expanded', 'false');
      // after the chosen entry ran (the menu closes before it runs its command)
      window.setTimeout(() => menu.dispose(), 0);
    });
    const box = anchor.getBoundingClientRect();
    menu.open(box.left, box.bottom);
  }

  /**
   * The application's commands (set once by the ESAP plugin): the "…" menu's entries run
   * `MORE_COMMAND`, which clicks the bar button they stand for.
   */
  static commands: CommandRegistry | null = null;

  /** Register the command of the "…" menu entries in `commands` (once, at start). */
  static registerMoreCommand(commands: CommandRegistry): void {
    ResultsWidget.commands = commands;
    const target = (args: ReadonlyPartialJSONObject) =>
      document.querySelector<HTMLButtonElement>(
        `[id="${String(args.grid)}"] .jp-EsapResults-bar button[data-overflow="${String(args.action)}"]`
      );
    commands.addCommand(MORE_COMMAND, {
      label: args => target(args)?.textContent ?? '',
      caption: args => target(args)?.title ?? '',
      isEnabled: args => !!target(args) && !target(args)!.disabled,
      execute: args => target(args)?.click()
    });
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._fitBarSoon();
  }

  protected onAfterShow(msg: any): void {
    super.onAfterShow(msg);
    this._fitBarSoon();
  }

  private _fitBarSoon(): void {
    window.requestAnimationFrame(() => {
      if (!this.isDisposed && this.isVisible) {
        this._fitBar();
      }
    });
  }

  private _renderBar(): void {
    this._renderBarContent();
    this._fitBarSoon();
  }

  private _renderBarContent(): void {
    const t = this._trans;
    const node = this._bar.node;
    node.textContent = '';
    const count = document.createElement('span');
    count.className = 'jp-EsapResults-count';
    count.textContent = t._n('%1 row', '%1 rows', this.model.rowCount('body'));
    node.appendChild(count);
    if (this.model.sortColumn) {
      const sort = document.createElement('span');
      sort.className = 'jp-EsapSection-hint';
      sort.textContent = t.__(
        'sorted by %1 (%2)',
        this.model.sortColumn,
        this.model.sortOrder === 'asc' ? t.__('ascending') : t.__('descending')
      );
      node.appendChild(sort);
    }
    const n = this.selectedRows().length;
    if (this._stageable() === 'dids') {
      node.appendChild(this._modeSelect());
    }
    if (this._stageable()) {
      node.appendChild(
        button(
          n ? t.__('Stage %1 selected', n) : t.__('Stage selected'),
          this._stageable() === 'dids'
            ? this._mode === 'replica'
              ? t.__('Ask Rucio for a replica (rule) of the selected DIDs on the storage mounted here')
              : t.__('Download the selected Rucio DIDs into this session')
            : t.__('Download the files the selected rows link to into this session'),
          () => void this.stageSelection(),
          'jp-EsapResults-stage',
          n === 0
        )
      );
    }
    if (this._basket) {
      node.appendChild(
        button(
          n ? t.__('Add %1 selected to basket', n) : t.__('Add selected to basket'),
          t.__('Add the selected rows to the basket'),
          () => void this.addSelectionToBasket(),
          'jp-EsapResults-addRows',
          n === 0
        )
      );
      node.appendChild(
        button(
          t.__('Add query to basket'),
          t.__('Add this query to the basket, to run it again later'),
          () => void this.addQueryToBasket(),
          'jp-EsapResults-addQuery'
        )
      );
    }
    for (const extra of ResultsWidget.extraActions.filter(x => x.show(this))) {
      node.appendChild(button(extra.label, extra.title, () => extra.run(this), extra.className));
    }
    // what may go into the "…" menu on a narrow tab, in the order it goes: the last first;
    // the count, the mode and the first two actions (stage, add selected rows) always stay
    const buttons = Array.from(node.querySelectorAll<HTMLButtonElement>('button'));
    buttons.forEach((b, i) => {
      if (i >= 2) {
        b.dataset.overflow = String(i);
      }
    });
    const more = button('…', t.__('More actions'), () => this._openMore(more), 'jp-EsapResults-more');
    more.setAttribute('aria-haspopup', 'menu');
    more.hidden = true;
    node.appendChild(more);
    // last, so a long banner wraps below the actions instead of pushing them away
    if (this.query.overflow) {
      const warn = document.createElement('span');
      warn.className = 'jp-EsapResults-warning';
      warn.setAttribute('role', 'status');
      warn.textContent = t.__(
        '⚠ Truncated: the archive returned only the first %1 rows (raise maxrec or run asynchronously).',
        this.query.row_count ?? 0
      );
      node.appendChild(warn);
    }
  }

  /** Download or replica (a Rucio rule): what "Stage selected" does with DIDs. */
  get stageMode(): 'download' | 'replica' {
    return this._mode;
  }

  set stageMode(mode: 'download' | 'replica') {
    this._mode = mode;
    this._renderBar();
  }

  private _modeSelect(): HTMLSelectElement {
    const t = this._trans;
    const select = document.createElement('select');
    select.className = 'jp-mod-styled jp-EsapResults-mode';
    select.setAttribute('aria-label', t.__('Staging mode'));
    select.title = t.__('Download: copies into a folder of this session. Replica: a Rucio rule to the storage mounted here.');
    for (const [value, label] of [
      ['download', t.__('Download')],
      ['replica', t.__('Replica (rule)')]
    ]) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = label;
      select.appendChild(o);
    }
    select.value = this._mode;
    select.addEventListener('change', () => {
      this.stageMode = select.value === 'replica' ? 'replica' : 'download';
    });
    return select;
  }

  private _bar: Widget;
  private _barTimer = 0;
  private _mode: 'download' | 'replica' = 'download';
}

/** The most rows a selection holds (what is sent to the server stays a reasonable size). */
const SELECTION_LIMIT = 5000;

/** A bar button moved into the "…" menu (hidden in the bar). */
const OVERFLOWED = 'jp-mod-overflowed';

/** The command of the "…" menu's entries (args: `grid`, the widget's id; `action`, the button's). */
export const MORE_COMMAND = 'esap-lab:results-more-action';

/** The basket item of one row of a DID search (columns of esap_lab/staging/dids.py). */
export function didItem(row: Record<string, unknown>, archive: string): IBasketItemInput {
  const type = String(row.did_type ?? 'unknown').toLowerCase();
  return {
    kind: 'did',
    scope: String(row.scope),
    name: String(row.name),
    did_type: ['file', 'dataset', 'container'].includes(type) ? type : 'unknown',
    instance: row.instance ? String(row.instance) : undefined,
    bytes: typeof row.bytes === 'number' ? row.bytes : undefined,
    title: `${row.scope}:${row.name}`,
    source: archive
  };
}

function button(
  label: string,
  aria: string,
  onClick: () => void,
  className: string,
  disabled = false
): HTMLButtonElement {
  const b = document.createElement('button');
  b.className = `jp-mod-styled jp-mod-reject ${className}`;
  b.textContent = label;
  b.title = aria;
  b.setAttribute('aria-label', aria);
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}

function recordTitle(row: Record<string, unknown>, q: IQueryInfo): string {
  const col = (ucd: string, names: string[]) =>
    q.columns.find(c => (c.ucd ?? '').split(';').includes(ucd))?.name ??
    names.find(n => typeof row[n] === 'number');
  const ra = col('pos.eq.ra', ['ra', 's_ra', 'RA', 'raj2000']);
  const dec = col('pos.eq.dec', ['dec', 's_dec', 'DEC', 'dej2000']);
  let name = '';
  for (const key of ['obs_title', 'imageTitle', 'title', 'name', 'main_id', 'source_id', 'obs_id', 'id']) {
    if (row[key] !== undefined && row[key] !== null) {
      name = `${key} ${row[key]}`;
      break;
    }
  }
  if (ra && dec && typeof row[ra] === 'number' && typeof row[dec] === 'number') {
    const d = row[dec] as number;
    const where = `${(row[ra] as number).toFixed(5)} ${d < 0 ? '' : '+'}${d.toFixed(5)}`;
    return name ? `${where} · ${name}` : where;
  }
  return name || `${q.archive} row`;
}
