/**
 * The typed client of the esap-lab REST API (prefix /esap-lab/api under the server's base URL).
 * Every call goes through `requestAPI`, which turns an error body {message, reason} into an
 * `EsapApiError` whose message is ready to show to the user.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { noticeLogin } from './common/login';

export const API_PREFIX = 'esap-lab/api';

export class EsapApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string = '',
    readonly service?: string
  ) {
    super(message);
    this.name = 'EsapApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function apiUrl(
  endpoint: string,
  query?: Query,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  let url = URLExt.join(settings.baseUrl, API_PREFIX, endpoint);
  if (query) {
    const params = Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(
        ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`
      );
    if (params.length) {
      url += '?' + params.join('&');
    }
  }
  return url;
}

/** Call the API; resolves to the parsed JSON body (undefined for 204). */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit & { query?: Query; json?: unknown } = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const { query, json, ...rest } = init;
  if (json !== undefined) {
    rest.body = JSON.stringify(json);
    rest.headers = { 'Content-Type': 'application/json', ...(rest.headers ?? {}) };
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      apiUrl(endpoint, query, settings),
      rest,
      settings
    );
  } catch (error) {
    throw new EsapApiError(
      `The Jupyter server could not be reached: ${(error as Error).message}`,
      0,
      'network'
    );
  }
  const text = await response.text();
  let data: any = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    const error = new EsapApiError(
      data?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      data?.reason ?? '',
      data?.service
    );
    noticeLogin(error); // an expired login: "Log in again" (common/login.ts)
    throw error;
  }
  return data as T;
}

// ---- discovery -----------------------------------------------------------------------------
export interface IArchive {
  id: string;
  title: string;
  description: string;
  type: string;
  capabilities: string[];
  services: Record<string, string>;
  reachable: boolean | null;
  /** What the service says of itself, e.g. default_maxrec, hard_maxrec. */
  details?: Record<string, unknown>;
}

export interface IColumn {
  name: string;
  datatype?: string | null;
  arraysize?: string | null;
  unit?: string | null;
  ucd?: string | null;
  description?: string | null;
}

export type QueryStatus =
  | 'queued'
  | 'running'
  | 'completed'
  | 'error'
  | 'cancelled';

export interface IQueryInfo {
  id: string;
  archive: string;
  kind: string;
  request: Record<string, unknown>;
  status: QueryStatus;
  row_count: number | null;
  overflow: boolean;
  columns: IColumn[];
  access_url_column: string | null;
  message: string | null;
  reason: string | null;
  created: string;
  updated: string;
  /** the UWS phase of an async TAP job (QUEUED, EXECUTING, COMPLETED, ...), none for sync queries */
  phase?: string | null;
  /** seconds since the query started (to its end once final) */
  elapsed?: number | null;
}

export interface IRowsPage {
  offset: number;
  limit: number;
  total: number;
  sort: string | null;
  order: 'asc' | 'desc';
  rows: Record<string, unknown>[];
}

export type QueryRequest =
  | { kind: 'cone'; ra?: number; dec?: number; target?: string; radius: number; maxrec?: number }
  | { kind: 'sia'; ra?: number; dec?: number; target?: string; size: number; maxrec?: number }
  | { kind: 'ssa'; ra?: number; dec?: number; target?: string; size: number; maxrec?: number }
  | { kind: 'tap'; query: string; async?: boolean; maxrec?: number }
  | { kind: 'did'; scope: string; name: string; type?: string; filters?: Record<string, unknown> };

export const archivesApi = {
  list: (check = true) =>
    requestAPI<{ archives: IArchive[] }>('archives', { query: { check } }).then(
      r => r.archives
    ),
  start: (archive: string, request: QueryRequest, wait = 0) =>
    requestAPI<IQueryInfo>(`archives/${encodeURIComponent(archive)}/queries`, {
      method: 'POST',
      json: request,
      query: { wait }
    }),
  queries: () =>
    requestAPI<{ queries: IQueryInfo[] }>('queries').then(r => r.queries),
  get: (qid: string) => requestAPI<IQueryInfo>(`queries/${qid}`),
  rows: (
    qid: string,
    offset: number,
    limit: number,
    sort?: string | null,
    order: 'asc' | 'desc' = 'asc'
  ) =>
    requestAPI<IRowsPage>(`queries/${qid}/rows`, {
      query: { offset, limit, sort: sort ?? undefined, order }
    }),
  cancel: (qid: string) =>
    requestAPI<void>(`queries/${qid}`, { method: 'DELETE' })
};

export const metaApi = {
  version: () => requestAPI<{ version: string }>('version').then(r => r.version)
};
