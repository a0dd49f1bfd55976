/**
 * The front end's transfer list: polled from the server (every second while a transfer runs),
 * with a signal for each transfer that ended while this page watched it.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { PollingModel } from '../common/polling';
import { IRucioInstance, isFinal, IStageRequest, ITransfer, stagingApi, TransferStatus } from './api';

/** The wait while nothing runs: the setting's interval, at least 5 s. */
const IDLE_POLL_MS = 5000;

export class StagingModel extends PollingModel {
  /** `pollMs`: the wait between two reads while a transfer runs (the user's setting). */
  constructor(private _pollMs: () => number = () => 1000) {
    super();
  }

  /** Where downloads go when the request names no folder ('' = the server's default). */
  downloadFolder = '';

  get transfers(): readonly ITransfer[] {
    return this._transfers;
  }

  get instances(): readonly IRucioInstance[] {
    return this._instances;
  }

  /** Progress of a transfer changed (for in-progress notifications). */
  get progressed(): ISignal<StagingModel, ITransfer> {
    return this._progressed;
  }

  /** A transfer reached completed, error or cancelled. */
  get ended(): ISignal<StagingModel, ITransfer> {
    return this._ended;
  }

  get(id: string): ITransfer | undefined {
    return this._transfers.find(t => t.id === id);
  }

  async loadInstances(): Promise<readonly IRucioInstance[]> {
    try {
      this._instances = await stagingApi.instances();
    } catch (error) {
      this.setError(error);
    }
    this.emitChanged();
    return this._instances;
  }

  /** Start a transfer (or get the one already staging the same data) and watch it. */
  async stage(request: IStageRequest): Promise<ITransfer> {
    const folder = this.downloadFolder;
    if (folder && request.mode !== 'replica' && !request.destination) {
      request = { ...request, destination: folder };
    }
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
      this.emitChanged();
    }
    this.poke();
  }

  /** Show (or hide) the per-file list of a transfer; shown ones are read in full at each poll. */
  toggleFiles(id: string): void {
    if (this._expanded.has(id)) {
      this._expanded.delete(id);
      this.emitChanged();
    } else {
      this._expanded.add(id);
      this.poke();
    }
  }

  isExpanded(id: string): boolean {
    return this._expanded.has(id);
  }

  protected async read(): Promise<boolean> {
    const transfers = await stagingApi.list();
    const full = await Promise.all(
      transfers.map(t => (this._expanded.has(t.id) ? stagingApi.get(t.id).catch(() => t) : t))
    );
    transfers.splice(0, transfers.length, ...full);
    for (const t of transfers) {
      this._observe(t);
    }
    this._transfers = transfers;
    return true;
  }

  protected interval(): number {
    const active = this._pollMs();
    return this._transfers.some(t => !isFinal(t.status)) ? active : Math.max(IDLE_POLL_MS, active);
  }

  protected onStart(): void {
    void this.loadInstances();
  }

  private _merge(transfer: ITransfer): void {
    this._observe(transfer);
    const i = this._transfers.findIndex(t => t.id === transfer.id);
    this._transfers =
      i < 0
        ? [transfer, ...this._transfers]
        : this._transfers.map(t => (t.id === transfer.id ? transfer : t));
    this.emitChanged();
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

  private _transfers: ITransfer[] = [];
  private _instances: IRucioInstance[] = [];
  private _status = new Map<string, TransferStatus>();
  private _watched = new Set<string>();
  private _expanded = new Set<string>();
  private _progressed = new Signal<StagingModel, ITransfer>(this);
  private _ended = new Signal<StagingModel, ITransfer>(this);
}
