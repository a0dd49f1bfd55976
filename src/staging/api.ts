/**
 * The staging part of the REST API (see esap_lab/staging/models.py for the fields).
 */
import { EsapClient, esapClient } from '../api';

export type TransferStatus = 'queued' | 'running' | 'completed' | 'error' | 'cancelled';
export type TransferMode = 'download' | 'replica' | 'url';

export { formatBytes, isFinal } from '../common/format';

export interface ITransferFile {
  did: string | null;
  url: string | null;
  name: string;
  bytes: number | null;
  bytes_done: number;
  state: 'queued' | 'running' | 'done' | 'error' | 'cancelled';
  replica_state: string | null;
  /** relative to the server root when inside it */
  path: string | null;
  checksum: string | null;
  message: string | null;
}

export interface IProgress {
  bytes_done: number;
  bytes_total: number | null;
  files_done: number;
  files_total: number;
  fraction: number;
}

export interface IRuleState {
  ids: string[];
  rse: string;
  state: 'OK' | 'REPLICATING' | 'STUCK' | string;
  locks_ok: number;
  locks_replicating: number;
  locks_stuck: number;
  expires_at: string | null;
}

export interface ITransfer {
  id: string;
  status: TransferStatus;
  mode: TransferMode;
  instance: string | null;
  dids: string[];
  urls: string[];
  items: string[];
  title: string;
  /** download folder relative to the server root, or the RSE mount in replica mode */
  destination: string | null;
  progress: IProgress;
  files: ITransferFile[];
  rule: IRuleState | null;
  message: string | null;
  reason: string | null;
  created: string;
  updated: string;
  finished: string | null;
}

export interface IStageRequest {
  dids?: string[];
  items?: string[];
  urls?: (string | { url: string; name?: string; bytes?: number; checksum?: string })[];
  mode?: 'download' | 'replica';
  instance?: string;
  destination?: string;
  lifetime?: number;
}

export interface IRucioInstance {
  name: string;
  title: string;
  rucio_host: string;
  account: string;
  auth_type: string;
  replica_mode: boolean;
  destination_rse: string | null;
  download_folder: string;
}

export interface IDidFile {
  scope: string;
  name: string;
  did: string;
  bytes: number | null;
  adler32: string | null;
  md5: string | null;
  replicas: Record<string, string>;
  available: boolean;
}

export interface IDidContents {
  instance: string;
  did: string;
  did_type: string;
  bytes: number;
  files: IDidFile[];
  total: number;
  offset: number;
}

export function stagingApiOf(c: EsapClient) {
  return {
    stage: (request: IStageRequest) =>
      c.request<ITransfer>('staging', { method: 'POST', json: request }),
    list: (files = false) =>
      c.request<{ transfers: ITransfer[] }>('staging', { query: { files } }).then(r => r.transfers),
    get: (tid: string) => c.request<ITransfer>(`staging/${encodeURIComponent(tid)}`),
    /** Cancel a running transfer (-> its final state) or remove a finished one (-> undefined). */
    cancel: (tid: string) =>
      c.request<ITransfer | undefined>(`staging/${encodeURIComponent(tid)}`, { method: 'DELETE' }),
    instances: () =>
      c.request<{ instances: IRucioInstance[] }>('rucio').then(r => r.instances),
    /** The scopes of an instance (what a DID search can look in). */
    scopes: (instance: string) =>
      c.request<{ instance: string; scopes: string[] }>(`rucio/${encodeURIComponent(instance)}/scopes`).then(
        r => r.scopes
      ),
    contents: (instance: string, did: string, offset = 0, limit = 1000) => {
      const [scope, ...rest] = did.split(':');
      const name = rest.join(':');
      return c.request<IDidContents>(
        `rucio/${encodeURIComponent(instance)}/dids/${encodeURIComponent(scope)}/${name
          .split('/')
          .map(encodeURIComponent)
          .join('/')}/files`,
        { query: { offset, limit } }
      );
    }
  };
}

export const stagingApi = stagingApiOf(esapClient);
