/**
 * The front end's transfer list: polled from the server (every second while a transfer runs),
 * with a signal for each transfer that ended while this page watched it.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IRucioInstance, isFinal, IStageRequest, ITransfer, stagingApi, TransferStatus } from './api';

const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 5000;

export class StagingModel implements IDisposable {
  constructor() {
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  get transfers(): readonly ITransfer[] {
    return this._transfers;
  }

  get instances(): readonly IRucioInstance[] {
    return this._instances;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get error(): string {
    return this._error;
  }

  get changed(): ISignal<StagingModel, void> {
    return this._changed;
  }

  /** Progress of a transfer changed (for in-progress notifications). */
  get progressed(): ISignal<StagingModel, ITransfer> {
    return this._progressed;
  }

  /** A transfer reached completed, error or cancelled. */
  get ended(): ISignal<StagingModel, ITransfer> {
    return this._ended;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  get(id: string): ITransfer | undefined {
    return this._transfers.find(t => t.id === id);
  }

  async loadInstances(): Promise<readonly IRucioInstance[]> {
    try {
      this._instances = await stagingApi.instances();
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
    return this._instances;
  }

  /** Start a transfer (or get the one already staging the same data) and watch it. */
  async stage(request: IStageRequest): Promise<ITransfer> {
    const transfer = await stagingApi.stage(request);
    this._watched.add(transfer.id);
    this._merge(transfer);
    this.poke();
    return transfer;
  }

  async cancel(id: string): Promise<void> {
    const after = await stagingApi.cancel(id);
    if (after) {
      this._merge(after);
    } else {
      this._transfers = this._transfers.filter(t => t.id !== id);
      this._changed.emit();
    }
    this.poke();
  }

  async refresh(): Promise<void> {
    if (this._refreshing) {
      return this._refreshing;
    }
    this._refreshing = this._refresh();
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
    }
  }

  /** Show (or hide) the per-file list of a transfer; shown ones are read in full at each poll. */
  toggleFiles(id: string): void {
    if (this._expanded.has(id)) {
      this._expanded.delete(id);
      this._changed.emit();
    } else {
      this._expanded.add(id);
      this.poke();
    }
  }

  isExpanded(id: string): boolean {
    return this._expanded.has(id);
  }

  private async _refresh(): Promise<void> {
    try {
      const transfers = await stagingApi.list();
      const full = await Promise.all(
        transfers.map(t => (this._expanded.has(t.id) ? stagingApi.get(t.id).catch(() => t) : t))
      );
      transfers.splice(0, transfers.length, ...full);
      for (const t of transfers) {
        this._observe(t);
      }
      this._transfers = transfers;
      this._loaded = true;
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
  }

  private _merge(transfer: ITransfer): void {
    this._observe(transfer);
    const i = this._transfers.findIndex(t => t.id === transfer.id);
    this._transfers =
      i < 0
        ? [transfer, ...this._transfers]
        : this._transfers.map(t => (t.id === transfer.id ? transfer : t));
    this._changed.emit();
  }

  private _observe(t: ITransfer): void {
    const before = this._status.get(t.id);
    if ((before && !isFinal(before)) || (!before && this._watched.has(t.id))) {
      if (isFinal(t.status)) {
        this._ended.emit(t);
      } else {
        this._progressed.emit(t);
      }
    }
    this._status.set(t.id, t.status);
  }

  start(): void {
    if (this._timer === null && !this._disposed) {
      void this.refresh();
      void this.loadInstances();
      this._schedule();
    }
  }

  poke(): void {
    void this.refresh();
  }

  private _schedule(): void {
    const active = this._transfers.some(t => !isFinal(t.status));
    this._timer = window.setTimeout(async () => {
      if (!document.hidden) {
        await this.refresh();
      }
      if (!this._disposed) {
        this._schedule();
      }
    }, active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
  }

  private _onVisibility = (): void => {
    if (!document.hidden) {
      void this.refresh();
    }
  };

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
    }
    document.removeEventListener('visibilitychange', this._onVisibility);
    Signal.clearData(this);
  }

  private _transfers: ITransfer[] = [];
  private _instances: IRucioInstance[] = [];
  private _status = new Map<string, TransferStatus>();
  private _watched = new Set<string>();
  private _expanded = new Set<string>();
  private _loaded = false;
  private _error = '';
  private _changed = new Signal<StagingModel, void>(this);
  private _progressed = new Signal<StagingModel, ITransfer>(this);
  private _ended = new Signal<StagingModel, ITransfer>(this);
  private _timer: number | null = null;
  private _refreshing: Promise<void> | null = null;
  private _disposed = false;
}
