/**
 * The typed client of the esap-lab REST API (prefix /esap-lab/api under the server's base URL).
 * Every call goes through `EsapClient.request`, which turns an error body {message, reason} into
 * an `EsapApiError` whose message is ready to show to the user.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './schema';

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

/** What a request takes besides fetch's own options: query parameters and a JSON body. */
export type RequestOptions = RequestInit & { query?: Query; json?: unknown };

/** The generated types of the REST API's bodies and records (src/schema.d.ts, from openapi.json). */
export type Schemas = components['schemas'];

/**
 * The one client of the esap-lab REST API, bound to the Jupyter server's connection settings
 * (the plugins pass `app.serviceManager.serverSettings`). The areas' API objects
 * (`basketApi`, `stagingApi`, ...) are built on a client; the ones exported by each area use
 * the default client, which the sidebar plugin binds to the application's settings at start.
 */
export class EsapClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this._settings = serverSettings ?? null;
  }

  /** The server connection settings (made from the page's when none were given). */
  get serverSettings(): ServerConnection.ISettings {
    if (!this._settings) {
      this._settings = ServerConnection.makeSettings();
    }
    return this._settings;
  }

  set serverSettings(settings: ServerConnection.ISettings) {
    this._settings = settings;
  }

  /** The full URL of an endpoint (relative to the API prefix) with encoded query parameters. */
  url(endpoint: string, query?: Query): string {
    let url = URLExt.join(this.serverSettings.baseUrl, API_PREFIX, endpoint);
    if (query) {
      const params = Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
      if (params.length) {
        url += '?' + params.join('&');
      }
    }
    return url;
  }

  /** Call the API; resolves to the parsed JSON body (undefined for 204). */
  async request<T>(endpoint: string, init: RequestOptions = {}): Promise<T> {
    const settings = this.serverSettings;
    const { query, json, ...rest } = init;
    if (json !== undefined) {
      rest.body = JSON.stringify(json);
      rest.headers = { 'Content-Type': 'application/json', ...(rest.headers ?? {}) };
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(this.url(endpoint, query), rest, settings);
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
      for (const listener of errorListeners) {
        listener(error); // e.g. an expired login: "Log in again" (common/login.ts, bound in index.ts)
      }
      throw error;
    }
    return data as T;
  }

  /** Discovery: archives and their queries. */
  readonly archives = archivesApiOf(this);

  /** The server extension itself. */
  readonly meta = metaApiOf(this);

  private _settings: ServerConnection.ISettings | null;
}

/** Who is told of every error answer of the server (the plugins add theirs at start). */
const errorListeners = new Set<(error: EsapApiError) => void>();

/**
 * Be told of every error answer of any client (e.g. to offer "Log in again" once a hub login
 * expired); returns a function that stops it.
 */
export function onApiError(listener: (error: EsapApiError) => void): () => void {
  errorListeners.add(listener);
  return () => errorListeners.delete(listener);
}

/** The client the areas' exported API objects use (see `EsapClient`). */
export const esapClient = new EsapClient();

/** Bind the default client to the application's server settings (the sidebar plugin does). */
export function useServerSettings(settings: ServerConnection.ISettings): void {
  esapClient.serverSettings = settings;
}

/** The client for `settings`, or the default one. */
function clientFor(settings?: ServerConnection.ISettings): EsapClient {
  return settings ? new EsapClient(settings) : esapClient;
}

/** The URL of an endpoint (the default client's, or for the given settings). */
export function apiUrl(endpoint: string, query?: Query, settings?: ServerConnection.ISettings): string {
  return clientFor(settings).url(endpoint, query);
}

/** Call the API with the default client (or with the given settings). */
export function requestAPI<T>(
  endpoint: string,
  init: RequestOptions = {},
  settings?: ServerConnection.ISettings
): Promise<T> {
  return clientFor(settings).request<T>(endpoint, init);
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
  /** the rows' numbers in stored order (from 0); given when sorted */
  index?: number[] | null;
}

export type QueryRequest =
  | { kind: 'cone'; ra?: number; dec?: number; target?: string; radius: number; maxrec?: number }
  | { kind: 'sia'; ra?: number; dec?: number; target?: string; size: number; maxrec?: number }
  | { kind: 'ssa'; ra?: number; dec?: number; target?: string; size: number; maxrec?: number }
  | { kind: 'tap'; query: string; async?: boolean; maxrec?: number }
  | { kind: 'did'; scope: string; name: string; type?: string; filters?: Record<string, unknown> };

export function archivesApiOf(c: EsapClient) {
  return {
    list: (check = true) =>
      c.request<{ archives: IArchive[] }>('archives', { query: { check } }).then(r => r.archives),
    start: (archive: string, request: QueryRequest, wait = 0) =>
      c.request<IQueryInfo>(`archives/${encodeURIComponent(archive)}/queries`, {
        method: 'POST',
        json: request,
        query: { wait }
      }),
    queries: () => c.request<{ queries: IQueryInfo[] }>('queries').then(r => r.queries),
    get: (qid: string) => c.request<IQueryInfo>(`queries/${qid}`),
    rows: (qid: string, offset: number, limit: number, sort?: string | null, order: 'asc' | 'desc' = 'asc') =>
      c.request<IRowsPage>(`queries/${qid}/rows`, {
        query: { offset, limit, sort: sort ?? undefined, order }
      }),
    cancel: (qid: string) => c.request<void>(`queries/${qid}`, { method: 'DELETE' })
  };
}

export function metaApiOf(c: EsapClient) {
  return {
    version: () => c.request<Schemas['VersionInfo']>('version').then(r => r.version)
  };
}

export const archivesApi = archivesApiOf(esapClient);

export const metaApi = metaApiOf(esapClient);
