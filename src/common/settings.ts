/**
 * The user's ESAP settings (schema/plugin.json, Settings → ESAP) as the areas read them: the
 * current values at any time (defaults until the registry answered) and a signal when the user
 * changes one in the Settings Editor.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ISignal, Signal } from '@lumino/signaling';

export const SETTINGS_PLUGIN_ID = 'esap-lab:plugin';

export interface IEsapPrefs {
  /** the archive the Search step selects first ('' = the first listed) */
  defaultArchive: string;
  /** rows a result grid fetches at a time */
  pageSize: number;
  /** where downloads go, relative to the Jupyter root ('' = the server's default) */
  downloadFolder: string;
  /** seconds between two reads of running queries, transfers and jobs */
  pollInterval: number;
}

export const DEFAULT_PREFS: Readonly<IEsapPrefs> = {
  defaultArchive: '',
  pageSize: 200,
  downloadFolder: '',
  pollInterval: 2
};

export class EsapPrefs {
  /** The current values. */
  get values(): Readonly<IEsapPrefs> {
    return this._values;
  }

  /** Emits when the user changed a setting (or once the saved ones were read). */
  get changed(): ISignal<EsapPrefs, Readonly<IEsapPrefs>> {
    return this._changed;
  }

  /** The download folder to send with a download: undefined lets the server choose. */
  get destination(): string | undefined {
    const folder = this._values.downloadFolder.trim().replace(/^\/+|\/+$/g, '');
    return folder || undefined;
  }

  /** Milliseconds between polls while something runs. */
  get pollMs(): number {
    return Math.max(500, this._values.pollInterval * 1000);
  }

  /** Take values as the registry gives them (unknown keys and wrong types are ignored). */
  update(values: Partial<Record<keyof IEsapPrefs, unknown>>): void {
    const next = { ...this._values };
    for (const key of Object.keys(DEFAULT_PREFS) as (keyof IEsapPrefs)[]) {
      const v = values[key];
      if (v !== undefined && typeof v === typeof DEFAULT_PREFS[key]) {
        (next as any)[key] = v;
      }
    }
    this._values = next;
    this._changed.emit(next);
  }

  /** Read the user's settings from the registry and follow their changes. */
  watch(registry: ISettingRegistry | null): this {
    if (registry) {
      void registry
        .load(SETTINGS_PLUGIN_ID)
        .then(settings => {
          const read = () => this.update(settings.composite as any);
          read();
          settings.changed.connect(read);
        })
        .catch(() => undefined);
    }
    return this;
  }

  private _values: IEsapPrefs = { ...DEFAULT_PREFS };
  private _changed = new Signal<EsapPrefs, Readonly<IEsapPrefs>>(this);
}
