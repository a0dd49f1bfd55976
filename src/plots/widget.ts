/**
 * A plot of a whole result (or of one of my tables) in the main area, beside its grid: scatter,
 * histogram or 2-D density, drawn with uPlot from the bins the server computes over the stored
 * Arrow file (GET .../plot): the browser never receives the table. Axes are the numeric columns
 * (with units); a colour-magnitude diagram is one click when there are two magnitudes. A box
 * dragged on the plot selects the rows inside it in the grid (POST .../select).
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '../../style/plots.css';

import { IColumn } from '../api';
import { themeAxis, themeColours } from '../common/theme';
import { ResultsWidget } from '../search/results';
import { esapIcon } from '../sidebar';
import { axisValue, binOf, cmdAxes, IPlotData, numericColumns, PlotKind, plotsApi, targetOf } from './api';

/** Above this many rows a scatter shows an even sample and the first plot is a density. */
const SCATTER_MAX = 20000;
const SELECT_LIMIT = 5000; // the grid's selection holds at most this many rows

/** viridis at t in [0, 1] (five stops, linear between them). */
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37]
];
export function viridis(t: number): string {
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  const c = VIRIDIS[i].map((v, k) => Math.round(v + f * (VIRIDIS[i + 1][k] - v)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function axisLabel(a: { name: string; unit?: string | null }): string {
  return a.unit ? `${a.name} [${a.unit}]` : a.name;
}

function padded(lo: number | null | undefined, hi: number | null | undefined): [number, number] {
  const a = lo ?? 0;
  const b = hi ?? 1;
  const pad = (b - a) * 0.03 || Math.abs(a) * 0.05 || 1;
  return [a - pad, b + pad];
}

export interface IPlotState {
  kind: PlotKind;
  x: string;
  y: string | null;
}

export class PlotWidget extends Widget {
  constructor(
    readonly results: ResultsWidget,
    private _trans: TranslationBundle,
    startedAt: number = performance.now(),
    initial?: IPlotState
  ) {
    super();
    const t = _trans;
    const q = results.query;
    this.id = `esap-plot-${q.id}`;
    this.addClass('jp-EsapPlot');
    this.title.label = t.__('Plot: %1', results.title.label);
    this.title.caption = t.__('A plot of the whole result %1 (%2 rows)', results.title.label, q.row_count ?? 0);
    this.title.icon = esapIcon;
    this.title.closable = true;
    this._columns = numericColumns(q.columns);
    this._cmd = cmdAxes(q.columns);
    const big = (q.row_count ?? 0) > SCATTER_MAX;
    const first = this._columns[0]?.name ?? '';
    const second = this._columns[1]?.name ?? null;
    this._state = initial
      ? { kind: initial.kind, x: initial.x, y: initial.y }
      : this._cmd
        ? { kind: big ? 'density' : 'scatter', x: this._cmd.x, y: this._cmd.y }
        : { kind: second ? (big ? 'density' : 'scatter') : 'histogram', x: first, y: second };

    this._toolbar = document.createElement('div');
    this._toolbar.className = 'jp-EsapPlot-toolbar';
    this._status = document.createElement('div');
    this._status.className = 'jp-EsapPlot-status jp-EsapSection-hint';
    this._status.setAttribute('aria-live', 'polite');
    this._chart = document.createElement('div');
    this._chart.className = 'jp-EsapPlot-chart';
    this._chart.setAttribute('role', 'img');
    this.node.append(this._toolbar, this._status, this._chart);
    this._renderToolbar();
    this._startedAt = startedAt;
    // rows selected in the grid are highlighted here (a box dragged here selects them there)
    results.grid.selectionModel?.changed.connect(this._onGridSelection, this);
    results.model.changed.connect(this._onGridSelection, this);
  }

  get state(): IPlotState {
    return { ...this._state };
  }

  /** Emits when the kind or the axes change (the layout restorer saves them). */
  get stateChanged(): ISignal<this, IPlotState> {
    return this._stateChanged;
  }

  /** Plot these axes (as the toolbar would). */
  plot(state: Partial<IPlotState>): void {
    this._state = { ...this._state, ...state };
    this._stateChanged.emit(this.state);
    if (this._state.kind !== 'histogram' && !this._state.y) {
      this._state.y = this._columns.find(c => c.name !== this._state.x)?.name ?? null;
    }
    this._startedAt = performance.now();
    this._renderToolbar();
    void this._load();
  }

  /** A colour-magnitude diagram (when the columns allow it). */
  showCmd(): void {
    if (this._cmd) {
      const big = (this.results.query.row_count ?? 0) > SCATTER_MAX;
      this.plot({ kind: big ? 'density' : 'scatter', x: this._cmd.x, y: this._cmd.y });
    }
  }

  /** Read the theme's colours again and redraw (the theme changed). */
  restyle(): void {
    if (this._data) {
      this._draw(this._data);
    }
  }

  protected onAfterAttach(): void {
    if (!this._data && !this._loading) {
      void this._load();
    }
  }

  protected onResize(): void {
    this._fit();
  }

  protected onAfterShow(): void {
    this._fit();
  }

  /** Closed is gone (not merely hidden): opened again, the view starts anew. */
  protected onCloseRequest(msg: Message): void {
    super.onCloseRequest(msg);
    this.dispose();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.results.grid.selectionModel?.changed.disconnect(this._onGridSelection, this);
    this.results.model.changed.disconnect(this._onGridSelection, this);
    cancelAnimationFrame(this._highlightFrame);
    this._plot?.destroy();
    this._plot = null;
    super.dispose();
  }

  /**
   * The grid's selection changed: highlight its rows (by their numbers in stored order, sorted
   * grid or not), once per frame (a selection of many ranges changes the grid's selection many
   * times).
   */
  private _onGridSelection(): void {
    if (!this._highlightFrame) {
      this._highlightFrame = requestAnimationFrame(() => {
        this._highlightFrame = 0;
        void this._highlightGridRows();
      });
    }
  }

  private async _highlightGridRows(): Promise<void> {
    if (this.isDisposed || this.results.isDisposed) {
      return;
    }
    const asked = ++this._highlightAsked;
    const rows = await this.results.storedRows();
    if (asked !== this._highlightAsked || this.isDisposed) {
      return; // the selection changed again meanwhile: its own call draws it
    }
    if (rows.length === this._selected.size && rows.every(r => this._selected.has(r))) {
      return;
    }
    this._selected = new Set(rows);
    this._selection = rows.length
      ? this._trans._n('%1 row selected in the grid', '%1 rows selected in the grid', rows.length)
      : '';
    if (this._data) {
      this._status.textContent = this._describe(this._data);
    }
    this._plot?.redraw(false, false);
    void this._loadSelectedValues();
  }

  /**
   * A histogram or density plot has no row numbers to match: the selected rows' own values on
   * its axes are read from the grid (at most the 5,000 rows a selection holds) and drawn over it.
   */
  private async _loadSelectedValues(): Promise<void> {
    const data = this._data;
    const asked = ++this._valuesAsked;
    if (!data || data.kind === 'scatter' || !this._selected.size) {
      this._selectedValues = [];
      this._plot?.redraw(false, false);
      return;
    }
    const rows = await this.results.model.rows(this.results.selectedRows());
    if (asked !== this._valuesAsked || this.isDisposed || data !== this._data) {
      return; // asked again meanwhile, or another plot now
    }
    const y = data.kind === 'density' ? data.y?.name : undefined;
    this._selectedValues = rows.map(r => [axisValue(r, data.x.name), y ? axisValue(r, y) : null]);
    this._plot?.redraw(false, false);
  }

  private _fit(): void {
    if (!this._plot || !this.isVisible) {
      return;
    }
    const { width, height } = this._size();
    if (width !== this._plot.width || height !== this._plot.height) {
      this._plot.setSize({ width, height });
    }
  }

  private _size(): { width: number; height: number } {
    return {
      width: Math.max(this._chart.clientWidth, 200),
      height: Math.max(this._chart.clientHeight - 8, 160)
    };
  }

  private _renderToolbar(): void {
    const t = this._trans;
    const bar = this._toolbar;
    bar.textContent = '';
    const s = this._state;
    const kinds: [PlotKind, string][] = [
      ['scatter', t.__('Scatter')],
      ['histogram', t.__('Histogram')],
      ['density', t.__('Density (2-D)')]
    ];
    bar.appendChild(this._select('kind', t.__('Plot kind'), kinds, s.kind, v => this.plot({ kind: v as PlotKind })));
    const options: [string, string][] = this._columns.map(c => [c.name, c.unit ? `${c.name} [${c.unit}]` : c.name]);
    const withCurrent = (v: string | null) =>
      v && !options.some(o => o[0] === v) ? [[v, v] as [string, string], ...options] : options;
    bar.appendChild(this._select('x', t.__('x axis'), withCurrent(s.x), s.x, v => this.plot({ x: v })));
    if (s.kind !== 'histogram') {
      bar.appendChild(this._select('y', t.__('y axis'), withCurrent(s.y), s.y ?? '', v => this.plot({ y: v })));
    }
    if (this._cmd) {
      const b = document.createElement('button');
      b.className = 'jp-mod-styled jp-mod-reject jp-EsapPlot-cmd';
      b.textContent = t.__('Colour–magnitude');
      b.title = t.__('Plot %1 against %2 (a colour-magnitude diagram)', this._cmd.x, this._cmd.y);
      b.addEventListener('click', () => this.showCmd());
      bar.appendChild(b);
    }
    const hint = document.createElement('span');
    hint.className = 'jp-EsapSection-hint';
    hint.textContent =
      s.kind === 'histogram'
        ? t.__('Drag across the plot to select those rows in the grid.')
        : t.__('Drag a box on the plot to select those rows in the grid.');
    bar.appendChild(hint);
  }

  private _select(
    name: string,
    label: string,
    options: [string, string][],
    value: string,
    change: (v: string) => void
  ): HTMLLabelElement {
    const wrap = document.createElement('label');
    wrap.className = 'jp-EsapPlot-field';
    wrap.textContent = label + ' ';
    const sel = document.createElement('select');
    sel.className = 'jp-mod-styled';
    sel.name = name;
    sel.setAttribute('aria-label', label);
    for (const [v, text] of options) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = text;
      sel.appendChild(o);
    }
    sel.value = value;
    sel.addEventListener('change', () => change(sel.value));
    wrap.appendChild(sel);
    return wrap;
  }

  private async _load(): Promise<void> {
    const t = this._trans;
    const s = this._state;
    if (!s.x) {
      this._status.textContent = t.__('This result has no numeric column to plot.');
      return;
    }
    const generation = ++this._generation;
    this._loading = true;
    this.node.dataset.painted = 'false';
    this._status.textContent = t.__('Binning %1 rows on the server…', this.results.query.row_count ?? 0);
    try {
      const data = await plotsApi.plot(targetOf(this.results.query), {
        kind: s.kind,
        x: s.x,
        y: s.kind === 'histogram' ? undefined : s.y,
        bins: s.kind === 'density' ? 80 : 50,
        max_points: SCATTER_MAX
      });
      if (generation !== this._generation || this.isDisposed) {
        return;
      }
      this._data = data;
      this._draw(data);
      void this._loadSelectedValues();
    } catch (error) {
      if (generation === this._generation) {
        this._plot?.destroy();
        this._plot = null;
        this._data = null;
        this._status.textContent = t.__('Cannot plot: %1', (error as Error).message);
        this._status.classList.add('jp-EsapPlot-error');
      }
    } finally {
      if (generation === this._generation) {
        this._loading = false;
      }
    }
  }

  private _describe(data: IPlotData): string {
    const t = this._trans;
    let text = t.__('%1 of %2 rows', data.used, data.total);
    if (data.sampled) {
      text += ' · ' + t.__('an even sample of %1 points shown', data.points?.x.length ?? 0);
    }
    if (this._selection) {
      text += ' · ' + this._selection;
    }
    return text;
  }

  private _draw(data: IPlotData): void {
    this._plot?.destroy();
    this._status.classList.remove('jp-EsapPlot-error');
    this._status.textContent = this._describe(data);
    const colours = themeColours();
    const brand = colours.brand;
    const axis = (label: string): uPlot.Axis => themeAxis(label, colours);
    const invertY =
      data.kind !== 'histogram' && (data.y?.unit ?? '').toLowerCase() === 'mag'; // bright stars at the top
    let aligned: uPlot.AlignedData;
    let series: uPlot.Series[];
    let xRange: [number, number];
    let yRange: [number, number] | undefined;
    const hooks: uPlot.Hooks.Arrays = {
      setSelect: [u => void this._onSelect(u)],
      draw: [() => this._painted()]
    };
    if (data.kind === 'histogram') {
      const edges = data.edges ?? [];
      const counts = data.counts ?? [];
      aligned = [edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2), counts];
      xRange = [edges[0] ?? 0, edges[edges.length - 1] ?? 1];
      yRange = [0, Math.max(1, ...counts) * 1.05];
      series = [
        {},
        {
          label: this._trans.__('count'),
          stroke: brand,
          fill: /^#[0-9a-f]{6}$/i.test(brand) ? brand + '99' : brand,
          width: 1,
          paths: uPlot.paths.bars!({ size: [1, Infinity], gap: 0 }),
          points: { show: false }
        }
      ];
      // the selected rows' own histogram, over the whole one, in the theme's accent
      hooks.draw!.push(u => {
        const picked = new Array(Math.max(0, edges.length - 1)).fill(0);
        let shown = 0;
        for (const [x] of this._selectedValues) {
          const i = x === null ? -1 : binOf(edges, x);
          if (i >= 0) {
            picked[i]++;
            shown++;
          }
        }
        this.node.dataset.highlighted = String(shown);
        if (!shown) {
          return;
        }
        const ctx = u.ctx;
        const base = u.valToPos(0, 'y', true);
        ctx.save();
        ctx.fillStyle = colours.accent;
        picked.forEach((n, i) => {
          if (n) {
            const x0 = u.valToPos(edges[i], 'x', true);
            const x1 = u.valToPos(edges[i + 1], 'x', true);
            const top = u.valToPos(n, 'y', true);
            ctx.fillRect(Math.min(x0, x1), Math.min(top, base), Math.max(1, Math.abs(x1 - x0)), Math.abs(base - top));
          }
        });
        ctx.restore();
      });
    } else if (data.kind === 'scatter') {
      const pts = data.points as { x: number[]; y: number[]; row: number[] };
      const order = pts.x.map((_, i) => i).sort((a, b) => pts.x[a] - pts.x[b]); // uPlot wants x ascending
      const size = pts.x.length > 5000 ? 2 : 4;
      aligned = [order.map(i => pts.x[i]), order.map(i => pts.y[i])];
      const rows = order.map(i => pts.row[i]);
      // the points of the rows selected from a box: drawn again on top, in the theme's accent
      hooks.draw!.push(u => {
        if (!this._selected.size) {
          this.node.dataset.highlighted = '0';
          return;
        }
        const ctx = u.ctx;
        const r = Math.max(3, size + 1) * devicePixelRatio;
        let shown = 0;
        ctx.save();
        ctx.fillStyle = colours.accent;
        for (let k = 0; k < rows.length; k++) {
          if (this._selected.has(rows[k])) {
            const x = u.valToPos(aligned[0][k] as number, 'x', true);
            const y = u.valToPos(aligned[1][k] as number, 'y', true);
            ctx.fillRect(x - r / 2, y - r / 2, r, r);
            shown++;
          }
        }
        ctx.restore();
        this.node.dataset.highlighted = String(shown);
      });
      xRange = padded(data.x.min, data.x.max);
      yRange = padded(data.y?.min, data.y?.max);
      series = [
        {},
        {
          label: data.y?.name ?? '',
          stroke: brand,
          fill: brand,
          paths: () => null,
          points: { show: true, size, width: 0, fill: brand, stroke: brand, space: 0 }
        }
      ];
    } else {
      const xe = data.x_edges ?? [0, 1];
      const ye = data.y_edges ?? [0, 1];
      const cells = data.grid ?? [];
      aligned = [
        [xe[0], xe[xe.length - 1]],
        [ye[0], ye[ye.length - 1]]
      ];
      xRange = [xe[0], xe[xe.length - 1]];
      yRange = [ye[0], ye[ye.length - 1]];
      series = [{}, { paths: () => null, points: { show: false } }];
      const max = Math.max(1, ...cells.map(col => Math.max(0, ...col)));
      const logMax = Math.log1p(max);
      hooks.draw!.unshift(u => {
        const ctx = u.ctx;
        ctx.save();
        ctx.beginPath();
        ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
        ctx.clip();
        for (let i = 0; i < cells.length; i++) {
          const x0 = u.valToPos(xe[i], 'x', true);
          const x1 = u.valToPos(xe[i + 1], 'x', true);
          const col = cells[i];
          for (let j = 0; j < col.length; j++) {
            if (!col[j]) {
              continue;
            }
            const y0 = u.valToPos(ye[j], 'y', true);
            const y1 = u.valToPos(ye[j + 1], 'y', true);
            ctx.fillStyle = viridis(Math.log1p(col[j]) / logMax);
            ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 0.6, Math.abs(y1 - y0) + 0.6);
          }
        }
        ctx.restore();
      });
      // the selected rows as points over the cells, in the theme's accent
      hooks.draw!.push(u => {
        const ctx = u.ctx;
        const r = 8 * devicePixelRatio; // larger than a cell, outlined: seen on any colour of the map
        let shown = 0;
        ctx.save();
        ctx.fillStyle = colours.accent;
        ctx.strokeStyle = colours.fg;
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (const [x, y] of this._selectedValues) {
          if (x !== null && y !== null) {
            const px = u.valToPos(x, 'x', true);
            const py = u.valToPos(y, 'y', true);
            ctx.fillRect(px - r / 2, py - r / 2, r, r);
            ctx.strokeRect(px - r / 2, py - r / 2, r, r);
            shown++;
          }
        }
        ctx.restore();
        this.node.dataset.highlighted = String(shown);
      });
      this._status.textContent += ' · ' + this._trans.__('colour: rows per cell (log), at most %1', max);
    }
    const { width, height } = this._size();
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: false },
      scales: {
        x: { time: false, range: xRange },
        y: { range: yRange, dir: invertY ? -1 : 1 }
      },
      axes: [axis(axisLabel(data.x)), axis(data.y && data.kind !== 'histogram' ? axisLabel(data.y) : this._trans.__('rows'))],
      series,
      cursor: {
        drag: { x: true, y: data.kind !== 'histogram', setScale: false },
        points: { show: false }
      },
      hooks
    };
    this._plot = new uPlot(opts, aligned, this._chart);
    this._chart.setAttribute('aria-label', this._trans.__('%1 of %2', data.kind, this._status.textContent ?? ''));
  }

  /** The first paint after a request: how long since the click that asked for it (Galata reads it). */
  private _painted(): void {
    if (this.node.dataset.painted === 'true') {
      return;
    }
    this.node.dataset.painted = 'true';
    this.node.dataset.paintMs = String(Math.round(performance.now() - this._startedAt));
  }

  private async _onSelect(u: uPlot): Promise<void> {
    const t = this._trans;
    const sel = u.select;
    const data = this._data;
    if (!data || sel.width < 2) {
      return;
    }
    const xs = [u.posToVal(sel.left, 'x'), u.posToVal(sel.left + sel.width, 'x')];
    const region: Parameters<typeof plotsApi.select>[1] = {
      x: data.x.name,
      xmin: Math.min(...xs),
      xmax: Math.max(...xs),
      limit: SELECT_LIMIT
    };
    if (data.kind !== 'histogram' && data.y) {
      const ys = [u.posToVal(sel.top, 'y'), u.posToVal(sel.top + sel.height, 'y')];
      Object.assign(region, { y: data.y.name, ymin: Math.min(...ys), ymax: Math.max(...ys) });
    }
    try {
      const r = await plotsApi.select(targetOf(this.results.query), region);
      if (this.results.isDisposed) {
        Notification.info(t.__('The grid of this result is closed: open it again to see the selection.'));
        return;
      }
      await this.results.selectRows(r.rows);
      // a highlight asked while the grid looked for the rows is of an older selection: dropped
      this._highlightAsked++;
      this._selected = new Set(r.rows);
      this._plot?.redraw(false, false);
      void this._loadSelectedValues();
      this._selection = r.truncated
        ? t.__('%1 rows in the box, the first %2 selected in the grid', r.count, r.rows.length)
        : t._n('%1 row in the box selected in the grid', '%1 rows in the box selected in the grid', r.count);
      this._status.textContent = this._describe(data);
      this.node.dataset.selected = String(r.rows.length);
    } catch (error) {
      Notification.error(t.__('Cannot select the rows: %1', (error as Error).message), { autoClose: 6000 });
    }
  }

  private _columns: IColumn[];
  private _cmd: { x: string; y: string } | null;
  private _state: IPlotState;
  private _toolbar: HTMLDivElement;
  private _status: HTMLDivElement;
  private _chart: HTMLDivElement;
  private _plot: uPlot | null = null;
  private _data: IPlotData | null = null;
  private _generation = 0;
  private _loading = false;
  private _selection = '';
  private _selected = new Set<number>();
  private _highlightAsked = 0;
  private _selectedValues: [number | null, number | null][] = [];
  private _valuesAsked = 0;
  private _highlightFrame = 0;
  private _stateChanged = new Signal<this, IPlotState>(this);
  private _startedAt: number;
}
