/**
 * The schema browser's and the workbench's part of the REST API: an archive's tables (lazy,
 * filtered, paged), one table's columns, its TAP examples (esap_lab/archives/schema.py).
 * Queries start and are read through `archivesApi` (src/api.ts).
 */
import { requestAPI } from '../api';
import type { components } from '../schema';

type S = components['schemas'];
export type ITableList = S['esap_lab__archives__models__TableList'];
export type ISchemaEntry = S['SchemaEntry'];
export type ITableEntry = S['TableEntry'];
export type ITableDetail = S['TableDetail'];
export type ITableColumn = S['TableColumn'];
export type IExample = S['Example'];
export type IErrorPosition = S['ErrorPosition'];

const a = (archive: string) => `archives/${encodeURIComponent(archive)}`;

export const workbenchApi = {
  /** Without schema: the schemas (with q: and the matching tables); with it: its tables. */
  tables: (archive: string, p: { schema?: string; q?: string; offset?: number; limit?: number } = {}) =>
    requestAPI<ITableList>(`${a(archive)}/tables`, {
      query: { schema: p.schema, q: p.q || undefined, offset: p.offset ?? 0, limit: p.limit ?? 200 }
    }),
  table: (archive: string, name: string) =>
    requestAPI<ITableDetail>(`${a(archive)}/tables/${encodeURIComponent(name)}`),
  examples: (archive: string) =>
    requestAPI<S['ExampleList']>(`${a(archive)}/examples`).then(r => r.examples)
};
