/**
 * The contents of a Rucio DID in the main area: its files with sizes, checksums and where each
 * has replicas in which state, with buttons to stage the whole DID.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, downloadIcon, refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { ErrorAlert } from '../common/components';
import { formatBytes, IDidContents, IRucioInstance, stagingApi } from './api';

const PAGE = 500;

export class DidContentsView extends ReactWidget {
  constructor(
    readonly instance: string,
    readonly did: string,
    private _stage: (mode: 'download' | 'replica') => void,
    private _info: () => IRucioInstance | undefined,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-EsapStaging-contents');
    this.title.label = did;
    this.title.caption = _trans.__('Files of %1 (Rucio instance %2)', did, instance);
    void this.load(0);
  }

  async load(offset: number): Promise<void> {
    this._loading = true;
    this.update();
    try {
      this._contents = await stagingApi.contents(this.instance, this.did, offset, PAGE);
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._loading = false;
    this.update();
  }

  render(): JSX.Element {
    const t = this._trans;
    const c = this._contents;
    const info = this._info();
    const rses = c ? [...new Set(c.files.flatMap(f => Object.keys(f.replicas)))].sort() : [];
    return (
      <div className="jp-EsapStaging-contentsBody">
        <div className="jp-EsapSection-actions" role="toolbar" aria-label={t.__('Dataset actions')}>
          <Button small aria-label={t.__('Download %1 into this session', this.did)} onClick={() => this._stage('download')}>
            <downloadIcon.react tag="span" /> {t.__('Download')}
          </Button>
          {info?.replica_mode && (
            <Button
              small
              aria-label={t.__('Replicate %1 to %2', this.did, info.destination_rse ?? '')}
              onClick={() => this._stage('replica')}
            >
              {t.__('Replicate to %1', info.destination_rse ?? '')}
            </Button>
          )}
          <Button minimal small aria-label={t.__('Reload the file list')} onClick={() => void this.load(c?.offset ?? 0)}>
            <refreshIcon.react tag="span" />
          </Button>
          {c && (
            <span className="jp-EsapSection-hint" aria-live="polite">
              {t.__('%1 · %2 files · %3', c.did_type, c.total, formatBytes(c.bytes))}
            </span>
          )}
        </div>
        <ErrorAlert message={this._error} />
        {this._loading && !c && <div className="jp-EsapSection-hint">{t.__('Reading the file list…')}</div>}
        {c && (
          <table className="jp-EsapStaging-table" aria-label={t.__('Files of %1', this.did)}>
            <thead>
              <tr>
                <th scope="col">{t.__('File')}</th>
                <th scope="col">{t.__('Size')}</th>
                <th scope="col">{t.__('adler32')}</th>
                {rses.map(r => (
                  <th scope="col" key={r}>
                    {r}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {c.files.map(f => (
                <tr key={f.did} data-available={f.available}>
                  <td className="jp-EsapStaging-fileName">{f.did}</td>
                  <td>{formatBytes(f.bytes)}</td>
                  <td className="jp-EsapStaging-fileName">{f.adler32 ?? ''}</td>
                  {rses.map(r => (
                    <td key={r}>
                      {f.replicas[r] && (
                        <span
                          className="jp-EsapChip"
                          data-status={
                            f.replicas[r] === 'AVAILABLE' ? 'completed' : f.replicas[r] === 'UNAVAILABLE' ? 'error' : 'running'
                          }
                        >
                          {f.replicas[r]}
                        </span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {c && c.total > PAGE && (
          <div className="jp-EsapSection-actions">
            <Button small disabled={c.offset === 0} onClick={() => void this.load(Math.max(0, c.offset - PAGE))}>
              {t.__('Previous')}
            </Button>
            <span className="jp-EsapSection-hint">
              {t.__('%1–%2 of %3', c.offset + 1, Math.min(c.total, c.offset + PAGE), c.total)}
            </span>
            <Button small disabled={c.offset + PAGE >= c.total} onClick={() => void this.load(c.offset + PAGE)}>
              {t.__('Next')}
            </Button>
          </div>
        )}
      </div>
    );
  }

  private _contents: IDidContents | null = null;
  private _error = '';
  private _loading = false;
}
