/**
 * The front end's job list: polled from the server (faster while jobs are active), with a
 * signal for each job that ended since the last poll (the plugin notifies the user).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IBackend, IJob, isFinal, JobStatus, jobsApi } from './api';

const ACTIVE_POLL_MS = 1500;
const IDLE_POLL_MS = 5000;

export class JobsModel implements IDisposable {
  constructor() {
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  get jobs(): readonly IJob[] {
    return this._jobs;
  }

  get backends(): readonly IBackend[] {
    return this._backends;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error of a refresh ('' when fine). */
  get error(): string {
    return this._error;
  }

  get changed(): ISignal<JobsModel, void> {
    return this._changed;
  }

  /** A job that reached completed, failed or cancelled while this page watched it. */
  get ended(): ISignal<JobsModel, IJob> {
    return this._ended;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  get(id: string): IJob | undefined {
    return this._jobs.find(j => j.id === id);
  }

  /** Read the backends and their state (a check asks each batch system). */
  async refreshBackends(check = true): Promise<readonly IBackend[]> {
    this._backends = await jobsApi.backends(check);
    this._changed.emit();
    return this._backends;
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

  private async _refresh(): Promise<void> {
    try {
      const jobs = await jobsApi.list();
      if (this._loaded) {
        for (const job of jobs) {
          const before = this._status.get(job.id);
          if (before && !isFinal(before) && isFinal(job.status)) {
            this._ended.emit(job);
          }
        }
      }
      this._status = new Map(jobs.map(j => [j.id, j.status]));
      this._jobs = jobs;
      this._loaded = true;
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
  }

  /** Start polling (the first read happens at once). */
  start(): void {
    if (this._timer === null && !this._disposed) {
      void this.refresh();
      this._schedule();
    }
  }

  /** Poll again soon (after a submit or an action). */
  poke(): void {
    void this.refresh();
  }

  private _schedule(): void {
    const active = this._jobs.some(j => !isFinal(j.status));
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

  private _jobs: IJob[] = [];
  private _backends: IBackend[] = [];
  private _status = new Map<string, JobStatus>();
  private _loaded = false;
  private _error = '';
  private _changed = new Signal<JobsModel, void>(this);
  private _ended = new Signal<JobsModel, IJob>(this);
  private _timer: number | null = null;
  private _refreshing: Promise<void> | null = null;
  private _disposed = false;
}
