/**
 * DataLink of one result row: its links (this, preview, cutout services, progenitors ...) in a
 * dialog, and a SODA cutout (a circle around the row, or a centre and size the user chooses)
 * into the workspace or the basket.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ICutout, IRowLinks, skyApi } from '../sky/api';

export interface ICutoutRequest {
  ra?: number;
  dec?: number;
  radius?: number;
  target: 'workspace' | 'basket';
  path?: string;
}

function humanSize(n?: number | null): string {
  if (n === undefined || n === null || n < 0) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/** The dialog's body: the links, then the cutout form when the row has a SODA service. */
export class LinksBody extends Widget implements Dialog.IBodyWidget<ICutoutRequest | null> {
  constructor(
    readonly links: IRowLinks,
    trans: TranslationBundle
  ) {
    super();
    const t = trans;
    this.addClass('jp-EsapLinks');
    const table = document.createElement('table');
    table.className = 'jp-EsapLinks-table';
    const head = table.createTHead().insertRow();
    for (const h of [t.__('Link'), t.__('What'), t.__('Type'), t.__('Size')]) {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const link of links.links) {
      const tr = body.insertRow();
      tr.className = 'jp-EsapLinks-row';
      tr.dataset.semantics = link.semantics;
      const sem = tr.insertCell();
      if (link.url) {
        const a = document.createElement('a');
        a.href = link.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.textContent = link.semantics;
        sem.appendChild(a);
      } else {
        sem.textContent = link.semantics;
      }
      const service = links.services.find(s => s.id === link.service);
      tr.insertCell().textContent =
        link.error ?? link.description ?? (service?.soda ? t.__('SODA cutout service') : '');
      tr.insertCell().textContent = link.content_type ?? (service ? t.__('service') : '');
      tr.insertCell().textContent = humanSize(link.content_length);
    }
    this.node.appendChild(table);

    this._soda = links.services.some(s => s.soda);
    if (!this._soda) {
      const p = document.createElement('p');
      p.className = 'jp-EsapSection-hint';
      p.textContent = t.__('This row offers no cutout service.');
      this.node.appendChild(p);
      return;
    }
    const form = document.createElement('fieldset');
    form.className = 'jp-EsapForm jp-EsapLinks-cutout';
    const legend = document.createElement('legend');
    legend.textContent = t.__('Cutout (SODA): a circle');
    form.appendChild(legend);
    const radius = (links.size ? links.size / 4 : 0.05) * 3600;
    this._inputs = {
      ra: this._field(form, t.__('Centre RA (deg)'), 'ra', links.ra?.toFixed(6) ?? ''),
      dec: this._field(form, t.__('Centre Dec (deg)'), 'dec', links.dec?.toFixed(6) ?? ''),
      radius: this._field(form, t.__('Radius (arcsec)'), 'radius', radius.toFixed(0))
    };
    const label = document.createElement('label');
    label.textContent = t.__('Into');
    this._target = document.createElement('select');
    this._target.className = 'jp-mod-styled';
    this._target.name = 'target';
    for (const [v, text] of [
      ['workspace', t.__('the workspace (a FITS file)')],
      ['basket', t.__('the basket (its SODA link)')]
    ]) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = text;
      this._target.appendChild(o);
    }
    label.appendChild(this._target);
    form.appendChild(label);
    this._path = this._field(form, t.__('File (optional; default cutouts/…)'), 'path', '');
    this._path.type = 'text';
    this.node.appendChild(form);
  }

  get hasCutout(): boolean {
    return this._soda;
  }

  private _field(form: HTMLElement, text: string, name: string, value: string): HTMLInputElement {
    const label = document.createElement('label');
    label.textContent = text;
    const input = document.createElement('input');
    input.className = 'jp-mod-styled';
    input.name = name;
    input.type = 'number';
    input.step = 'any';
    input.value = value;
    label.appendChild(input);
    form.appendChild(label);
    return input;
  }

  getValue(): ICutoutRequest | null {
    if (!this._soda || !this._inputs) {
      return null;
    }
    const num = (i: HTMLInputElement) => (i.value.trim() === '' ? undefined : Number(i.value));
    const radius = num(this._inputs.radius);
    return {
      ra: num(this._inputs.ra),
      dec: num(this._inputs.dec),
      radius: radius === undefined ? undefined : radius / 3600,
      target: this._target?.value === 'basket' ? 'basket' : 'workspace',
      path: this._path?.value.trim() || undefined
    };
  }

  private _soda = false;
  private _inputs: { ra: HTMLInputElement; dec: HTMLInputElement; radius: HTMLInputElement } | null = null;
  private _target: HTMLSelectElement | null = null;
  private _path: HTMLInputElement | null = null;
}

/** Show a row's links; run the cutout the user asks for. Resolves to the cutout, if any. */
export async function showLinks(
  queryId: string,
  row: number,
  displayRow: number,
  trans: TranslationBundle
): Promise<ICutout | null> {
  const t = trans;
  let links: IRowLinks;
  try {
    links = await skyApi.links(queryId, row);
  } catch (error) {
    Notification.error(t.__('No DataLink for row %1: %2', displayRow + 1, (error as Error).message));
    return null;
  }
  const body = new LinksBody(links, t);
  const buttons = [Dialog.cancelButton({ label: t.__('Close') })];
  if (body.hasCutout) {
    buttons.push(Dialog.okButton({ label: t.__('Cut out') }));
  }
  const answer = await showDialog({ title: t.__('DataLink of row %1', displayRow + 1), body, buttons });
  const v = answer.value;
  if (!answer.button.accept || !v) {
    return null;
  }
  const id = Notification.emit(t.__('Cutting out…'), 'in-progress', { autoClose: false });
  // The outcome is a new notification, not an update of the one above: after a theme change
  // JupyterLab's toasts were seen to drop updates (the "Cutting out…" toast stayed for good).
  try {
    const cut = await skyApi.cutout({
      query_id: queryId,
      row,
      ra: v.ra ?? null,
      dec: v.dec ?? null,
      radius: v.radius ?? null,
      target: v.target,
      path: v.path ?? null,
      overwrite: false
    });
    Notification.dismiss(id);
    Notification.success(
      cut.target === 'basket'
        ? t.__('The cutout (%1″ around %2 %3) is in the basket.', ((cut.radius ?? 0) * 3600).toFixed(0), cut.ra.toFixed(5), cut.dec.toFixed(5))
        : t.__('Cutout saved as %1.', cut.path ?? ''),
      { autoClose: 8000 }
    );
    return cut;
  } catch (error) {
    Notification.dismiss(id);
    Notification.error(t.__('Cutout failed: %1', (error as Error).message), { autoClose: false });
    return null;
  }
}
