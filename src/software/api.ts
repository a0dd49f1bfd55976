/**
 * The software part of the REST API (esap_lab/software/models.py): OSSR records with their
 * codemeta metadata, suggestions for the basket, "open here" and "run with my basket".
 */
import { requestAPI } from '../api';

export type CodemetaStatus = 'ok' | 'partial' | 'invalid' | 'missing' | 'unavailable';

export interface ISoftwareRecord {
  id: string;
  ossr: string;
  title: string;
  name: string;
  description: string;
  version: string | null;
  license: string | null;
  programming_language: string[];
  runtime_platform: string[];
  keywords: string[];
  authors: string[];
  doi: string | null;
  url: string | null;
  published: string | null;
  resource_type: string | null;
  files: { key: string; size: number | null; checksum: string | null; url: string }[];
  codemeta_status: CodemetaStatus;
  codemeta_problems: string[];
  codemeta_fields: string[];
}

export interface ISearchPage {
  q: string;
  page: number;
  size: number;
  total: number;
  next_page: number | null;
  community: string;
  records: ISoftwareRecord[];
}

export interface ISuggestion {
  record: ISoftwareRecord;
  score: number;
  matches: string[];
  why: string;
}

export interface IOpenResult {
  id: string;
  path: string;
  open: string | null;
  readme: string | null;
  notebooks: string[];
  files: number;
  bytes: number;
  reused: boolean;
  skipped: string[];
}

/** "Open here" as a long operation (queued -> running -> completed | error | cancelled). */
export interface IOpenOperation {
  id: string;
  record_id: string;
  ossr: string;
  title: string;
  status: 'queued' | 'running' | 'completed' | 'error' | 'cancelled';
  bytes_done: number;
  bytes_total: number | null;
  /** 0..1 */
  progress: number;
  result: IOpenResult | null;
  message: string | null;
  reason: string | null;
  service: string | null;
}

const r = (id: string) => `software/${encodeURIComponent(id)}`;
const op = (oid: string) => `software/opens/${encodeURIComponent(oid)}`;

// GET /software and /software/suggestions refuse unknown query parameters, and the browser's
// default (no-store) adds a numeric cache-buster parameter: revalidate instead
const fresh: RequestInit = { cache: 'no-cache' };

export const softwareApi = {
  search: (q: string, page = 1, size = 10) => requestAPI<ISearchPage>('software', { ...fresh, query: { q, page, size } }),
  suggestions: (limit = 5) =>
    requestAPI<{ suggestions: ISuggestion[] }>('software/suggestions', { ...fresh, query: { limit } }).then(
      x => x.suggestions
    ),
  open: (id: string) => requestAPI<IOpenResult>(`${r(id)}/open`, { method: 'POST', json: {} }),
  startOpen: (id: string) => requestAPI<IOpenOperation>(`${r(id)}/opens`, { method: 'POST', json: {} }),
  getOpen: (oid: string) => requestAPI<IOpenOperation>(op(oid), fresh),
  /** Cancel while it runs (-> its new state); forget once ended (-> undefined). */
  cancelOpen: (oid: string) => requestAPI<IOpenOperation | undefined>(op(oid), { method: 'DELETE' }),
  run: (id: string, backend: string, notebook?: string) =>
    requestAPI<{ id: string; name?: string; status: string }>(`${r(id)}/run`, {
      method: 'POST',
      json: { backend, ...(notebook ? { notebook } : {}) }
    })
};

/** The basket item of a record (kind `software`, esap_lab/basket/models.py). */
export function softwareItem(rec: ISoftwareRecord): Record<string, unknown> {
  return {
    kind: 'software',
    record_id: rec.id,
    ossr: rec.ossr,
    name: rec.name,
    software_version: rec.version ?? undefined,
    doi: rec.doi ?? undefined,
    url: rec.url ?? undefined,
    keywords: rec.keywords,
    title: rec.version ? `${rec.name} ${rec.version}` : rec.name,
    source: 'OSSR'
  };
}
