/**
 * The calls of export, plots and previews (esap_lab/handlers/previews.py): binned plot data of a
 * whole result or table, the rows in a region, exports (download or saved in the workspace), and
 * previews rendered on the server (a PNG image, or a spectrum as JSON).
 */
import { ServerConnection } from '@jupyterlab/services';

import { apiUrl, EsapApiError, esapClient, Query, requestAPI } from '../api';
import type { components } from '../schema';
import { rowsParam } from './axes';

export { axisValue, binOf, cmdAxes, numericColumns, rowsParam, targetOf } from './axes';

export type PlotKind = 'scatter' | 'histogram' | 'density';
export type ExportFormat = 'votable' | 'fits' | 'csv' | 'ecsv' | 'parquet';
export type IPlotData = components['schemas']['PlotData'];
export type ISelection = components['schemas']['Selection'];
export type ISavedFile = components['schemas']['SavedFile'];
export type ISpectrum = components['schemas']['Spectrum'];

export const FORMATS: { format: ExportFormat; label: string; suffix: string }[] = [
  { format: 'votable', label: 'VOTable (binary2)', suffix: '.vot' },
  { format: 'fits', label: 'FITS', suffix: '.fits' },
  { format: 'csv', label: 'CSV', suffix: '.csv' },
  { format: 'ecsv', label: 'ECSV', suffix: '.ecsv' },
  { format: 'parquet', label: 'Parquet', suffix: '.parquet' }
];

export interface IPlotRequest {
  x: string;
  y?: string | null;
  kind: PlotKind;
  bins?: number;
  max_points?: number;
}

export interface IRegion {
  x: string;
  y?: string | null;
  xmin: number;
  xmax: number;
  ymin?: number | null;
  ymax?: number | null;
  limit?: number;
}

/** A preview's source: a file under the server root, a result row's data link, or a basket record's. */
export type PreviewSource = { path: string } | { query: string; row: number } | { item: string };

export const plotsApi = {
  plot: (target: string, p: IPlotRequest) =>
    requestAPI<IPlotData>(`${target}/plot`, { query: { ...p } as Query }),
  select: (target: string, region: IRegion) =>
    requestAPI<ISelection>(`${target}/select`, { method: 'POST', json: region }),
  /** The URL a download of a result (or of some rows) comes from; `null` when the rows do not fit a URL. */
  exportUrl: (target: string, format: ExportFormat, rows?: number[]): string | null => {
    const list = rowsParam(rows);
    return list === null ? null : apiUrl(`${target}/export`, { format, rows: list });
  },
  save: (qid: string, body: { format: ExportFormat; path: string; rows?: number[]; overwrite?: boolean }) =>
    requestAPI<ISavedFile>(`queries/${encodeURIComponent(qid)}/export`, { method: 'POST', json: body }),
  basketUrl: (format: ExportFormat, queryId?: string) =>
    apiUrl('basket/export/table', { format, query_id: queryId }),
  saveBasket: (body: { format: ExportFormat; path: string; query_id?: string; overwrite?: boolean }) =>
    requestAPI<ISavedFile>('basket/export/table', { method: 'POST', json: body }),
  basketItem: (id: string) =>
    requestAPI<{ id: string; kind: string; title: string; query_id?: string | null; access_url?: string | null }>(
      `basket/items/${encodeURIComponent(id)}`
    ),
  /** A preview: the PNG as a blob, or a spectrum. */
  preview: async (
    source: PreviewSource,
    options: { stretch?: 'zscale' | 'asinh'; size?: number; axes?: boolean; theme?: 'light' | 'dark' } = {}
  ): Promise<{ kind: 'image'; blob: Blob } | ISpectrum> => {
    const settings = esapClient.serverSettings;
    const url = esapClient.url('previews', { ...(source as Query), ...options });
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, {}, settings);
    } catch (error) {
      throw new EsapApiError(`The Jupyter server could not be reached: ${(error as Error).message}`, 0, 'network');
    }
    if ((response.headers.get('Content-Type') ?? '').startsWith('image/')) {
      return { kind: 'image', blob: await response.blob() };
    }
    const text = await response.text();
    let data: any;
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
    if (!response.ok) {
      throw new EsapApiError(data?.message ?? `${response.status}`, response.status, data?.reason ?? '', data?.service);
    }
    return data as ISpectrum;
  }
};
