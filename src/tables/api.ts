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
