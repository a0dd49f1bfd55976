/**
 * The "my tables" part of the REST API (esap_lab/tables/models.py): tables grouped by project,
 * SQL and crossmatch results (kept a while, savable), rows paged as a query result's are.
 */
import { apiUrl, IColumn, IQueryInfo, requestAPI } from '../api';

export type TableFormat = 'csv' | 'fits' | 'votable' | 'ecsv' | 'parquet';
export const FORMATS: TableFormat[] = ['votable', 'fits', 'csv', 'ecsv', 'parquet'];

export interface ITableInfo {
  id: string;
  name: string;
  project: string;
  kind: 'table' | 'result';
  description: string;
  row_count: number;
  bytes: number;
  overflow: boolean;
  columns: IColumn[];
  provenance: { kind: string; [key: string]: unknown };
  created: string;
  updated: string;
}

export type TableSource =
  | { kind: 'query'; query_id: string }
  | { kind: 'file'; path: string; format?: TableFormat }
  | { kind: 'result'; id: string }
  | { kind: 'url'; url: string; format?: TableFormat };

export interface ICrossmatch {
  a: string;
  b: string;
  radius: number;
  find: 'best' | 'best1' | 'best2' | 'all';
}

const t = (id: string) => `tables/${encodeURIComponent(id)}`;

export const tablesApi = {
  list: () => requestAPI<{ tables: ITableInfo[] }>('tables').then(r => r.tables),
  get: (id: string) => requestAPI<ITableInfo>(t(id)),
  create: (name: string, source: TableSource, project = 'default') =>
    requestAPI<ITableInfo>('tables', { method: 'POST', json: { name, project, source } }),
  patch: (id: string, changes: { name?: string; description?: string; project?: string }) =>
    requestAPI<ITableInfo>(t(id), { method: 'PATCH', json: changes }),
  remove: (id: string) => requestAPI<void>(t(id), { method: 'DELETE' }),
  sql: (sql: string) => requestAPI<ITableInfo>('tables/sql', { method: 'POST', json: { sql } }),
  crossmatch: (body: ICrossmatch) =>
    requestAPI<ITableInfo>('tables/crossmatch', { method: 'POST', json: body }),
  exportUrl: (id: string, format: TableFormat) => apiUrl(`${t(id)}/export`, { format })
};

/**
 * A table as the result grid sees a query: the same columns and row count, and the endpoint its
 * pages come from (GET /tables/{t}/rows has the contract of /queries/{q}/rows).
 */
export function asQuery(info: ITableInfo): IQueryInfo & { rows_endpoint: string } {
  return {
    id: info.id,
    archive: info.kind === 'result' ? 'SQL' : info.project,
    kind: 'table',
    request: {},
    status: 'completed',
    row_count: info.row_count,
    overflow: info.overflow,
    columns: info.columns,
    access_url_column: null,
    message: null,
    reason: null,
    created: info.created,
    updated: info.updated,
    rows_endpoint: `${t(info.id)}/rows`
  };
}

/**
 * A readable table name from a result's title: "cone 155, 5 r=0.2°" -> "cone_155_5_r0_2",
 * words kept whole up to 40 characters, and not one of `taken` (a number added).
 */
export function suggestTableName(title: string, taken: readonly string[] = []): string {
  const words = title
    .toLowerCase()
    .replace(/(\w)=(?=[\d.-])/g, '$1')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  while (words.length && !/^[a-z]/.test(words[0])) {
    words.shift();
  }
  let base = '';
  for (const w of words) {
    if (base && base.length + 1 + w.length > 40) {
      break;
    }
    base = base ? `${base}_${w}` : w.slice(0, 40);
  }
  base = base || 'result';
  const lower = new Set(taken.map(x => x.toLowerCase()));
  let name = base;
  for (let i = 2; lower.has(name); i++) {
    name = `${base}_${i}`;
  }
  return name;
}
