/**
 * The Search section of the ESAP sidebar: archive picker (or several archives at once), Cone /
 * Images / Spectra / ObsCore / ADQL (and Rucio DID) forms with validation, Run and Cancel,
 * progress while a query runs (each archive's status, rows and error in a fan-out), the recent
 * queries, and the way to the registry.
 */
import { Dialog, Notification, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';

import { archivesApi, EsapApiError, IArchive, IQueryInfo, QueryRequest } from '../api';
import { isFinal } from '../common/format';
import { stagingApi } from '../staging/api';
import { archivesChanged, DATAPRODUCT_TYPES, IArchiveInfo, ISearchInfo, searchApi, SearchRequest } from './api';

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

export type Mode = 'cone' | 'sia' | 'ssa' | 'obscore' | 'tap' | 'did';

export interface ISearchOptions {
  trans: TranslationBundle;
  /** Open a completed query's result grid (the archive's title goes into its tooltip). */
  open: (q: IQueryInfo, archiveTitle: string) => void;
  settings: () => { defaultArchive: string; pollInterval: number };
  /** Open the registry panel (find services, add them as archives). */
  openRegistry?: () => void;
}

/** A wavelength interval in nm (two fields) as metres, or a problem; both empty: none. */
function bandOf(lo: string, hi: string, t: TranslationBundle): [number, number] | string | null {
  if (!lo.trim() && !hi.trim()) {
    return null;
  }
  const a = parseNumber(lo);
  const b = parseNumber(hi);
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || a <= 0 || b < a) {
    return t.__('Band: give two wavelengths in nm, above 0, the lower first.');
  }
  return [a * 1e-9, b * 1e-9];
}

/** A time interval (two dates or date-times, UTC) as ISO strings, or a problem; both empty: none. */
function timeOf(start: string, end: string, t: TranslationBundle): [string, string] | string | null {
  if (!start.trim() && !end.trim()) {
    return null;
  }
  const parse = (v: string) => {
    const text = v.trim();
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
    return Number.isNaN(d.getTime()) ? null : d;
  };
  const a = parse(start);
  const b = parse(end);
  if (!a || !b || a > b) {
    return t.__('Time: give a start and an end date (YYYY-MM-DD), the start first.');
  }
  return [a.toISOString(), b.toISOString()];
}


export function describeQuery(q: { kind: string; request: Record<string, any>; archive?: string }): string {
  const r = q.request;
  if (q.archive === 'merged' && r.merged) {
    // several archives' results in one: say so, and how many
    const n = Object.keys(r.merged).length;
    return `${n} merged · ${describeQuery({ kind: q.kind, request: r })}`;
  }
  const where = r.target ?? (r.ra !== undefined ? `${r.ra}, ${r.dec}` : '');
  switch (q.kind) {
    case 'cone':
      return `cone ${where} r=${r.radius}°`;
    case 'sia':
      return `images ${where} ${r.size}°${intervals(r)}`;
    case 'ssa':
      return `spectra ${where}${intervals(r)}`;
    case 'did':
      return `DIDs ${r.scope}:${r.name}`;
    default: {
      const text = String(r.query ?? '').replace(/\s+/g, ' ');
      // an ObsCore search runs as ADQL on ivoa.obscore: name it so, with its constraints
      const obscore = /^SELECT \* FROM ivoa\.obscore WHERE (.*)$/i.exec(text);
      return obscore ? `ObsCore ${obscoreWhere(obscore[1])}`.slice(0, 60) : text.slice(0, 60);
    }
  }
}

/** A search's band (nm) and time interval (dates) in a few characters, when it has them. */
function intervals(r: Record<string, any>): string {
  const nm = (m: number) => String(Math.round(m * 1e10) / 10);
  const day = (t: string) => String(t).slice(0, 10);
  return (
    (Array.isArray(r.band) ? ` ${nm(r.band[0])}–${nm(r.band[1])} nm` : '') +
    (Array.isArray(r.time) ? ` ${day(r.time[0])}…${day(r.time[1])}` : '')
  );
}

/** The constraints of an ObsCore search's ADQL in a few words (position, band, types). */
function obscoreWhere(where: string): string {
  const parts: string[] = [];
  const circle = /CIRCLE\('ICRS', ([-\d.e]+), ([-\d.e]+), ([-\d.e]+)\)/.exec(where);
  if (circle) {
    parts.push(`${circle[1]}, ${circle[2]} r=${circle[3]}°`);
  }
  const types = /dataproduct_type IN \(([^)]*)\)/.exec(where);
  if (types) {
    parts.push(types[1].replace(/'/g, ''));
  }
  if (/em_min/.test(where)) {
    parts.push('band');
  }
  if (/t_min/.test(where)) {
    parts.push('time');
  }
  return parts.join(' · ');
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
  const [archives, setArchives] = useState<IArchiveInfo[]>([]);
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
  const [fanout, setFanout] = useState(false);
  const [chosen, setChosen] = useState<string[]>([]);
  const [band, setBand] = useState({ lo: '', hi: '' });
  const [time, setTime] = useState({ start: '', end: '' });
  const [products, setProducts] = useState<string[]>([]);
  const [calib, setCalib] = useState<number[]>([]);
  const [search, setSearch] = useState<ISearchInfo | null>(null);
  const [merging, setMerging] = useState(false);
  const cancelled = useRef(false);

  const loadArchives = (select?: string) =>
    archivesApi
      .list(true)
      .then(all => {
        const list = all as IArchiveInfo[];
        setArchives(list);
        const preferred = select || props.settings().defaultArchive;
        const first =
          list.find(a => a.id === preferred) ??
          (select === undefined ? undefined : list.find(a => a.id === archiveId)) ??
          list.find(a => a.reachable) ??
          list[0];
        if (first) {
          setArchiveId(first.id);
        }
      })
      .catch(e => Notification.error(t.__('Could not list archives: %1', e.message)));

  useEffect(() => {
    void loadArchives();
    archivesApi
      .queries()
      .then(setRecent)
      .catch(() => undefined);
    // an archive added in the registry panel is selected here at once
    const onChange = (_: unknown, id: string) => void loadArchives(id);
    archivesChanged.connect(onChange);
    return () => {
      archivesChanged.disconnect(onChange);
    };
  }, []);

  const archive = archives.find(a => a.id === archiveId);
  // one archive: what it answers; several: what any of them answers
  const caps = fanout ? [...new Set(archives.flatMap(a => a.capabilities))] : archive?.capabilities ?? [];
  const modes: [Mode, string][] = (
    [
      ['cone', t.__('Cone')],
      ['sia', t.__('Images')],
      ['ssa', t.__('Spectra')],
      ['obscore', t.__('ObsCore')],
      ['tap', t.__('ADQL')],
      ['did', t.__('DIDs')]
    ] as [Mode, string][]
  ).filter(([m]) => caps.includes(m));
  const targets = fanout
    ? archives.filter(a => chosen.includes(a.id) && a.capabilities.includes(mode))
    : [];

  useEffect(() => {
    if (mode === 'did' && archive) {
      // the instance's scopes to choose from, the first one chosen while the box is empty
      void scopesOf(archive).then(r => {
        const found = r?.scopes ?? [];
        setScopes(found);
        if (found.length) {
          setDid(d => (d.scope.trim() ? d : { ...d, scope: found[0] }));
        }
      });
    }
  }, [mode, archiveId]);

  // another archive or kind of search: the last one's error, hint and fan-out are not about it
  useEffect(() => {
    setError('');
    setHint('');
    setSearch(s => (s && s.status === 'running' ? s : null));
  }, [archiveId, mode, fanout]);

  useEffect(() => {
    if (caps.length && !caps.includes(mode)) {
      setMode(modes[0]?.[0] ?? 'cone');
    }
  }, [archiveId, archives, fanout]);

  // What is wrong with the form, field by field (the Run button stays disabled until none).
  const problems: Record<string, string> = {};
  const position = (optional = false): Record<string, unknown> => {
    if (pos.target.trim()) {
      return { target: pos.target.trim() };
    }
    if (optional && !pos.ra.trim() && !pos.dec.trim()) {
      return {};
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
  } else if (mode === 'ssa') {
    const s = parseNumber(size);
    if (s === undefined || Number.isNaN(s) || s <= 0 || s > 10) {
      problems.size = t.__('Diameter must be in (0, 10] degrees.');
    }
    request = { kind: 'ssa', ...position(), size: s as number } as QueryRequest;
  } else if (mode === 'obscore') {
    const where = position(true);
    const r = parseNumber(radius);
    if (Object.keys(where).length && (r === undefined || Number.isNaN(r) || r <= 0 || r > 10)) {
      problems.radius = t.__('Radius must be in (0, 10] degrees.');
    }
    const o: Record<string, unknown> = { kind: 'obscore', ...where };
    if (Object.keys(where).length) {
      o.radius = r;
    }
    if (products.length) {
      o.dataproduct_type = products;
    }
    if (calib.length) {
      o.calib_level = calib;
    }
    request = o as unknown as QueryRequest;
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
  if (mode === 'sia' || mode === 'ssa' || mode === 'obscore') {
    // SIA v2, SSA and ObsCore: a wavelength band (nm in the form, metres on the wire) and a time interval
    const b = bandOf(band.lo, band.hi, t);
    const tm = timeOf(time.start, time.end, t);
    if (typeof b === 'string') {
      problems.band = b;
    } else if (b && request) {
      (request as any).band = b;
    }
    if (typeof tm === 'string') {
      problems.time = tm;
    } else if (tm && request) {
      (request as any).time = tm;
    }
    if (
      mode === 'obscore' &&
      request &&
      Object.keys(request).length === 1 &&
      !problems.band &&
      !problems.time
    ) {
      problems.obscore = t.__('Give at least one constraint: a position, band, time, product type or level.');
    }
  }
  if (request && mr !== undefined && !Number.isNaN(mr)) {
    (request as any).maxrec = mr;
  }
  if (fanout && targets.length === 0) {
    problems.archives = t.__('Choose the archives to search (those that answer this kind of search).');
  }
  const valid = Object.keys(problems).length === 0 && (fanout || !!archive);

  const run = async () => {
    if (fanout || (mode === 'obscore' && archive)) {
      return runMany(fanout ? targets : [archive as IArchiveInfo]);
    }
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

  /** One search over several archives (POST /searches): each archive's status, rows, error. */
  const runMany = async (chosenArchives: IArchiveInfo[]) => {
    if (!valid || !request || !chosenArchives.length) {
      return;
    }
    setError('');
    setHint('');
    setSearch(null);
    cancelled.current = false;
    const started = Date.now();
    const timer = window.setInterval(() => setElapsed((Date.now() - started) / 1000), 250);
    const opened = new Set<string>();
    const titleOf = (id: string) => archives.find(a => a.id === id)?.title ?? id;
    const openDone = async (s: ISearchInfo) => {
      for (const e of s.archives) {
        if (e.status !== 'completed' || !e.query_id || opened.has(e.query_id)) {
          continue;
        }
        opened.add(e.query_id);
        try {
          const q = await archivesApi.get(e.query_id);
          setRecent(rs => [q, ...rs.filter(x => x.id !== q.id)].slice(0, 20));
          if ((q.row_count ?? 0) > 0) {
            props.open(q, titleOf(e.archive)); // each archive's rows in a grid of their own
          }
        } catch {
          // deleted meanwhile
        }
      }
    };
    try {
      let s = await searchApi.start(request as SearchRequest, chosenArchives.map(a => a.id), 0);
      setSearch(s);
      await openDone(s);
      while (s.status === 'running' && !cancelled.current) {
        // answered as soon as one more archive has ended: each grid opens when its archive answers
        s = await searchApi.get(s.id, 20);
        if (cancelled.current) {
          break;
        }
        setSearch(s);
        await openDone(s);
      }
      const failed = s.archives.filter(e => e.status === 'error');
      if (failed.length && failed.length === s.archives.length) {
        setError(failed.map(e => e.message ?? '').join(' '));
      }
    } catch (e) {
      const text = e instanceof EsapApiError ? e.message : String(e);
      setError(text);
      Notification.error(text, { autoClose: 8000 });
    } finally {
      window.clearInterval(timer);
    }
  };

  const cancelMany = async () => {
    cancelled.current = true;
    const s = search;
    if (!s) {
      return;
    }
    await Promise.all(
      s.archives
        .filter(e => e.query_id && (e.status === 'running' || e.status === 'queued'))
        .map(e => archivesApi.cancel(e.query_id as string).catch(() => undefined))
    );
    setSearch({
      ...s,
      status: 'completed',
      archives: s.archives.map(e =>
        e.status === 'running' || e.status === 'queued' ? { ...e, status: 'cancelled' } : e
      )
    });
    Notification.info(t.__('Search cancelled.'), { autoClose: 3000 });
  };
  const manyRunning = search?.status === 'running' && !cancelled.current;
  const answered = search?.archives.filter(e => e.status === 'completed' && e.query_id) ?? [];

  /** The answered archives' results as one grid (POST /searches/{id}/merge): an `archive` column first. */
  const mergeResults = async () => {
    const s = search;
    if (!s || merging) {
      return;
    }
    setMerging(true);
    try {
      const q = await searchApi.merge(s.id);
      setSearch(cur => (cur && cur.id === s.id ? { ...cur, merged_query_id: q.id } : cur));
      setRecent(rs => [q, ...rs.filter(x => x.id !== q.id)].slice(0, 20));
      const titles = Object.keys((q.request as Record<string, any>).merged ?? {}).map(
        id => archives.find(a => a.id === id)?.title ?? id
      );
      props.open(q, titles.join(' + '));
    } catch (e) {
      Notification.error(t.__('Could not merge the results: %1', e instanceof EsapApiError ? e.message : String(e)), {
        autoClose: 8000
      });
    } finally {
      setMerging(false);
    }
  };

  const removeArchive = async (a: IArchiveInfo) => {
    const answer = await showDialog({
      title: t.__('Remove your archive %1?', a.title),
      body: t.__('It leaves your archive list; its past queries stay. You can add it again from the registry.'),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: t.__('Remove') })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await searchApi.removeArchive(a.id);
      archivesChanged.emit('');
    } catch (e) {
      Notification.error(t.__('Could not remove %1: %2', a.id, (e as Error).message));
    }
  };

  const cancel = async () => {
    if (search && manyRunning) {
      return cancelMany();
    }
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

  const capsLabel: Record<string, string> = {
    cone: t.__('cone search'),
    sia: t.__('image search'),
    ssa: t.__('spectrum search'),
    obscore: t.__('ObsCore'),
    tap: t.__('ADQL'),
    did: t.__('DID search')
  };
  const toggle = <T,>(list: T[], x: T) => (list.includes(x) ? list.filter(y => y !== x) : [...list, x]);

  return (
    <div className="jp-EsapSection jp-EsapSearch">
      <div className="jp-EsapSearch-archiveBar">
        <label className="jp-EsapSearch-inline">
          <input
            type="checkbox"
            name="fanout"
            checked={fanout}
            onChange={e => {
              setFanout(e.target.checked);
              if (e.target.checked && chosen.length === 0 && archiveId) {
                setChosen([archiveId]);
              }
            }}
          />
          {t.__('Several archives at once')}
        </label>
        {props.openRegistry && (
          <button
            className="jp-mod-styled jp-mod-reject jp-EsapSearch-registry"
            title={t.__('Find services in the IVOA registry and add them as your archives')}
            onClick={() => props.openRegistry?.()}
          >
            {t.__('Find in registry…')}
          </button>
        )}
      </div>
      {fanout ? (
        <fieldset className="jp-EsapSearch-archives" aria-label={t.__('Archives to search')}>
          <legend>{t.__('Archives to search')}</legend>
          {archives.map(a => {
            const can = a.capabilities.includes(mode);
            return (
              <label
                key={a.id}
                className="jp-EsapSearch-inline jp-EsapSearch-archiveChoice"
                data-archive={a.id}
                title={can ? a.description : t.__('%1 offers no %2', a.title, capsLabel[mode] ?? mode)}
              >
                <input
                  type="checkbox"
                  name={`archive-${a.id}`}
                  disabled={!can}
                  checked={can && chosen.includes(a.id)}
                  onChange={() => setChosen(toggle(chosen, a.id))}
                />
                <span className={can ? '' : 'jp-EsapSearch-cannot'}>
                  {a.title}
                  {a.reachable === false ? ` (${t.__('unreachable')})` : ''}
                  {a.origin === 'user' ? ` · ${t.__('yours')}` : ''}
                </span>
              </label>
            );
          })}
        </fieldset>
      ) : (
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
                {a.origin === 'user' ? ` · ${t.__('yours')}` : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {!fanout && archive?.description && (
        <div className="jp-EsapSection-hint">{archive.description}</div>
      )}
      {!fanout && archive?.origin === 'user' && (
        <div className="jp-EsapSection-hint jp-EsapSearch-yours">
          {t.__('Your archive (added from the registry).')}{' '}
          <button
            className="jp-mod-styled jp-mod-reject jp-EsapSearch-removeArchive"
            aria-label={t.__('Remove your archive %1', archive.title)}
            onClick={() => void removeArchive(archive)}
          >
            {t.__('Remove')}
          </button>
        </div>
      )}
      {!fanout && archive?.reachable === false && (
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
      {(mode === 'cone' || mode === 'sia' || mode === 'ssa' || mode === 'obscore') && positional}
      {(mode === 'cone' || mode === 'obscore') &&
        field('radius', mode === 'obscore' ? t.__('Radius (deg), with a position') : t.__('Radius (deg)'), radius, setRadius, { inputMode: 'decimal' })}
      {mode === 'sia' &&
        field('size', t.__('Field size (deg)'), size, setSize, { inputMode: 'decimal' })}
      {mode === 'ssa' &&
        field('size', t.__('Diameter (deg)'), size, setSize, { inputMode: 'decimal' })}
      {(mode === 'sia' || mode === 'ssa' || mode === 'obscore') && (
        <>
          <div className="jp-EsapSection-row">
            {field('band_lo', t.__('Band from (nm)'), band.lo, v => setBand({ ...band, lo: v }), {
              inputMode: 'decimal',
              placeholder: '400',
              'aria-invalid': problems.band ? 'true' : 'false'
            })}
            {field('band_hi', t.__('to (nm)'), band.hi, v => setBand({ ...band, hi: v }), {
              inputMode: 'decimal',
              placeholder: '700',
              'aria-invalid': problems.band ? 'true' : 'false'
            })}
          </div>
          <div className="jp-EsapSection-row">
            {field('time_start', t.__('Observed from (UTC)'), time.start, v => setTime({ ...time, start: v }), {
              placeholder: 'YYYY-MM-DD',
              'aria-invalid': problems.time ? 'true' : 'false'
            })}
            {field('time_end', t.__('until'), time.end, v => setTime({ ...time, end: v }), {
              placeholder: 'YYYY-MM-DD',
              'aria-invalid': problems.time ? 'true' : 'false'
            })}
          </div>
          {mode === 'sia' && (
            <div className="jp-EsapSection-hint">{t.__('Band and time: SIA v2 services only.')}</div>
          )}
        </>
      )}
      {mode === 'obscore' && (
        <>
          <fieldset className="jp-EsapSearch-choices" aria-label={t.__('Data product types')}>
            <legend>{t.__('Data product type')}</legend>
            {DATAPRODUCT_TYPES.map(p => (
              <label key={p} className="jp-EsapSearch-inline">
                <input
                  type="checkbox"
                  name={`dataproduct-${p}`}
                  checked={products.includes(p)}
                  onChange={() => setProducts(toggle(products, p))}
                />
                {p}
              </label>
            ))}
          </fieldset>
          <fieldset className="jp-EsapSearch-choices" aria-label={t.__('Calibration levels')}>
            <legend>{t.__('Calibration level')}</legend>
            {[0, 1, 2, 3, 4].map(c => (
              <label key={c} className="jp-EsapSearch-inline" title={[t.__('raw'), t.__('instrumental'), t.__('calibrated'), t.__('enhanced'), t.__('analysis')][c]}>
                <input
                  type="checkbox"
                  name={`calib-${c}`}
                  checked={calib.includes(c)}
                  onChange={() => setCalib(toggle(calib, c))}
                />
                {c}
              </label>
            ))}
          </fieldset>
        </>
      )}
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
              placeholder: t.__('scope, e.g. %1', scopes[0] ?? 'user.alice'),
              title: problems.scope ?? (scopes.length ? t.__('Scopes on this instance: %1', scopes.join(', ')) : '')
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
          disabled={!valid || !!running || manyRunning}
          onClick={() => void run()}
        >
          {t.__('Run')}
        </button>
        <button
          className="jp-mod-styled jp-mod-reject jp-EsapSearch-cancel"
          aria-label={t.__('Cancel the running search')}
          disabled={!running && !manyRunning}
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
      {search && (
        <div className="jp-EsapSearch-fanout">
          <div className="jp-EsapSection-hint" role="status">
            {search.status === 'running'
              ? t.__('Searching %1 archives… %2 s', search.archives.length, elapsed.toFixed(0))
              : t.__('%1 of %2 archives answered', search.archives.filter(e => e.status === 'completed').length, search.archives.length)}
          </div>
          <ul className="jp-EsapSection-list">
            {search.archives.map(e => {
              const title = archives.find(a => a.id === e.archive)?.title ?? e.archive;
              return (
                <li
                  key={e.archive}
                  className="jp-EsapSection-entry jp-EsapSearch-fanoutEntry"
                  data-archive={e.archive}
                  data-status={e.status}
                >
                  <div className="jp-EsapSection-line">
                    <span className="jp-EsapChip" data-status={e.status}>
                      {e.status}
                    </span>
                    <span className="jp-EsapSection-title" title={title}>
                      {title}
                    </span>
                  </div>
                  <div className="jp-EsapSection-line jp-EsapSearch-entryResult">
                    {e.status === 'completed' && (
                      <span className="jp-EsapSearch-rows">
                        {t._n('%1 row', '%1 rows', e.row_count ?? 0)}
                        {e.overflow ? ' ⚠' : ''}
                      </span>
                    )}
                    {e.status === 'completed' && e.query_id && (
                      <button
                        className="jp-mod-styled jp-mod-reject jp-EsapSearch-openOne"
                        aria-label={t.__('Open the rows of %1', title)}
                        onClick={() =>
                          void archivesApi.get(e.query_id as string).then(q => props.open(q, title))
                        }
                      >
                        {t.__('Open')}
                      </button>
                    )}
                  </div>
                  {e.message && (
                    <div className="jp-EsapSection-message jp-EsapSearch-entryError" title={e.message}>
                      {e.message}
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
          {search.status === 'completed' && answered.length >= 2 && (
            <div className="jp-EsapSection-row jp-EsapSearch-mergeRow">
              <button
                className="jp-mod-styled jp-mod-accept jp-EsapSearch-merge"
                disabled={merging}
                title={t.__('One grid with the rows of every archive that answered, an "archive" column saying where each row came from; columns aligned by name or UCD')}
                onClick={() => void mergeResults()}
              >
                {merging ? t.__('Merging…') : t.__('Merge the %1 results', answered.length)}
              </button>
            </div>
          )}
          {search.status === 'completed' && answered.length < 2 && (
            <div className="jp-EsapSection-hint jp-EsapSearch-mergeHint">
              {answered.length
                ? t.__('Merging needs two archives with rows: only one answered.')
                : t.__('No archive answered, so there is nothing to merge.')}
            </div>
          )}
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
