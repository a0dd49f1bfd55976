/**
 * The Software step's model: the last OSSR search (query, page, records) and the suggestions
 * for the basket, read again when the basket changes (no timer: the OSSR is remote and slow).
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IOpenOperation, ISearchPage, ISuggestion, softwareApi } from './api';

const FINAL = ['completed', 'error', 'cancelled'];

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

  /** The open operations by record id (the last one of each record). */
  opens = new Map<string, IOpenOperation>();

  /** Open a record here as a long operation: progress in `opens` (and `progressed`) until it ends. */
  async openHere(recordId: string, progressed?: (x: IOpenOperation) => void): Promise<IOpenOperation> {
    let x = await softwareApi.startOpen(recordId);
    const update = (next: IOpenOperation) => {
      x = next;
      this.opens.set(recordId, x);
      this._changed.emit();
      progressed?.(x);
    };
    update(x);
    const poll = new Poll({
      factory: async () => {
        update(await softwareApi.getOpen(x.id));
        if (FINAL.includes(x.status)) {
          poll.dispose();
        }
      },
      frequency: { interval: 500, backoff: true, max: 5000 },
      standby: 'never',
      name: `esap-lab:software-open:${recordId}`
    });
    await new Promise<void>(resolve => poll.disposed.connect(() => resolve()));
    return x;
  }

  /** Cancel the running open of a record. */
  async cancelOpen(recordId: string): Promise<void> {
    const x = this.opens.get(recordId);
    if (x && !FINAL.includes(x.status)) {
      const next = await softwareApi.cancelOpen(x.id);
      if (next) {
        this.opens.set(recordId, next);
        this._changed.emit();
      }
    }
  }

  /** Whether a record is being opened. */
  opening(recordId: string): IOpenOperation | null {
    const x = this.opens.get(recordId);
    return x && !FINAL.includes(x.status) ? x : null;
  }

  private _changed = new Signal<this, void>(this);
}
