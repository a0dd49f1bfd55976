/**
 * The batch-job part of the REST API (see esap_lab/jobs/models.py for the fields).
 */
import { EsapClient, esapClient } from '../api';

export type JobStatus =
  | 'queued'
  | 'waiting-for-data'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled';

export { isFinal } from '../common/format';

export type ResourceName = 'cpus' | 'memory' | 'walltime' | 'partition';

export interface IResources {
  cpus?: number;
  /** MB */
  memory?: number;
  /** minutes, HH:MM, HH:MM:SS or D-HH:MM:SS */
  walltime?: string;
  partition?: string;
}

export interface IBackend {
  name: string;
  type: string;
  title: string;
  available: boolean | null;
  message: string | null;
  resources: ResourceName[];
  partitions: string[];
  default: boolean;
}

export interface IJobEvent {
  time: string;
  status: JobStatus;
  native_state?: string | null;
}

export interface IJob {
  id: string;
  name: string;
  notebook: string;
  backend: string;
  backend_type: string;
  native_id: string | null;
  status: JobStatus;
  native_state: string | null;
  message: string | null;
  parameters: Record<string, unknown>;
  resources: IResources;
  basket: Record<string, unknown>[] | null;
  wait_for: string[];
  workdir: string;
  output: string | null;
  resubmitted_from: string | null;
  created: string;
  submitted: string | null;
  started: string | null;
  finished: string | null;
  updated: string;
}

export interface ISubmitRequest {
  notebook: string;
  backend: string;
  parameters: Record<string, unknown>;
  resources: IResources;
  basket?: string[];
  wait_for?: string[];
  name?: string;
}

export interface IJobLog {
  id: string;
  status: JobStatus;
  stdout: string;
  stderr: string;
  events: IJobEvent[];
}

export interface IJobOutput {
  id: string;
  status: JobStatus;
  notebook: string | null;
  files: string[];
}

/** A staging transfer, as far as the submit dialog needs it. */
export interface ITransferSummary {
  id: string;
  status: string;
  title: string;
}

export function jobsApiOf(c: EsapClient) {
  return {
    backends: (check = true) =>
      c.request<{ backends: IBackend[] }>('backends', { query: { check } }).then(r => r.backends),
    list: (limit = 200) => c.request<{ jobs: IJob[] }>('jobs', { query: { limit } }).then(r => r.jobs),
    get: (jid: string) => c.request<IJob>(`jobs/${encodeURIComponent(jid)}`),
    submit: (request: ISubmitRequest) => c.request<IJob>('jobs', { method: 'POST', json: request }),
    /** Cancel an active job (-> the job), or remove an ended one from the list (-> undefined). */
    remove: (jid: string) =>
      c.request<IJob | undefined>(`jobs/${encodeURIComponent(jid)}`, { method: 'DELETE' }),
    resubmit: (jid: string) =>
      c.request<IJob>(`jobs/${encodeURIComponent(jid)}/resubmit`, { method: 'POST', json: {} }),
    log: (jid: string, tail = 200000) =>
      c.request<IJobLog>(`jobs/${encodeURIComponent(jid)}/log`, { query: { tail } }),
    output: (jid: string) => c.request<IJobOutput>(`jobs/${encodeURIComponent(jid)}/output`),
    /** Transfers still on their way (for "start when staged"); [] when there is no staging. */
    pendingTransfers: async (): Promise<ITransferSummary[]> => {
      try {
        const r = await c.request<{ transfers: ITransferSummary[] }>('staging', { query: { limit: 100 } });
        return r.transfers.filter(t => t.status === 'queued' || t.status === 'running');
      } catch {
        return [];
      }
    }
  };
}

export const jobsApi = jobsApiOf(esapClient);
