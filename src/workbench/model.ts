/**
 * What the workbench knows of one archive's TAP service, fetched lazily and kept: its schema
 * names, the tables asked for (by schema or filter), each table's columns once asked.
 * The same object feeds the schema browser and the editor's completion.
 */
import { EsapApiError } from '../api';
import { ICompletionColumn, ICompletionTable, ISchemaSource } from './editor';
import { ITableDetail, ITableList, workbenchApi } from './api';

/** Schemas listed at a time (VizieR has one per catalogue: tens of thousands). */
export const SCHEMA_PAGE = 500;

export class ArchiveSchema implements ISchemaSource {
  constructor(readonly archive: string) {}

  /** The first page of schemas (one request, cached); a VizieR-size service has more: `schemaPage`. */
  list(): Promise<ITableList> {
    if (!this._top) {
      this._top = workbenchApi.tables(this.archive, { limit: SCHEMA_PAGE });
      this._top.catch(() => (this._top = null));
    }
    return this._top;
  }

  /** Later pages of schemas (offset > 0). */
  schemaPage(offset: number): Promise<ITableList> {
    return offset === 0 ? this.list() : workbenchApi.tables(this.archive, { offset, limit: SCHEMA_PAGE });
  }

  async schemas(): Promise<string[]> {
    return (await this.list()).schemas.map(s => s.name);
  }

  /** One page of tables: of a schema, or matching q (any schema); cached by its arguments. */
  page(schema: string | null, q: string, offset = 0, limit = 200): Promise<ITableList> {
    const key = `${schema ?? ''}\0${q.toLowerCase()}\0${offset}\0${limit}`;
    let hit = this._pages.get(key);
    if (!hit) {
      hit = workbenchApi.tables(this.archive, { schema: schema ?? undefined, q, offset, limit });
      this._pages.set(key, hit);
      hit.catch(() => this._pages.delete(key));
    }
    return hit;
  }

  async tables(schema: string | null, q: string): Promise<ICompletionTable[]> {
    if (schema !== null && !(await this.schemas()).some(s => s.toLowerCase() === schema.toLowerCase())) {
      return [];
    }
    return (await this.page(schema, q, 0, 100)).tables;
  }

  /** One table with its columns (null: the archive has no such table). */
  detail(table: string): Promise<ITableDetail | null> {
    const key = table.toLowerCase();
    let hit = this._details.get(key);
    if (!hit) {
      hit = workbenchApi.table(this.archive, table).catch(e => {
        if (e instanceof EsapApiError && e.status === 404) {
          return null;
        }
        this._details.delete(key); // a failure is asked again next time
        throw e;
      });
      this._details.set(key, hit);
    }
    return hit;
  }

  async columns(table: string): Promise<ICompletionColumn[] | null> {
    return (await this.detail(table))?.columns ?? null;
  }

  private _top: Promise<ITableList> | null = null;
  private _pages = new Map<string, Promise<ITableList>>();
  private _details = new Map<string, Promise<ITableDetail | null>>();
}
