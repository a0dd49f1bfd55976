/**
 * The Software step's model: the last OSSR search (query, page, records) and the suggestions
 * for the basket, read again when the basket changes (no timer: the OSSR is remote and slow).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ISearchPage, ISuggestion, softwareApi } from './api';

export class SoftwareModel {
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  query = '';
  page: ISearchPage | null = null;
  suggestions: ISuggestion[] = [];
  /** Errors of the last search and of the last suggestions ('' when fine). */
  error = '';
  suggestError = '';
  busy = false;
  loaded = false;
  /** Record ids being opened or run (their buttons wait). */
  working = new Set<string>();

  async search(query: string, page = 1): Promise<void> {
    this.query = query;
    this.busy = true;
    this._changed.emit();
    try {
      this.page = await softwareApi.search(query, page);
      this.error = '';
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
      this.loaded = true;
      this._changed.emit();
    }
  }

  async suggest(): Promise<void> {
    try {
      this.suggestions = await softwareApi.suggestions();
      this.suggestError = '';
    } catch (e) {
      this.suggestError = (e as Error).message;
    }
    this._changed.emit();
  }

  async working_on<T>(id: string, job: () => Promise<T>): Promise<T> {
    this.working.add(id);
    this._changed.emit();
    try {
      return await job();
    } finally {
      this.working.delete(id);
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
}
