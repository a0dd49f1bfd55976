/**
 * The export dialog of a result grid or of basket records: a format (VOTable binary2, FITS, CSV,
 * ECSV, Parquet), which rows (the whole result or the rows selected in the grid), and where to
 * (a download, or a file saved into the workspace under the server root).
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ExportFormat, FORMATS, ISavedFile } from './api';

export interface IExportChoice {
  format: ExportFormat;
  selected: boolean;
  save: boolean;
  path: string;
}

/** The dialog's form; its value is the user's choice. */
class ExportBody extends Widget implements Dialog.IBodyWidget<IExportChoice> {
  constructor(
    t: TranslationBundle,
    private _opts: { base: string; folder: string; selected: number; canSave: boolean; what: string }
  ) {
    super();
    this.addClass('jp-EsapForm');
    this.addClass('jp-EsapExport');
    const field = (label: string, input: HTMLElement) => {
      const l = document.createElement('label');
      l.textContent = label;
      l.appendChild(input);
      this.node.appendChild(l);
    };
    this._format = document.createElement('select');
    this._format.className = 'jp-mod-styled';
    this._format.name = 'format';
    for (const f of FORMATS) {
      const o = document.createElement('option');
      o.value = f.format;
      o.textContent = f.label;
      this._format.appendChild(o);
    }
    field(t.__('Format'), this._format);

    this._rows = document.createElement('select');
    this._rows.className = 'jp-mod-styled';
    this._rows.name = 'rows';
    for (const [value, text] of [
      ['all', _opts.what],
      ['selected', t._n('the %1 row selected in the grid', 'the %1 rows selected in the grid', _opts.selected)]
    ]) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      this._rows.appendChild(o);
    }
    this._rows.value = _opts.selected ? 'selected' : 'all';
    this._rows.disabled = !_opts.selected;
    field(t.__('Rows'), this._rows);

    this._where = document.createElement('select');
    this._where.className = 'jp-mod-styled';
    this._where.name = 'destination';
    for (const [value, text] of [
      ['save', t.__('Save into the workspace')],
      ['download', t.__('Download')]
    ]) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      this._where.appendChild(o);
    }
    this._where.value = _opts.canSave ? 'save' : 'download';
    this._where.disabled = !_opts.canSave;
    field(t.__('To'), this._where);

    this._path = document.createElement('input');
    this._path.className = 'jp-mod-styled';
    this._path.name = 'path';
    this._path.setAttribute('aria-label', t.__('File in the workspace'));
    field(t.__('File'), this._path);
    this._setPath();
    this._format.addEventListener('change', () => this._setPath());
    this._where.addEventListener('change', () => {
      this._path.disabled = this._where.value !== 'save';
    });
    this._path.disabled = this._where.value !== 'save';
  }

  /** The default file name follows the format (until the user types one). */
  private _setPath(): void {
    const suffix = FORMATS.find(f => f.format === this._format.value)?.suffix ?? '';
    const current = this._path.value;
    if (!current || current === this._auto) {
      this._auto = PathExt.join(this._opts.folder, this._opts.base + suffix);
      this._path.value = this._auto;
    }
  }

  getValue(): IExportChoice {
    return {
      format: this._format.value as ExportFormat,
      selected: this._rows.value === 'selected',
      save: this._where.value === 'save',
      path: this._path.value.trim()
    };
  }

  private _format: HTMLSelectElement;
  private _rows: HTMLSelectElement;
  private _where: HTMLSelectElement;
  private _path: HTMLInputElement;
  private _auto = '';
}

/** Ask what to export; null when cancelled. */
export async function askExport(
  t: TranslationBundle,
  opts: { title: string; base: string; folder: string; selected: number; canSave: boolean; what: string }
): Promise<IExportChoice | null> {
  const answer = await showDialog({
    title: opts.title,
    body: new ExportBody(t, opts),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Export') })]
  });
  return answer.button.accept && answer.value ? answer.value : null;
}

/** Let the browser download a URL (an attachment: the page stays). */
export function download(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Save, asking before overwriting an existing file (the server answers 409 for one). */
export async function saveWithOverwrite(
  t: TranslationBundle,
  save: (overwrite: boolean) => Promise<ISavedFile>
): Promise<ISavedFile | null> {
  try {
    return await save(false);
  } catch (error) {
    if ((error as { reason?: string }).reason !== 'file-exists') {
      throw error;
    }
    const answer = await showDialog({
      title: t.__('Replace the file?'),
      body: (error as Error).message,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: t.__('Replace') })]
    });
    if (!answer.button.accept) {
      return null;
    }
    return await save(true);
  }
}

export function savedMessage(t: TranslationBundle, f: ISavedFile): void {
  Notification.success(t.__('Saved %1 rows as %2 (%3 kB).', f.rows, f.path, Math.ceil(f.bytes / 1024)), {
    autoClose: 5000
  });
}
