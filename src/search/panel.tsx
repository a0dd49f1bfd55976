/**
 * The Search section of the ESAP sidebar: archive picker, Cone / Images / ADQL (and Rucio DID)
 * forms with validation, Run and Cancel, progress while a query runs, and the recent queries.
 */
import { Dialog, Notification, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';

import { archivesApi, EsapApiError, IArchive, IQueryInfo, QueryRequest } from '../api';
import { isFinal } from '../common/format';
import { stagingApi } from '../staging/api';

/** Why a DID search found nothing, and what to try: patterns, and the scopes there are. */
async function noDidHint(archive: IArchive, request: Record<string, any>, t: TranslationBundle): Promise<string> {
  const parts = [
    t.__('No DID matched %1:%2.', request.scope, request.name),
    t.__('Names are patterns: * matches anything (e.g. "*" or "demo*"), and the type filter counts ("all" finds every type).')
  ];
  const found = await scopesOf(archive);
  if (found) {
    parts.push(t.__('Scopes on %1: %2.', found.instance, found.scopes.join(', ') || t.__('none')));
  }
  return parts.join(' ');
}

/** The scopes of the Rucio instance a DID archive searches (null when they cannot be read). */
async function scopesOf(archive: IArchive): Promise<{ instance: string; scopes: string[] } | null> {
  try {
    const host = (u: string) => u.replace(/\/+$/, '');
    const instances = await stagingApi.instances();
    const inst =
      instances.find(i => host(i.rucio_host) === host(String(archive.services.did ?? ''))) ??
      (instances.length === 1 ? instances[0] : undefined);
    return inst ? { instance: inst.title || inst.name, scopes: await stagingApi.scopes(inst.name) } : null;
  } catch {
    return null;
  }
}

export type Mode = 'cone' | 'sia' | 'tap' | 'did';

export interface ISearchOptions {
  trans: TranslationBundle;
  /** Open a completed query's result grid (the archive's title goes into its tooltip). */
  open: (q: IQueryInfo, archiveTitle: string) => void;
  settings: () => { defaultArchive: string; pollInterval: number };
}


export function describeQuery(q: { kind: string; request: Record<string, any> }): string {
  const r = q.request;
  const where = r.target ?? (r.ra !== undefined ? `${r.ra}, ${r.dec}` : '');
  switch (q.kind) {
    case 'cone':
      return `cone ${where} r=${r.radius}°`;
    case 'sia':
      return `images ${where} ${r.size}°`;
    case 'ssa':
      return `spectra ${where}`;
    case 'did':
      return `DIDs ${r.scope}:${r.name}`;
    default:
      return String(r.query ?? '').replace(/\s+/g, ' ').slice(0, 60);
  }
}

/** "EXECUTING · 12 s": an async query's UWS phase and the seconds it took (or has taken). */
export function phaseText(q: { phase?: string | null; elapsed?: number | null }): string {
  const secs =
    typeof q.elapsed === 'number' ? `${q.elapsed < 10 ? q.elapsed.toFixed(1) : Math.round(q.elapsed)} s` : '';
  return [q.phase ?? '', secs].filter(Boolean).join(' · ');
}

function parseNumber(v: string): number | undefined {
  if (v.trim() === '') {
    return undefined;
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

function SearchForm(props: ISearchOptions): JSX.Element {
  const { trans: t } = props;
  const [archives, setArchives] = useState<IArchive[]>([]);
  const [archiveId, setArchiveId] = useState('');
  const [mode, setMode] = useState<Mode>('cone');
  const [pos, setPos] = useState({ ra: '155.0', dec: '5.0', target: '' });
  const [radius, setRadius] = useState('0.2');
  const [size, setSize] = useState('0.2');
  const [adql, setAdql] = useState('');
  const [asyncTap, setAsyncTap] = useState(false);
  const [maxrec, setMaxrec] = useState('');
  const [did, setDid] = useState({ scope: '', name: '*', type: 'collection' });
  const [running, setRunning] = useState<IQueryInfo | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [error, setError] = useState('');
  const [hint, setHint] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [recent, setRecent] = useState<IQueryInfo[]>([]);
  const cancelled = useRef(false);

  useEffect(() => {
    archivesApi
      .list(true)
      .then(list => {
        setArchives(list);
        const preferred = props.settings().defaultArchive;
        const first =
          list.find(a => a.id === preferred) ??
          list.find(a => a.reachable) ??
          list[0];
        if (first) {
          setArchiveId(first.id);
        }
      })
      .catch(e => Notification.error(t.__('Could not list archives: %1', e.message)));
    archivesApi
      .queries()
      .then(setRecent)
      .catch(() => undefined);
  }, []);

  const archive = archives.find(a => a.id === archiveId);
  const caps = archive?.capabilities ?? [];
  const modes: [Mode, string][] = (
    [
      ['cone', t.__('Cone')],
      ['sia', t.__('Images')],
      ['tap', t.__('ADQL')],
      ['did', t.__('DIDs')]
    ] as [Mode, string][]
  ).filter(([m]) => caps.includes(m));

  useEffect(() => {
    if (mode === 'did' && archive) {
      void scopesOf(archive).then(r => setScopes(r?.scopes ?? []));
    }
  }, [mode, archiveId]);

  useEffect(() => {
    if (caps.length && !caps.includes(mode)) {
      setMode(modes[0]?.[0] ?? 'cone');
    }
  }, [archiveId, archives]);

  // What is wrong with the form, field by field (the Run button stays disabled until none).
  const problems: Record<string, string> = {};
  const position = (): Record<string, unknown> => {
    if (pos.target.trim()) {
      return { target: pos.target.trim() };
    }
    const ra = parseNumber(pos.ra);
    const dec = parseNumber(pos.dec);
    if (ra === undefined || Number.isNaN(ra) || ra < 0 || ra >= 360) {
      problems.ra = t.__('RA must be a number of degrees in [0, 360).');
    }
    if (dec === undefined || Number.isNaN(dec) || dec < -90 || dec > 90) {
      problems.dec = t.__('Dec must be a number of degrees in [-90, 90].');
    }
    return { ra, dec };
  };
  const mr = parseNumber(maxrec);
  if (mr !== undefined && (Number.isNaN(mr) || mr < 1 || !Number.isInteger(mr))) {
    problems.maxrec = t.__('Max rows must be a whole number above 0.');
  }
  let request: QueryRequest | null = null;
  if (mode === 'cone') {
    const r = parseNumber(radius);
    if (r === undefined || Number.isNaN(r) || r <= 0 || r > 10) {
      problems.radius = t.__('Radius must be in (0, 10] degrees.');
    }
    request = { kind: 'cone', ...position(), radius: r as number } as QueryRequest;
  } else if (mode === 'sia') {
    const s = parseNumber(size);
    if (s === undefined || Number.isNaN(s) || s <= 0 || s > 10) {
      problems.size = t.__('Size must be in (0, 10] degrees.');
    }
    request = { kind: 'sia', ...position(), size: s as number } as QueryRequest;
  } else if (mode === 'tap') {
    if (!adql.trim()) {
      problems.adql = t.__('Write an ADQL query.');
    }
    request = { kind: 'tap', query: adql, async: asyncTap };
  } else {
    if (!did.scope.trim()) {
      problems.scope = t.__('Give a scope.');
    }
    request = { kind: 'did', scope: did.scope.trim(), name: did.name.trim() || '*', type: did.type };
  }
  if (request && mr !== undefined && !Number.isNaN(mr)) {
    (request as any).maxrec = mr;
  }
  const valid = Object.keys(problems).length === 0 && !!archive;

  const run = async () => {
    if (!valid || !request || !archive) {
      return;
    }
    if (archive.reachable === false) {
      const answer = await showDialog({
        title: t.__('%1 looks unreachable', archive.title),
        body: t.__(
          'The last check could not reach %1 (%2). Run the query anyway?',
          archive.title,
          Object.values(archive.services).join(', ')
        ),
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Run anyway') })]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    const failed = (message: string, q?: IQueryInfo) => {
      // the archive named, then the cause (the server's message names it already, mostly)
      const text = message.includes(archive.title) ? message : t.__('%1: %2', archive.title, message);
      setError(text);
      Notification.error(text, { autoClose: 8000 });
      // a failed query stays in the list, with its error
      const now = new Date().toISOString();
      const entry: IQueryInfo = q ?? {
        id: `failed-${Date.now()}`,
        archive: archive.id,
        kind: request!.kind,
        request: request as Record<string, unknown>,
        status: 'error',
        row_count: null,
        overflow: false,
        columns: [],
        access_url_column: null,
        message,
        reason: null,
        created: now,
        updated: now
      };
      setRecent(rs => [{ ...entry, message }, ...rs.filter(x => x.id !== entry.id)].slice(0, 20));
    };
    setError('');
    setHint('');
    cancelled.current = false;
    const started = Date.now();
    const timer = window.setInterval(() => setElapsed((Date.now() - started) / 1000), 250);
    try {
      let q = await archivesApi.start(archive.id, request, 0);
      setRunning(q);
      while (!isFinal(q.status) && !cancelled.current) {
        await new Promise(r => setTimeout(r, Math.max(200, props.settings().pollInterval * 1000 * (Date.now() - started < 3000 ? 0.15 : 1))));
        if (cancelled.current) {
          break;
        }
        q = await archivesApi.get(q.id);
        setRunning(q);
      }
      if (cancelled.current) {
        return;
      }
      if (q.status === 'error') {
        failed(q.message ?? t.__('the query failed'), q);
      } else if (q.status === 'completed') {
        setRecent(rs => [q, ...rs.filter(x => x.id !== q.id)].slice(0, 20));
        if (q.kind === 'did' && q.row_count === 0) {
          setHint(await noDidHint(archive, request as Record<string, any>, t));
        } else {
          props.open(q, archive.title);
        }
      }
    } catch (e) {
      failed(e instanceof EsapApiError ? e.message : String(e));
    } finally {
      window.clearInterval(timer);
      setRunning(null);
    }
  };

  const cancel = async () => {
    cancelled.current = true;
    const q = running;
    setRunning(null);
    if (q) {
      try {
        await archivesApi.cancel(q.id);
        Notification.info(t.__('Query cancelled.'), { autoClose: 3000 });
      } catch (e) {
        Notification.error(t.__('Could not cancel: %1', (e as Error).message));
      }
    }
  };

  const field = (
    key: string,
    label: string,
    value: string,
    onChange: (v: string) => void,
    extra: React.InputHTMLAttributes<HTMLInputElement> = {}
  ) => (
    <label>
      {label}
      <input
        name={key}
        value={value}
        aria-invalid={problems[key] ? 'true' : 'false'}
        title={problems[key] ?? ''}
        onChange={e => onChange(e.target.value)}
        onKeyDown={e => e.key === 'Enter' && void run()}
        {...extra}
      />
    </label>
  );

  const positional = (
    <>
      <div className="jp-EsapSection-row">
        {field('ra', t.__('RA (deg)'), pos.ra, v => setPos({ ...pos, ra: v }), { inputMode: 'decimal', disabled: !!pos.target.trim() })}
        {field('dec', t.__('Dec (deg)'), pos.dec, v => setPos({ ...pos, dec: v }), { inputMode: 'decimal', disabled: !!pos.target.trim() })}
      </div>
      {field('target', t.__('or target name (resolved by Sesame)'), pos.target, v => setPos({ ...pos, target: v }), { placeholder: 'M 51' })}
    </>
  );

  return (
    <div className="jp-EsapSection jp-EsapSearch">
      <label>
        {t.__('Archive')}
        <select
          name="archive"
          aria-label={t.__('Archive')}
          value={archiveId}
          onChange={e => setArchiveId(e.target.value)}
        >
          {archives.map(a => (
            <option key={a.id} value={a.id} title={a.description}>
              {a.title}
              {a.reachable === false ? ` (${t.__('unreachable')})` : ''}
            </option>
          ))}
        </select>
      </label>
      {archive?.description && (
        <div className="jp-EsapSection-hint">{archive.description}</div>
      )}
      {archive?.reachable === false && (
        <div className="jp-EsapSection-error jp-EsapSearch-unreachable" role="status">
          {t.__('%1 did not answer the last check: a query may fail.', archive.title)}
        </div>
      )}
      <div className="jp-EsapSearch-modes" role="tablist" aria-label={t.__('Search mode')}>
        {modes.map(([m, label]) => (
          <button
            key={m}
            role="tab"
            aria-selected={mode === m}
            className={`jp-mod-styled ${mode === m ? 'jp-mod-accept' : 'jp-mod-reject'} jp-EsapSearch-mode-${m}`}
            onClick={() => setMode(m)}
          >
            {label}
          </button>
        ))}
      </div>
      {(mode === 'cone' || mode === 'sia') && positional}
      {mode === 'cone' &&
        field('radius', t.__('Radius (deg)'), radius, setRadius, { inputMode: 'decimal' })}
      {mode === 'sia' &&
        field('size', t.__('Field size (deg)'), size, setSize, { inputMode: 'decimal' })}
      {mode === 'tap' && (
        <>
          <label>
            {t.__('ADQL query')}
            <textarea
              name="adql"
              aria-label={t.__('ADQL query')}
              placeholder="SELECT TOP 100 * FROM ivoa.obscore"
              value={adql}
              onChange={e => setAdql(e.target.value)}
              onKeyDown={e => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void run()}
            />
          </label>
          <label className="jp-EsapSearch-inline">
            <input
              type="checkbox"
              name="async"
              checked={asyncTap}
              onChange={e => setAsyncTap(e.target.checked)}
            />
            {t.__('Run asynchronously (long queries)')}
          </label>
          <button type="button" className="jp-mod-styled jp-mod-reject jp-EsapSearch-workbench" title={t.__('Open this query in the ADQL workbench (schema browser, completion, examples)')} onClick={() => document.body.dispatchEvent(new CustomEvent('esap-lab:open-workbench', { detail: { archive: archiveId, query: adql } }))}>{t.__('Open in ADQL workbench')}</button>
        </>
      )}
      {mode === 'did' && (
        <>
          <div className="jp-EsapSection-row">
            {field('scope', t.__('Scope'), did.scope, v => setDid({ ...did, scope: v }), {
              list: 'jp-EsapSearch-scopes',
              placeholder: scopes[0] ?? ''
            })}
            <datalist id="jp-EsapSearch-scopes">
              {scopes.map(x => (
                <option key={x} value={x} />
              ))}
            </datalist>
            {field('name', t.__('Name (wildcards * ?)'), did.name, v => setDid({ ...did, name: v }))}
          </div>
          <label>
            {t.__('Type')}
            <select name="didtype" value={did.type} onChange={e => setDid({ ...did, type: e.target.value })}>
              {['collection', 'dataset', 'container', 'file', 'all'].map(x => (
                <option key={x} value={x}>{x}</option>
              ))}
            </select>
          </label>
        </>
      )}
      {field('maxrec', t.__('Max rows (optional)'), maxrec, setMaxrec, {
        inputMode: 'numeric',
        placeholder: archive?.details?.default_maxrec
          ? t.__('archive default (%1)', String(archive.details.default_maxrec))
          : t.__('archive default')
      })}
      {Object.values(problems).length > 0 && (
        <div className="jp-EsapSection-error" role="alert">
          {Object.values(problems)[0]}
        </div>
      )}
      <div className="jp-EsapSection-actions jp-EsapSearch-runBar">
        <button
          className="jp-mod-styled jp-mod-accept jp-EsapSearch-run"
          aria-label={t.__('Run the search')}
          disabled={!valid || !!running}
          onClick={() => void run()}
        >
          {t.__('Run')}
        </button>
        <button
          className="jp-mod-styled jp-mod-reject jp-EsapSearch-cancel"
          aria-label={t.__('Cancel the running search')}
          disabled={!running}
          onClick={() => void cancel()}
        >
          {t.__('Cancel')}
        </button>
      </div>
      {running && (
        <div className="jp-EsapSearch-progress" role="status">
          <progress className="jp-EsapProgress" aria-label={t.__('Query running')} />
          <span className="jp-EsapSection-hint">
            {running.phase
              ? t.__('%1 · %2 s', running.phase, elapsed.toFixed(0))
              : t.__('%1 for %2 s…', running.status === 'queued' ? t.__('Queued') : t.__('Running'), elapsed.toFixed(1))}
          </span>
        </div>
      )}
      {hint && (
        <div className="jp-EsapSearch-noRows" role="status">
          {hint}
        </div>
      )}
      {error && (
        <div className="jp-EsapSection-error jp-EsapSearch-error" role="alert">
          {error}
        </div>
      )}
      {recent.length > 0 && (
        <>
          <div className="jp-EsapSection-hint">{t.__('Recent queries')}</div>
          <ul className="jp-EsapSection-list jp-EsapSearch-recent">
            {recent.slice(0, 10).map(q => (
              <li key={q.id} className="jp-EsapSearch-recentEntry" data-status={q.status}>
                <span className="jp-EsapChip" data-status={q.status}>{q.status}</span>
                <button
                  className="jp-EsapSearch-open"
                  aria-label={t.__('Open the result of %1', describeQuery(q))}
                  title={describeQuery(q)}
                  disabled={q.status !== 'completed'}
                  onClick={() => props.open(q, archives.find(a => a.id === q.archive)?.title ?? q.archive)}
                >
                  {describeQuery(q)} {q.row_count !== null ? `(${q.row_count})` : ''}
                </button>
                {q.phase && (
                  <span className="jp-EsapSearch-phase" title={t.__('UWS phase of the archive job and time taken')}>
                    {phaseText(q)}
                  </span>
                )}
                {q.status === 'error' && q.message && (
                  <div className="jp-EsapSearch-recentError" title={q.message}>
                    {q.message}
                  </div>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export class SearchSection extends ReactWidget {
  constructor(private _options: ISearchOptions) {
    super();
    this.id = 'esap-lab-search';
    this.title.label = _options.trans.__('Search');
    this.addClass('jp-EsapSearchSection');
  }

  render(): JSX.Element {
    return <SearchForm {...this._options} />;
  }
}
