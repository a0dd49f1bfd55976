/**
 * A preview rendered on the server (GET /previews), in the main area: a FITS image as a PNG
 * (zscale or asinh stretch, a WCS grid when it has one), or a spectrum drawn with uPlot, its
 * axes with units. Its source is a file under the server root, a result row's data link, or a
 * basket record's. What cannot be previewed says why (the server's message).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '../../style/plots.css';

import { cssVar, themeAxis } from '../common/theme';
import { ISpectrum, plotsApi, PreviewSource } from '../plots/api';
import { esapIcon } from '../sidebar';

export type Stretch = 'zscale' | 'asinh';

/** The page's theme, as the server renders an image for it (labels light on dark, dark on light). */
export function pageTheme(): 'light' | 'dark' {
  return document.body.dataset.jpThemeLight === 'false' ? 'dark' : 'light';
}

/** A tick label that stays exact for fluxes of 1e-16 as for counts of 1e6 (uPlot's own rounds them to 0). */
export function tick(v: number): string {
  const a = Math.abs(v);
  if (v === 0 || !Number.isFinite(v)) {
    return String(v);
  }
  return a < 1e-3 || a >= 1e6 ? v.toExponential(2).replace(/\.?0+e/, 'e') : String(Number(v.toPrecision(6)));
}

/** A stable widget id per source (the same source opens the same tab). */
export function previewId(source: PreviewSource): string {
  const key = 'path' in source ? `p-${source.path}` : 'item' in source ? `i-${source.item}` : `q-${source.query}-${source.row}`;
  return 'esap-preview-' + key.replace(/[^A-Za-z0-9_-]/g, '_');
}

export class PreviewWidget extends Widget {
  constructor(
    readonly source: PreviewSource,
    label: string,
    private _trans: TranslationBundle
  ) {
    super();
    const t = _trans;
    this.id = previewId(source);
    this.addClass('jp-EsapPreview');
    this.title.label = t.__('Preview: %1', label);
    this.title.caption = label;
    this.title.icon = esapIcon;
    this.title.closable = true;
    this.label = label;

    const bar = document.createElement('div');
    bar.className = 'jp-EsapPlot-toolbar';
    const wrap = document.createElement('label');
    wrap.className = 'jp-EsapPlot-field';
    wrap.textContent = t.__('Stretch') + ' ';
    this._stretch = document.createElement('select');
    this._stretch.className = 'jp-mod-styled';
    this._stretch.name = 'stretch';
    for (const [v, text] of [
      ['zscale', t.__('zscale')],
      ['asinh', t.__('asinh')]
    ]) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = text;
      this._stretch.appendChild(o);
    }
    this._stretch.addEventListener('change', () => void this.load());
    wrap.appendChild(this._stretch);
    bar.appendChild(wrap);
    this._stretchField = wrap;
    this._status = document.createElement('span');
    this._status.className = 'jp-EsapSection-hint';
    this._status.setAttribute('aria-live', 'polite');
    bar.appendChild(this._status);
    this._body = document.createElement('div');
    this._body.className = 'jp-EsapPreview-body';
    this.node.append(bar, this._body);
  }

  readonly label: string;

  get stretch(): Stretch {
    return this._stretch.value as Stretch;
  }

  /** Draw again in the page's theme (it changed): a spectrum here, an image on the server. */
  restyle(): void {
    if (this.node.dataset.kind === 'spectrum' && this._spectrum) {
      this._plot?.destroy();
      this._plot = null;
      this._body.textContent = '';
      this._drawSpectrum(this._spectrum);
      this.node.dataset.theme = pageTheme();
    } else if (this.node.dataset.kind === 'image' && this._theme !== pageTheme()) {
      void this.load();
    }
  }

  protected onAfterAttach(): void {
    if (!this._loaded) {
      this._loaded = true;
      void this.load();
    }
  }

  protected onResize(): void {
    if (this._plot) {
      this._plot.setSize(this._size());
    }
  }

  /** Closed is gone (not merely hidden): opened again, the view starts anew. */
  protected onCloseRequest(msg: Message): void {
    super.onCloseRequest(msg);
    this.dispose();
  }

  dispose(): void {
    this._plot?.destroy();
    if (this._url) {
      URL.revokeObjectURL(this._url);
    }
    super.dispose();
  }

  /** The body's room for a spectrum plot. */
  private _size(): { width: number; height: number } {
    return { width: Math.max(this._body.clientWidth - 16, 240), height: Math.max(this._body.clientHeight - 24, 180) };
  }

  async load(): Promise<void> {
    const t = this._trans;
    this._status.textContent = t.__('Rendering on the server…');
    this.node.dataset.state = 'loading';
    try {
      const theme = pageTheme();
      const result = await plotsApi.preview(this.source, { stretch: this.stretch, size: 900, theme });
      this._theme = theme;
      this._plot?.destroy();
      this._plot = null;
      this._body.textContent = '';
      if ('blob' in result) {
        if (this._url) {
          URL.revokeObjectURL(this._url);
        }
        this._url = URL.createObjectURL(result.blob);
        const img = document.createElement('img');
        img.className = 'jp-EsapPreview-image';
        img.alt = t.__('FITS image %1 (%2 stretch)', this.label, this.stretch);
        img.src = this._url;
        this._body.appendChild(img);
        this._stretchField.style.display = '';
        this._status.textContent = t.__('FITS image, %1 stretch', this.stretch);
        this.node.dataset.kind = 'image';
      } else {
        this._stretchField.style.display = 'none';
        this._spectrum = result;
        this._drawSpectrum(result);
        this.node.dataset.kind = 'spectrum';
      }
      this.node.dataset.state = 'shown';
      this.node.dataset.theme = theme;
    } catch (error) {
      this._body.textContent = '';
      const p = document.createElement('p');
      p.className = 'jp-EsapPreview-error';
      p.setAttribute('role', 'alert');
      p.textContent = t.__('Cannot preview %1: %2', this.label, (error as Error).message);
      this._body.appendChild(p);
      this._status.textContent = '';
      this._stretchField.style.display = 'none';
      this.node.dataset.state = 'error';
    }
  }

  private _drawSpectrum(spec: ISpectrum): void {
    const t = this._trans;
    const order = spec.wavelength
      .map((w, i) => i)
      .filter(i => spec.wavelength[i] !== null)
      .sort((a, b) => (spec.wavelength[a] as number) - (spec.wavelength[b] as number));
    const xs = order.map(i => spec.wavelength[i] as number);
    const ys = order.map(i => spec.flux[i]);
    const unit = (name: string, u?: string | null) => (u ? `${name} [${u}]` : name);
    this._plot = new uPlot(
      {
        ...this._size(),
        title: spec.title ?? undefined,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [
          themeAxis(unit(t.__('wavelength'), spec.wavelength_unit)),
          { ...themeAxis(unit(t.__('flux'), spec.flux_unit)), values: (_u, splits) => splits.map(tick), size: 70 }
        ],
        series: [{}, { stroke: cssVar('--jp-brand-color1', '#1976d2'), width: 1, points: { show: false } }],
        cursor: { drag: { x: true, y: false, setScale: true } }
      },
      [xs, ys],
      this._body
    );
    this._status.textContent = t.__('Spectrum, %1 points (drag to zoom, double-click to reset)', xs.length);
  }

  private _stretch: HTMLSelectElement;
  private _stretchField: HTMLLabelElement;
  private _status: HTMLSpanElement;
  private _body: HTMLDivElement;
  private _plot: uPlot | null = null;
  private _url = '';
  private _loaded = false;
  private _spectrum: ISpectrum | null = null;
  private _theme: 'light' | 'dark' = 'light';
}
