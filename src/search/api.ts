/**
 * The Search step's part of the REST API: the IVOA registry, the archives a user adds, and
 * one search over many archives (POST /searches). Types from the generated schema.
 */
import { Signal } from '@lumino/signaling';

import { EsapClient, esapClient, IArchive, IQueryInfo, Schemas } from '../api';

/** An archive as GET /archives lists it (origin: the administrator's "config" or the user's own). */
export type IArchiveInfo = IArchive & { origin?: 'config' | 'user'; ivoid?: string | null };
export type IRegistryResource = Schemas['RegistryResource'];
export type IRegistryResults = Schemas['RegistryResults'];
export type IArchiveBody = Partial<Schemas['ArchiveBody']> & { title: string };
export type ISearchInfo = Schemas['SearchInfo'];
export type ISearchEntry = Schemas['SearchEntry'];
export type SearchRequest = Schemas['SearchBody']['request'];

export interface IRegistryQuery {
  keywords?: string;
  servicetype?: string;
  waveband?: string;
  ucd?: string;
  maxrec?: number;
}

/** Service types and wavebands the registry search offers (the server's lists). */
export const SERVICE_TYPES = ['tap', 'scs', 'sia', 'sia2', 'ssa'] as const;
export const WAVEBANDS = [
  'radio',
  'millimeter',
  'infrared',
  'optical',
  'uv',
  'euv',
  'x-ray',
  'gamma-ray',
  'photon',
  'neutrino',
  'gravitational-wave',
  'particle'
] as const;
export const DATAPRODUCT_TYPES = [
  'image',
  'cube',
  'spectrum',
  'sed',
  'timeseries',
  'visibility',
  'event',
  'measurements'
] as const;

export function searchApiOf(c: EsapClient) {
  return {
    registry: (q: IRegistryQuery) =>
      c.request<IRegistryResults>('registry', { query: { ...q } }),
    addArchive: (body: IArchiveBody) =>
      c.request<IArchiveInfo>('archives', { method: 'POST', json: body }),
    removeArchive: (id: string) =>
      c.request<void>(`archives/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    start: (request: SearchRequest, archives: string[], wait = 0) =>
      c.request<ISearchInfo>('searches', { method: 'POST', json: { request, archives }, query: { wait } }),
    /** With `wait`: answered once one of the archives still running has ended (or after `wait` s). */
    get: (sid: string, wait = 0) =>
      c.request<ISearchInfo>(`searches/${encodeURIComponent(sid)}`, { query: wait ? { wait } : {} }),
    /** The archives' results as one stored query (an `archive` column first); the same one when asked again. */
    merge: (sid: string) =>
      c.request<IQueryInfo>(`searches/${encodeURIComponent(sid)}/merge`, { method: 'POST' })
  };
}

export const searchApi = searchApiOf(esapClient);

/** Emitted when the user adds or removes an archive (the Search form lists them again). */
export const archivesChanged = new Signal<object, string>({});
