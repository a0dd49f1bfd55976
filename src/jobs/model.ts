/**
 * The front end's job list: polled from the server (faster while jobs are active), with a
 * signal for each job that ended since the last poll (the plugin notifies the user).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { PollingModel } from '../common/polling';
import { IBackend, IJob, isFinal, JobStatus, jobsApi } from './api';

/** The wait while nothing runs: the setting's interval, at least 5 s. */
const IDLE_POLL_MS = 5000;

export class JobsModel extends PollingModel {
  /** `pollMs`: the wait between two reads while a job is active (the user's setting). */
  constructor(private _pollMs: () => number = () => 1500) {
    super();
  }

  get jobs(): readonly IJob[] {
    return this._jobs;
  }

  get backends(): readonly IBackend[] {
    return this._backends;
  }

  /** A job that reached completed, failed or cancelled while this page watched it. */
  get ended(): ISignal<JobsModel, IJob> {
    return this._ended;
  }

  get(id: string): IJob | undefined {
    return this._jobs.find(j => j.id === id);
  }

  /** Read the backends and their state (a check asks each batch system). */
  async refreshBackends(check = true): Promise<readonly IBackend[]> {
    this._backends = await jobsApi.backends(check);
    this.emitChanged();
    return this._backends;
  }

  protected async read(): Promise<boolean> {
    const jobs = await jobsApi.list();
    if (this.loaded) {
      for (const job of jobs) {
        const before = this._status.get(job.id);
        if (before && !isFinal(before) && isFinal(job.status)) {
          this._ended.emit(job);
        }
      }
    }
    this._status = new Map(jobs.map(j => [j.id, j.status]));
    this._jobs = jobs;
    return true;
  }

  protected interval(): number {
    const active = this._pollMs();
    return this._jobs.some(j => !isFinal(j.status)) ? active : Math.max(IDLE_POLL_MS, active);
  }

  private _jobs: IJob[] = [];
  private _backends: IBackend[] = [];
  private _status = new Map<string, JobStatus>();
  private _ended = new Signal<JobsModel, IJob>(this);
}
