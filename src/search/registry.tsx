/**
 * The registry panel (main area): search the IVOA registry (RegTAP) by keywords, service type,
 * waveband and UCD; each resource with its title, description and capabilities; "Add as
 * archive" keeps it as an archive of this user (the Search form lists it at once).
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useState } from 'react';

import { archivesApi } from '../api';
import {
  archivesChanged,
  IArchiveInfo,
  IRegistryQuery,
  IRegistryResource,
  IRegistryResults,
  searchApi,
  SERVICE_TYPES,
  WAVEBANDS
} from './api';

const TYPE_LABELS: Record<string, string> = {
  tap: 'TAP',
  scs: 'Cone search',
  sia: 'SIA v1 (images)',
  sia2: 'SIA v2 (images)',
  ssa: 'SSA (spectra)'
};

function Resource(props: {
  r: IRegistryResource;
  archives: IArchiveInfo[];
  trans: TranslationBundle;
  onAdded: (r: IRegistryResource, a: IArchiveInfo) => void;
  onRemoved: (r: IRegistryResource) => void;
}): JSX.Element {
  const { r, trans: t } = props;
  const [busy, setBusy] = useState(false);
  const [more, setMore] = useState(false);
  const archive = props.archives.find(a => a.id === r.archive);
  const mine = archive?.origin === 'user';
  const usable = Object.keys(r.services).length > 0;

  const add = async () => {
    setBusy(true);
    try {
      const a = await searchApi.addArchive({
        title: r.title,
        description: r.description ?? '',
        ivoid: r.ivoid,
        ...r.services
      });
      Notification.success(t.__('Added "%1" as your archive %2.', r.title, a.id), { autoClose: 4000 });
      props.onAdded(r, a);
    } catch (e) {
      Notification.error(t.__('Could not add "%1": %2', r.title, (e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!archive) {
      return;
    }
    setBusy(true);
    try {
      await searchApi.removeArchive(archive.id);
      props.onRemoved(r);
    } catch (e) {
      Notification.error(t.__('Could not remove %1: %2', archive.id, (e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="jp-EsapRegistry-resource" data-ivoid={r.ivoid}>
      <div className="jp-EsapRegistry-head">
        <span className="jp-EsapRegistry-title">{r.title}</span>
        {r.waveband.map(w => (
          <span key={w} className="jp-EsapChip jp-EsapRegistry-band">
            {w}
          </span>
        ))}
      </div>
      <div className="jp-EsapRegistry-ivoid" title={t.__('IVOA identifier')}>
        {r.short_name ? `${r.short_name} · ` : ''}
        {r.ivoid}
      </div>
      {r.description && (
        <div
          className={`jp-EsapRegistry-description ${more ? 'jp-mod-expanded' : ''}`}
          onClick={() => setMore(!more)}
          title={more ? '' : t.__('Click to read it all')}
        >
          {r.description}
        </div>
      )}
      <ul className="jp-EsapRegistry-capabilities" aria-label={t.__('Capabilities')}>
        {r.capabilities.map((c, i) => (
          <li key={i}>
            <span className="jp-EsapChip jp-EsapRegistry-capability" data-type={c.type}>
              {TYPE_LABELS[c.type] ?? c.type}
            </span>
            <span className="jp-EsapRegistry-url" title={c.description ?? c.standard_id ?? ''}>
              {c.access_url ?? ''}
            </span>
          </li>
        ))}
        {r.capabilities.length === 0 && (
          <li className="jp-EsapSection-hint">{t.__('No standard service (a data collection or an organisation).')}</li>
        )}
      </ul>
      <div className="jp-EsapSection-actions">
        {archive ? (
          <>
            <span className="jp-EsapRegistry-added" role="status">
              {mine
                ? t.__('Your archive "%1"', archive.id)
                : t.__('Configured already as "%1"', archive.title)}
            </span>
            {mine && (
              <button
                className="jp-mod-styled jp-mod-reject jp-EsapRegistry-remove"
                disabled={busy}
                aria-label={t.__('Remove your archive %1', archive.id)}
                onClick={() => void remove()}
              >
                {t.__('Remove')}
              </button>
            )}
          </>
        ) : (
          <button
            className="jp-mod-styled jp-mod-accept jp-EsapRegistry-add"
            disabled={busy || !usable}
            title={
              usable
                ? t.__('Keep this service as one of your archives: it appears in the Search form')
                : t.__('It has no service esap-lab can search (TAP, cone search, SIA, SSA)')
            }
            aria-label={t.__('Add %1 as an archive', r.title)}
            onClick={() => void add()}
          >
            {t.__('Add as archive')}
          </button>
        )}
      </div>
    </li>
  );
}

function RegistrySearch(props: { trans: TranslationBundle }): JSX.Element {
  const { trans: t } = props;
  const [q, setQ] = useState<IRegistryQuery>({ keywords: '', servicetype: '', waveband: '', ucd: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [results, setResults] = useState<IRegistryResults | null>(null);
  const [archives, setArchives] = useState<IArchiveInfo[]>([]);

  const loadArchives = () =>
    archivesApi
      .list(false)
      .then(list => setArchives(list as IArchiveInfo[]))
      .catch(() => undefined);
  useEffect(() => {
    void loadArchives();
  }, []);

  const ucdOk = !q.ucd || /^[A-Za-z0-9_.;%*:-]+$/.test(q.ucd);
  const something = !!(q.keywords?.trim() || q.servicetype || q.waveband || q.ucd?.trim());
  const problem = !ucdOk
    ? t.__('A UCD is letters, digits and . ; _ - (use * or % as a wildcard).')
    : !something
      ? t.__('Give keywords, a service type, a waveband or a UCD.')
      : '';

  const search = async () => {
    if (problem || busy) {
      return;
    }
    setBusy(true);
    setError('');
    try {
      const query: IRegistryQuery = {};
      for (const [k, v] of Object.entries(q)) {
        if (typeof v === 'string' && v.trim()) {
          (query as any)[k] = v.trim();
        }
      }
      const [res] = await Promise.all([searchApi.registry(query), loadArchives()]);
      setResults(res);
    } catch (e) {
      setError((e as Error).message);
      setResults(null);
    } finally {
      setBusy(false);
    }
  };

  const changed = (r: IRegistryResource, archive: string | null) => {
    setResults(res =>
      res ? { ...res, resources: res.resources.map(x => (x.ivoid === r.ivoid ? { ...x, archive } : x)) } : res
    );
    void loadArchives();
    archivesChanged.emit(archive ?? '');
  };

  const onKey = (e: React.KeyboardEvent) => e.key === 'Enter' && void search();

  return (
    <div className="jp-EsapSection jp-EsapRegistry-body">
      <div className="jp-EsapSection-hint">
        {t.__('Find services in the IVOA registry and add them as your own archives.')}
      </div>
      <div className="jp-EsapSection-row jp-EsapRegistry-form">
        <label className="jp-EsapRegistry-keywords">
          {t.__('Keywords')}
          <input
            name="keywords"
            value={q.keywords}
            placeholder={t.__('e.g. spectra quasar')}
            onChange={e => setQ({ ...q, keywords: e.target.value })}
            onKeyDown={onKey}
          />
        </label>
        <label>
          {t.__('Service type')}
          <select name="servicetype" value={q.servicetype} onChange={e => setQ({ ...q, servicetype: e.target.value })}>
            <option value="">{t.__('any')}</option>
            {SERVICE_TYPES.map(s => (
              <option key={s} value={s}>
                {TYPE_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.__('Waveband')}
          <select name="waveband" value={q.waveband} onChange={e => setQ({ ...q, waveband: e.target.value })}>
            <option value="">{t.__('any')}</option>
            {WAVEBANDS.map(w => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.__('Column UCD')}
          <input
            name="ucd"
            value={q.ucd}
            placeholder="phot.mag*"
            aria-invalid={ucdOk ? 'false' : 'true'}
            onChange={e => setQ({ ...q, ucd: e.target.value })}
            onKeyDown={onKey}
          />
        </label>
        <button
          className="jp-mod-styled jp-mod-accept jp-EsapRegistry-search"
          disabled={!!problem || busy}
          title={problem}
          onClick={() => void search()}
        >
          {t.__('Search the registry')}
        </button>
      </div>
      {problem && something && (
        <div className="jp-EsapSection-error" role="alert">
          {problem}
        </div>
      )}
      {busy && (
        <div className="jp-EsapSearch-progress" role="status">
          <progress className="jp-EsapProgress" aria-label={t.__('Searching the registry')} />
          <span className="jp-EsapSection-hint">{t.__('Searching the registry…')}</span>
        </div>
      )}
      {error && (
        <div className="jp-EsapSection-error jp-EsapRegistry-error" role="alert">
          {error}
        </div>
      )}
      {results && (
        <>
          <div className="jp-EsapSection-hint jp-EsapRegistry-count" role="status">
            {results.overflow
              ? t.__('The first %1 resources of %2 (narrow the search for the rest)', results.resources.length, results.registry)
              : t._n('%1 resource in %2', '%1 resources in %2', results.resources.length, results.registry)}
          </div>
          <ul className="jp-EsapRegistry-results">
            {results.resources.map(r => (
              <Resource
                key={r.ivoid}
                r={r}
                archives={archives}
                trans={t}
                onAdded={(res, a) => changed(res, a.id)}
                onRemoved={res => changed(res, null)}
              />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export class RegistryPanel extends ReactWidget {
  constructor(private _trans: TranslationBundle) {
    super();
    this.id = 'esap-lab-registry';
    this.title.label = _trans.__('Registry');
    this.title.caption = _trans.__('Find services in the IVOA registry');
    this.title.closable = true;
    this.addClass('jp-EsapRegistry');
  }

  render(): JSX.Element {
    return <RegistrySearch trans={this._trans} />;
  }
}
