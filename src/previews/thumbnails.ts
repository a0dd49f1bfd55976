/**
 * Thumbnails of an image search's rows, in a strip above its grid: each the stretched pixels of
 * the row's image, rendered on the server (GET /previews?axes=false), a few at a time. A click
 * selects the row in the grid and opens its preview.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { plotsApi } from '../plots/api';
import { ResultsWidget } from '../search/results';

const MAX_THUMBS = 24; // each one fetches the whole image from the archive: the first rows only
const AT_ONCE = 3;
const SIZE = 96;

export class ThumbnailStrip extends Widget {
  constructor(
    readonly results: ResultsWidget,
    private _trans: TranslationBundle,
    private _open: (row: number) => void
  ) {
    super();
    this.addClass('jp-EsapThumbs');
    this.node.setAttribute('role', 'list');
    this.node.setAttribute('aria-label', _trans.__('Thumbnails of the first rows'));
    const n = Math.min(results.query.row_count ?? 0, MAX_THUMBS);
    for (let row = 0; row < n; row++) {
      this._rows.push(row);
    }
  }

  protected onAfterAttach(): void {
    if (this._tiles.size) {
      return;
    }
    const t = this._trans;
    for (const row of this._rows) {
      const tile = document.createElement('button');
      tile.className = 'jp-EsapThumbs-tile';
      tile.setAttribute('role', 'listitem');
      tile.title = t.__('Row %1: select it and open its preview', row + 1);
      tile.dataset.row = String(row);
      const label = document.createElement('span');
      label.textContent = String(row + 1);
      tile.appendChild(label);
      tile.addEventListener('click', () => {
        void this.results.selectRows([row]);
        this._open(row);
      });
      this.node.appendChild(tile);
      this._tiles.set(row, tile);
    }
    this._queue = [...this._rows];
    for (let i = 0; i < AT_ONCE; i++) {
      void this._next();
    }
  }

  dispose(): void {
    this._urls.forEach(u => URL.revokeObjectURL(u));
    this._urls = [];
    super.dispose();
  }

  private async _next(): Promise<void> {
    const row = this._queue.shift();
    if (row === undefined || this.isDisposed) {
      return;
    }
    const tile = this._tiles.get(row)!;
    try {
      const r = await plotsApi.preview({ query: this.results.query.id, row }, { size: SIZE, axes: false });
      if (this.isDisposed) {
        return;
      }
      if ('blob' in r) {
        const url = URL.createObjectURL(r.blob);
        this._urls.push(url);
        const img = document.createElement('img');
        img.src = url;
        img.alt = this._trans.__('Image of row %1', row + 1);
        tile.prepend(img);
        tile.classList.add('jp-mod-loaded');
      } else {
        tile.classList.add('jp-mod-spectrum');
        tile.title = this._trans.__('Row %1: a spectrum (open its preview)', row + 1);
      }
    } catch (error) {
      tile.classList.add('jp-mod-failed');
      tile.title = this._trans.__('Row %1: no thumbnail (%2)', row + 1, (error as Error).message);
    }
    await this._next();
  }

  private _rows: number[] = [];
  private _queue: number[] = [];
  private _tiles = new Map<number, HTMLButtonElement>();
  private _urls: string[] = [];
}
