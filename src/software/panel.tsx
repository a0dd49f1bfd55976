/**
 * The Software step of the ESAP sidebar: a search of the OSSR, the records that fit the basket
 * (each says why), and each record as a card: codemeta metadata, DOI, Open here, Run with my
 * basket, Add to basket.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, searchIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { ErrorAlert, ISectionProps, RefreshButton, SectionWidget } from '../common/components';
import { formatBytes } from '../common/format';
import { ISoftwareRecord } from './api';
import { SoftwareModel } from './model';

export interface ISoftwareActions {
  openHere(rec: ISoftwareRecord): void;
  run(rec: ISoftwareRecord): void;
  addToBasket(rec: ISoftwareRecord): void;
  cancelOpen(rec: ISoftwareRecord): void;
}

function statusText(rec: ISoftwareRecord, t: TranslationBundle): [string, string] {
  switch (rec.codemeta_status) {
    case 'ok':
      return [t.__('codemeta'), t.__('Described by its codemeta.json')];
    case 'partial':
      return [t.__('codemeta: partial'), rec.codemeta_problems.join('\n')];
    case 'invalid':
      return [t.__('codemeta: invalid'), rec.codemeta_problems.join('\n') || t.__("Zenodo's metadata shown")];
    case 'missing':
      return [t.__('no codemeta'), t.__("No codemeta.json in the record: Zenodo's metadata shown")];
    default:
      return [t.__('codemeta: unavailable'), t.__('codemeta.json could not be fetched now')];
  }
}

function Card(props: {
  rec: ISoftwareRecord;
  why?: string;
  model: SoftwareModel;
  actions: ISoftwareActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { rec, why, model, actions, trans: t } = props;
  const [status, statusTitle] = statusText(rec, t);
  const opening = model.opening(rec.id);
  const busy = model.working.has(rec.id) || !!opening;
  const langs = [...new Set([...rec.programming_language, ...rec.runtime_platform])];
  return (
    <li className="jp-EsapSoftware-card" data-record={rec.id} aria-busy={busy}>
      <div className="jp-EsapSoftware-head">
        <span className="jp-EsapSection-title">{rec.name}</span>
        {rec.version && <span className="jp-EsapChip">{rec.version}</span>}
        <span className={`jp-EsapChip jp-EsapSoftware-status jp-mod-${rec.codemeta_status}`} title={statusTitle}>
          {status}
        </span>
      </div>
      {why && (
        <div className="jp-EsapSoftware-why">
          {t.__('Fits your basket: %1', why)}
        </div>
      )}
      {rec.description && <div className="jp-EsapSoftware-description">{rec.description}</div>}
      <dl className="jp-EsapSoftware-meta">
        {rec.license && (<><dt>{t.__('License')}</dt><dd>{rec.license}</dd></>)}
        {langs.length > 0 && (<><dt>{t.__('Languages')}</dt><dd>{langs.join(', ')}</dd></>)}
        {rec.authors.length > 0 && (<><dt>{t.__('Authors')}</dt><dd>{rec.authors.join('; ')}</dd></>)}
        {rec.doi && (
          <>
            <dt>{t.__('DOI')}</dt>
            <dd>
              <a href={`https://doi.org/${rec.doi}`} target="_blank" rel="noopener noreferrer">{rec.doi}</a>
            </dd>
          </>
        )}
      </dl>
      {rec.keywords.length > 0 && (
        <div className="jp-EsapSoftware-keywords" aria-label={t.__('Keywords')}>
          {rec.keywords.map(k => (
            <span key={k} className="jp-EsapChip">{k}</span>
          ))}
        </div>
      )}
      {opening && (
        <div className="jp-EsapSoftware-opening" role="status">
          <progress className="jp-EsapSoftware-progress" max={1} value={opening.progress}
            aria-label={t.__('Opening %1', rec.name)} />
          <span className="jp-EsapSoftware-openMessage">
            {opening.bytes_total
              ? t.__('%1 of %2', formatBytes(opening.bytes_done), formatBytes(opening.bytes_total))
              : opening.message ?? t.__('Waiting for the OSSR…')}
          </span>
          <button className="jp-mod-styled jp-mod-warn jp-EsapSoftware-cancel"
            title={t.__('Stop the download; nothing is kept')} onClick={() => actions.cancelOpen(rec)}>
            {t.__('Cancel')}
          </button>
        </div>
      )}
      <div className="jp-EsapSoftware-actions">
        <button className="jp-mod-styled jp-mod-accept jp-EsapSoftware-open" disabled={busy}
          title={t.__('Download the record into the workspace (checksums verified) and open its README or notebook')}
          onClick={() => actions.openHere(rec)}>
          {t.__('Open here')}
        </button>
        <button className="jp-mod-styled jp-mod-reject jp-EsapSoftware-run" disabled={busy}
          title={t.__('Submit its notebook as a batch job with the basket as esap_basket')}
          onClick={() => actions.run(rec)}>
          {t.__('Run with my basket')}
        </button>
        <button className="jp-mod-styled jp-mod-reject jp-EsapSoftware-add"
          title={t.__('Add the record to the basket (kind software)')} onClick={() => actions.addToBasket(rec)}>
          {t.__('Add to basket')}
        </button>
      </div>
    </li>
  );
}

function Software(props: ISectionProps<SoftwareModel, ISoftwareActions>): JSX.Element {
  const { model, actions, trans: t } = props;
  const [query, setQuery] = React.useState(model.query);
  const page = model.page;
  const submit = (e?: React.FormEvent) => {
    e?.preventDefault();
    void model.search(query);
  };
  return (
    <div className="jp-EsapSection-body jp-EsapSoftware-body">
      <form className="jp-EsapSection-actions jp-EsapSection-toolbar jp-EsapSoftware-search" role="search" onSubmit={submit}>
        <input className="jp-mod-styled" name="q" value={query} placeholder={t.__('Keywords, e.g. spectra CTA')}
          aria-label={t.__('Search the OSSR')} onChange={e => setQuery(e.currentTarget.value)} />
        <Button small type="submit" className="jp-EsapSoftware-go" aria-label={t.__('Search the OSSR')}
          title={t.__('Search the OSSR (software with codemeta.json)')} disabled={model.busy}>
          <searchIcon.react tag="span" /> {t.__('Search')}
        </Button>
      </form>
      <section className="jp-EsapSoftware-suggestions">
        <h3 className="jp-EsapBasket-groupTitle">
          {t.__('Fits your basket')}
          <RefreshButton label={t.__('Suggest again')} title={t.__('Match the basket against the OSSR again')}
            onClick={() => void model.suggest()} />
        </h3>
        <ErrorAlert message={model.suggestError} />
        {!model.suggestError && model.suggestions.length === 0 && (
          <div className="jp-EsapSection-hint">
            {t.__('Nothing yet: records are suggested from what the basket holds (archives, data product types, UCDs, DID scopes).')}
          </div>
        )}
        <ul className="jp-EsapSection-list">
          {model.suggestions.map(s => (
            <Card key={s.record.id} rec={s.record} why={s.why} model={model} actions={actions} trans={t} />
          ))}
        </ul>
      </section>
      {(page || model.error) && (
        <section className="jp-EsapSoftware-results">
          <h3 className="jp-EsapBasket-groupTitle">
            {page ? t._n('%1 record for “%2” in %3', '%1 records for “%2” in %3', page.total, page.q, page.community) : t.__('Search')}
          </h3>
          <ErrorAlert message={model.error} />
          {page && (
            <>
              <ul className="jp-EsapSection-list">
                {page.records.map(rec => (
                  <Card key={rec.id} rec={rec} model={model} actions={actions} trans={t} />
                ))}
              </ul>
              <div className="jp-EsapSoftware-pager">
                <button className="jp-mod-styled jp-mod-reject" disabled={page.page <= 1 || model.busy}
                  onClick={() => void model.search(page.q, page.page - 1)}>{t.__('Previous')}</button>
                <span className="jp-EsapSection-hint">{t.__('page %1', page.page)}</span>
                <button className="jp-mod-styled jp-mod-reject" disabled={!page.next_page || model.busy}
                  onClick={() => void model.search(page.q, page.next_page ?? page.page)}>{t.__('Next')}</button>
              </div>
            </>
          )}
        </section>
      )}
    </div>
  );
}

export class SoftwareSection extends SectionWidget<SoftwareModel, ISoftwareActions> {
  constructor(model: SoftwareModel, actions: ISoftwareActions, trans: TranslationBundle) {
    super({
      id: 'esap-lab-software',
      className: 'jp-EsapSoftware',
      label: trans.__('Software'),
      caption: trans.__('Software from the OSSR that fits your data'),
      body: Software,
      model,
      actions,
      trans
    });
  }
}
