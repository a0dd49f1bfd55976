/**
 * The sky view of one result grid: Aladin Lite in the main area, the result's rows as sources
 * over a HiPS from the server's configuration. Clicking a source selects its row in the grid;
 * the rows selected in the grid are highlighted. Aladin Lite is loaded on first use (its own
 * chunk) and told to fetch nothing but the configured surveys (no CDS lists, no logging).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { BasicSelectionModel } from '@lumino/datagrid';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { cssVar } from '../common/theme';
import { targetOf } from '../plots/axes';
import { ResultsWidget } from '../search/results';
import { esapIcon } from '../sidebar';
import { IPositions, ISurvey, skyApi } from './api';
import { frame } from './frame';

export class SkyWidget extends Widget {
  constructor(
    readonly results: ResultsWidget,
    private _trans: TranslationBundle
  ) {
    super();
    const t = _trans;
    this.id = `esap-sky-${results.query.id}`;
    this.addClass('jp-EsapSky');
    this.title.label = t.__('Sky: %1', results.title.label);
    this.title.caption = t.__('The rows of %1 on the sky', results.title.label);
    this.title.icon = esapIcon;
    this.title.closable = true;

    const bar = document.createElement('div');
    bar.className = 'jp-EsapSky-bar';
    const label = document.createElement('label');
    label.textContent = t.__('Survey');
    this._survey = document.createElement('select');
    this._survey.className = 'jp-mod-styled jp-EsapSky-survey';
    this._survey.setAttribute('aria-label', t.__('HiPS survey shown under the sources'));
    this._survey.addEventListener('change', () => this._setSurvey());
    label.appendChild(this._survey);
    bar.appendChild(label);
    this._status = document.createElement('span');
    this._status.className = 'jp-EsapSky-status';
    this._status.setAttribute('role', 'status');
    this._status.textContent = t.__('Loading the sky view…');
    bar.appendChild(this._status);
    this.node.appendChild(bar);
    this._view = document.createElement('div');
    this._view.className = 'jp-EsapSky-view';
    this._view.setAttribute('role', 'img');
    this._view.setAttribute('aria-label', t.__('Sky view of %1', results.title.label));
    this.node.appendChild(this._view);

    results.grid.selectionModel?.changed.connect(this._highlight, this);
    results.model.changed.connect(this._onModelChanged, this);
    results.disposed.connect(() => this.dispose());
  }

  /** Load the surveys, the positions and Aladin Lite; show the sources. */
  async start(): Promise<void> {
    const t = this._trans;
    try {
      const [surveys, positions] = await Promise.all([skyApi.surveys(), this._positions()]);
      this._surveys = surveys;
      for (const s of surveys) {
        const o = document.createElement('option');
        o.value = s.id;
        o.textContent = s.title;
        this._survey.appendChild(o);
      }
      const first = surveys.find(s => s.default) ?? surveys[0];
      if (first) {
        this._survey.value = first.id;
      }
      if (!positions.ra_column) {
        this._status.textContent = t.__('This result has no RA/Dec columns to place on the sky.');
        return;
      }
      const { default: A } = await import('aladin-lite');
      await A.init;
      if (this.isDisposed) {
        return;
      }
      const f = frame(positions.rows);
      this._A = A;
      this._aladin = A.aladin(this._view, {
        survey: first ? skyApi.surveyUrl(first) : undefined,
        hipsList: surveys.map(s => ({ id: s.id, name: s.title, url: skyApi.surveyUrl(s) })),
        log: false,
        target: `${f.ra} ${f.dec}`,
        fov: f.fov,
        cooFrame: 'ICRSd',
        showLayersControl: false,
        showSimbadPointerControl: false,
        showShareControl: false,
        showSettingsControl: false,
        showFullscreenControl: false,
        showProjectionControl: false,
        showCooGridControl: false,
        showContextMenu: false,
        samp: false
      });
      this._aladin.on('objectClicked', (o: any) => {
        const row = o?.data?.row;
        if (typeof row === 'number') {
          this.selectRow(row);
        }
      });
      this._showSources(positions);
      // for the UI tests: where a row's source is drawn (pixels in the view)
      (this._view as any).esapSkyPixel = (row: number) => {
        const p = this._byRow.get(row);
        return p ? this._aladin.world2pix(p[0], p[1]) : null;
      };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      this._status.textContent = /webgl/i.test(message)
        ? t.__('The sky view needs WebGL 2, which this browser does not offer (%1).', message)
        : t.__('The sky view could not be shown: %1', message);
    }
  }

  /** Select one row in the grid (and bring it into view). */
  selectRow(row: number): void {
    const grid = this.results.grid;
    const model = grid.selectionModel as BasicSelectionModel | null;
    if (!model) {
      return;
    }
    const last = Math.max(0, this.results.model.columnCount('body') - 1);
    model.select({ r1: row, c1: 0, r2: row, c2: last, cursorRow: row, cursorColumn: 0, clear: 'all' });
    grid.scrollToRow(row);
  }

  /** The rows the sky view shows (grid order) -> ra, dec. */
  get sources(): Map<number, [number, number]> {
    return this._byRow;
  }

  private _positions(): Promise<IPositions> {
    const m = this.results.model;
    this._sort = `${m.sortColumn ?? ''}:${m.sortOrder}`;
    return skyApi.positions(targetOf(this.results.query), m.sortColumn, m.sortOrder);
  }

  private _onModelChanged(): void {
    const m = this.results.model;
    if (this._aladin && `${m.sortColumn ?? ''}:${m.sortOrder}` !== this._sort) {
      // the grid's order changed: row numbers follow it
      void this._positions().then(p => this._showSources(p));
    }
  }

  private _showSources(p: IPositions): void {
    const A = this._A;
    const brand = cssVar('--jp-brand-color1', '#1976d2');
    const warn = cssVar('--jp-warn-color0', '#e65100');
    if (!this._catalog) {
      this._catalog = A.catalog({ name: this._trans.__('Result rows'), sourceSize: 10, color: brand, shape: 'circle' });
      this._selected = A.catalog({ name: this._trans.__('Selected rows'), sourceSize: 18, color: warn, shape: 'square' });
      this._aladin.addCatalog(this._catalog);
      this._aladin.addCatalog(this._selected);
    }
    this._catalog.removeAll();
    this._byRow = new Map(p.rows.map(([row, ra, dec]) => [row, [ra, dec]]));
    this._catalog.addSources(p.rows.map(([row, ra, dec]) => A.source(ra, dec, { row })));
    const t = this._trans;
    this._count = p.truncated
      ? t.__('%1 of %2 rows shown', p.rows.length, p.total)
      : t._n('%1 source', '%1 sources', p.rows.length);
    this._highlight();
    this._view.dataset.sources = String(p.rows.length);
  }

  private _highlight(): void {
    if (!this._selected) {
      return;
    }
    const rows = this.results.selectedRows();
    this._selected.removeAll();
    const sources = [];
    for (const r of rows) {
      const p = this._byRow.get(r);
      if (p) {
        sources.push(this._A.source(p[0], p[1], { row: r }));
      }
    }
    this._selected.addSources(sources);
    this._view.dataset.selected = String(sources.length);
    this._status.textContent = sources.length
      ? this._trans.__('%1 · %2 selected', this._count, sources.length)
      : this._count;
  }

  private _setSurvey(): void {
    const s = this._surveys.find(x => x.id === this._survey.value);
    if (s && this._aladin) {
      this._aladin.setBaseImageLayer(this._A.imageHiPS(skyApi.surveyUrl(s), { name: s.title }));
    }
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
    this.results.grid.selectionModel?.changed.disconnect(this._highlight, this);
    this.results.model.changed.disconnect(this._onModelChanged, this);
    // the sources go with the view; Aladin Lite 3 has no call that ends the instance itself
    try {
      this._aladin?.removeLayers();
    } catch {
      // nothing left to remove
    }
    this._aladin = null;
    super.dispose();
  }

  private _survey: HTMLSelectElement;
  private _status: HTMLSpanElement;
  private _view: HTMLDivElement;
  private _surveys: ISurvey[] = [];
  private _A: any = null;
  private _aladin: any = null;
  private _catalog: any = null;
  private _selected: any = null;
  private _byRow = new Map<number, [number, number]>();
  private _count = '';
  private _sort = '';
}
