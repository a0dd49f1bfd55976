/**
 * A Lumino DataModel whose rows live on the server: it knows the row count and the columns of a
 * query, fetches pages (blocks of `pageSize` rows) as the grid asks for cells, and re-sorts on
 * the server. The browser never holds more than the pages that were looked at.
 */
import { DataModel } from '@lumino/datagrid';
import { ISignal, Signal } from '@lumino/signaling';

import { archivesApi, IColumn, IQueryInfo, IRowsPage, requestAPI } from '../api';

export type SortOrder = 'asc' | 'desc';

export class ServerDataModel extends DataModel {
  constructor(
    readonly query: IQueryInfo,
    readonly pageSize: number
  ) {
    super();
    this.columns = query.columns;
    this._total = query.row_count ?? 0;
  }

  readonly columns: IColumn[];

  get sortColumn(): string | null {
    return this._sort;
  }

  get sortOrder(): SortOrder {
    return this._order;
  }

  /** Emits an error message when a page cannot be fetched. */
  get fetchFailed(): ISignal<this, string> {
    return this._fetchFailed;
  }

  /** Number of pages fetched so far (the Galata tests watch it grow as they scroll). */
  get pagesFetched(): number {
    return this._pagesFetched;
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === 'body' ? this._total : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? this.columns.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): any {
    if (region === 'row-header') {
      return String(row + 1);
    }
    if (region === 'corner-header') {
      return '#';
    }
    if (region === 'column-header') {
      const c = this.columns[column];
      const arrow =
        this._sort === c.name ? (this._order === 'asc' ? ' ▲' : ' ▼') : '';
      return c.unit ? `${c.name} [${c.unit}]${arrow}` : `${c.name}${arrow}`;
    }
    const value = this.rowAt(row)?.[this.columns[column].name];
    if (value === undefined) {
      return '…';
    }
    if (value === null) {
      return '';
    }
    if (typeof value === 'number' && !Number.isInteger(value)) {
      return String(Number(value.toPrecision(10))); // display only; the row keeps every digit
    }
    return typeof value === 'object' ? JSON.stringify(value) : value;
  }

  /** The row's values when its page is loaded (and asks for the page otherwise). */
  rowAt(row: number): Record<string, unknown> | undefined {
    const block = Math.floor(row / this.pageSize);
    const page = this._pages.get(block);
    if (page === undefined) {
      void this._fetch(block);
      return undefined;
    }
    return page[row - block * this.pageSize];
  }

  /** The values of the given rows, fetching the pages that are not here yet. */
  async rows(indices: number[]): Promise<Record<string, unknown>[]> {
    const blocks = new Set(indices.map(i => Math.floor(i / this.pageSize)));
    await Promise.all([...blocks].map(b => this._fetch(b)));
    return indices
      .map(i => this.rowAt(i))
      .filter((r): r is Record<string, unknown> => r !== undefined);
  }

  /**
   * The rows' numbers in stored order (what exports, plots, SAMP and DataLink count in), in the
   * order given: the same numbers when the grid is not sorted; otherwise read from the pages'
   * `index`, fetching the pages not here yet. A row whose page cannot be read is left out.
   */
  async stored(rows: number[]): Promise<number[]> {
    if (!this._sort || !rows.length) {
      return rows;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this._generation;
      const blocks = new Set(rows.map(r => Math.floor(r / this.pageSize)));
      await Promise.all([...blocks].map(b => this._fetch(b)));
      if (generation !== this._generation) {
        continue; // sorted again meanwhile: the rows are the new order's
      }
      if (!this._sort) {
        return rows;
      }
      const out: number[] = [];
      for (const r of rows) {
        const block = Math.floor(r / this.pageSize);
        const n = this._index.get(block)?.[r - block * this.pageSize];
        if (n !== undefined) {
          out.push(n);
        }
      }
      return out;
    }
    return [];
  }

  /**
   * Where rows given by their stored numbers are in the grid now (in the order given), or null
   * when one of them is on a page not loaded. With `loadUpTo` rows or fewer in all, every page is
   * fetched first, so each row is found.
   */
  async displayed(stored: number[], loadUpTo = 0): Promise<number[] | null> {
    if (!this._sort) {
      return stored;
    }
    const generation = this._generation;
    if (this._total <= loadUpTo) {
      const blocks = Math.ceil(this._total / this.pageSize);
      await Promise.all(Array.from({ length: blocks }, (_, b) => this._fetch(b)));
    }
    if (generation !== this._generation || !this._sort) {
      return null;
    }
    const where = new Map<number, number>();
    for (const [block, numbers] of this._index) {
      numbers?.forEach((n, i) => where.set(n, block * this.pageSize + i));
    }
    const out: number[] = [];
    for (const n of stored) {
      const r = where.get(n);
      if (r === undefined) {
        return null;
      }
      out.push(r);
    }
    return out;
  }

  /** Sort by a column on the server (clicking the same column again flips the order). */
  sortBy(column: string, order?: SortOrder): void {
    if (order === undefined) {
      order = this._sort === column && this._order === 'asc' ? 'desc' : 'asc';
    }
    this._sort = column;
    this._order = order;
    this._generation++;
    this._pages.clear();
    this._index.clear();
    this._pending.clear();
    this.emitChanged({ type: 'model-reset' });
  }

  private _fetch(block: number): Promise<void> {
    const pending = this._pending.get(block);
    if (pending) {
      return pending;
    }
    const generation = this._generation;
    // a table of My tables gives its own rows endpoint (same contract as /queries/{q}/rows)
    const endpoint = (this.query as { rows_endpoint?: string }).rows_endpoint;
    const promise = (
      endpoint
        ? requestAPI<IRowsPage>(endpoint, {
            query: { offset: block * this.pageSize, limit: this.pageSize, sort: this._sort ?? undefined, order: this._order }
          })
        : archivesApi.rows(this.query.id, block * this.pageSize, this.pageSize, this._sort, this._order)
    )
      .then(page => {
        if (generation !== this._generation) {
          return; // sorted again meanwhile
        }
        this._pagesFetched++;
        this._pages.set(block, page.rows);
        this._index.set(block, page.index ?? null);
        if (page.total !== this._total) {
          this._total = page.total;
          this.emitChanged({ type: 'model-reset' });
          return;
        }
        this.emitChanged({
          type: 'cells-changed',
          region: 'body',
          row: block * this.pageSize,
          rowSpan: page.rows.length,
          column: 0,
          columnSpan: this.columns.length
        });
      })
      .catch(error => {
        this._pending.delete(block);
        this._fetchFailed.emit((error as Error).message);
      });
    this._pending.set(block, promise);
    return promise;
  }

  private _total: number;
  private _sort: string | null = null;
  private _order: SortOrder = 'asc';
  private _generation = 0;
  private _pagesFetched = 0;
  private _pages = new Map<number, Record<string, unknown>[]>();
  /** Per page, its rows' numbers in stored order (null when not sorted). */
  private _index = new Map<number, number[] | null>();
  private _pending = new Map<number, Promise<void>>();
  private _fetchFailed = new Signal<this, string>(this);
}
