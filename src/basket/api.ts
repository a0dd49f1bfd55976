/**
 * The basket part of the REST API (see esap_lab/basket/models.py for the item fields).
 */
import { EsapClient, esapClient } from '../api';
import { IBasketItemInput } from '../tokens';

export type BasketKind = 'record' | 'query' | 'did' | 'file';
export const KINDS: BasketKind[] = ['record', 'query', 'did', 'file'];

export interface IBasketItem {
  id: string;
  kind: BasketKind;
  title: string;
  source: string;
  notes: string;
  tags: string[];
  metadata: Record<string, unknown>;
  added: string;
  updated: string;
  version: number;
  // record
  archive?: string;
  query_id?: string | null;
  rows?: Record<string, unknown>[];
  access_url?: string | null;
  // query
  request?: Record<string, unknown>;
  row_count?: number | null;
  // did
  scope?: string;
  name?: string | null;
  did_type?: string;
  // file
  url?: string;
  size?: number | null;
  [key: string]: unknown;
}

export interface IBasketSummary {
  revision: number;
  count: number;
  counts: Partial<Record<BasketKind, number>>;
}

export interface IBasketPage {
  offset: number;
  limit: number;
  total: number;
  revision: number;
  items: IBasketItem[];
}

export interface IAddResult {
  items: IBasketItem[];
  added: number;
  duplicates: number;
  revision: number;
}

export interface IImportResult {
  added: number;
  duplicates: number;
  removed: number;
  total: number;
  revision: number;
}

export function basketApiOf(c: EsapClient) {
  return {
    summary: () => c.request<IBasketSummary>('basket'),
    list: (offset = 0, limit = 10000, kind?: BasketKind) =>
      c.request<IBasketPage>('basket/items', { query: { offset, limit, kind } }),
    add: (items: IBasketItemInput[]) =>
      c.request<IAddResult>('basket/items', { method: 'POST', json: items }),
    patch: (
      id: string,
      version: number,
      changes: { title?: string; notes?: string; tags?: string[] }
    ) =>
      c.request<IBasketItem>(`basket/items/${encodeURIComponent(id)}`, {
        method: 'PATCH',
        json: { version, ...changes }
      }),
    remove: (id: string) =>
      c.request<void>(`basket/items/${encodeURIComponent(id)}`, {
        method: 'DELETE'
      }),
    clear: () =>
      c.request<{ removed: number; revision: number }>('basket/items', {
        method: 'DELETE'
      }),
    exportFile: () => c.request<Record<string, unknown>>('basket/export'),
    importFile: (doc: unknown, mode: 'merge' | 'replace' = 'merge') =>
      c.request<IImportResult>('basket/import', {
        method: 'POST',
        json: doc,
        query: { mode }
      })
  };
}

export const basketApi = basketApiOf(esapClient);
