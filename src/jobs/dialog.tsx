/**
 * The "Submit as batch job" dialog body: backend (with its state), the notebook's parameters,
 * resources, the basket selection, and "start when staged".
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import React from 'react';

import { IBackend, IResources, ISubmitRequest, ITransferSummary, ResourceName } from './api';
import { changedParameters, INotebookParameter, parameterProblem } from './params';

export interface ISubmitOptions {
  notebook: string;
  parameters: INotebookParameter[];
  backends: readonly IBackend[];
  basketSelection: string[];
  transfers: ITransferSummary[];
  /** What the user chose last time (backend, resources). */
  previous?: { backend?: string; resources?: IResources };
  trans: TranslationBundle;
}

interface IFormState {
  backend: string;
  values: Record<string, string>;
  cpus: string;
  memory: string;
  walltime: string;
  partition: string;
  passBasket: boolean;
  waitFor: Set<string>;
}

const WALLTIME = /^(\d+|(\d+-)?\d{1,3}:\d{2}(:\d{2})?)$/;

function backendLabel(b: IBackend, t: TranslationBundle): string {
  const state =
    b.available === true
      ? t.__('available')
      : b.available === false
        ? t.__('unavailable')
        : t.__('not checked');
  return t.__('%1 — %2 (%3)', b.name, b.title, state);
}

export class SubmitForm extends ReactWidget implements Dialog.IBodyWidget<ISubmitRequest> {
  constructor(private _options: ISubmitOptions) {
    super();
    this.addClass('jp-EsapJobs-dialog');
    const { backends, previous, parameters } = _options;
    const usable = backends.filter(b => b.available !== false);
    const chosen =
      backends.find(b => b.name === previous?.backend && b.available !== false) ??
      usable.find(b => b.default) ??
      usable[0] ??
      backends[0];
    const r = previous?.resources ?? {};
    this._state = {
      backend: chosen?.name ?? '',
      values: Object.fromEntries(parameters.map(p => [p.name, p.literal])),
      cpus: r.cpus ? String(r.cpus) : '',
      memory: r.memory ? String(r.memory) : '',
      walltime: r.walltime ?? '',
      partition: r.partition ?? '',
      // esap_basket goes only to a notebook that declares it (papermill warns of the others)
      passBasket: _options.basketSelection.length > 0 && this.declaresBasket,
      waitFor: new Set()
    };
  }

  /** Does the parameters cell declare esap_basket? */
  get declaresBasket(): boolean {
    return this._options.parameters.some(p => p.name === 'esap_basket');
  }

  /** The backend chosen now. */
  get backend(): IBackend | undefined {
    return this._options.backends.find(b => b.name === this._state.backend);
  }

  /** What is wrong with the form ('' when it can be sent). */
  problem(): string {
    const t = this._options.trans;
    const s = this._state;
    if (!this.backend) {
      return t.__('Choose a backend.');
    }
    if (this.backend.available === false) {
      return t.__('Backend %1 is unavailable: choose another.', this.backend.name);
    }
    for (const p of this._options.parameters) {
      const problem = parameterProblem(p, s.values[p.name] ?? p.literal);
      if (problem) {
        return problem;
      }
    }
    if (s.cpus && !(Number.isInteger(Number(s.cpus)) && Number(s.cpus) >= 1)) {
      return t.__('CPUs must be a whole number of at least 1.');
    }
    if (s.memory && !(Number.isInteger(Number(s.memory)) && Number(s.memory) >= 1)) {
      return t.__('Memory is a whole number of MB.');
    }
    if (s.walltime && !WALLTIME.test(s.walltime.trim())) {
      return t.__('Wall time is minutes, HH:MM, HH:MM:SS or D-HH:MM:SS.');
    }
    return '';
  }

  getValue(): ISubmitRequest {
    const s = this._state;
    const supports = (r: ResourceName) => this.backend?.resources.includes(r) ?? false;
    const resources: IResources = {};
    if (s.cpus && supports('cpus')) {
      resources.cpus = Number(s.cpus);
    }
    if (s.memory && supports('memory')) {
      resources.memory = Number(s.memory);
    }
    if (s.walltime && supports('walltime')) {
      resources.walltime = s.walltime.trim();
    }
    if (s.partition && supports('partition')) {
      resources.partition = s.partition;
    }
    const request: ISubmitRequest = {
      notebook: this._options.notebook,
      backend: s.backend,
      parameters: changedParameters(this._options.parameters, s.values),
      resources
    };
    if (s.passBasket && this.declaresBasket && this._options.basketSelection.length) {
      request.basket = [...this._options.basketSelection];
    }
    if (s.waitFor.size) {
      request.wait_for = [...s.waitFor];
    }
    return request;
  }

  /** The dialog's Submit button stays disabled while the form has a problem. */
  protected onUpdateRequest(msg: Message): void {
    super.onUpdateRequest(msg);
    this._syncAccept();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    window.requestAnimationFrame(() => this._syncAccept());
  }

  private _syncAccept(): void {
    const accept = this.node.closest('.jp-Dialog-content')?.querySelector<HTMLButtonElement>('button.jp-mod-accept');
    if (accept) {
      accept.disabled = !!this.problem();
    }
  }

  private _set(change: Partial<IFormState>): void {
    Object.assign(this._state, change);
    this.update();
  }

  render(): JSX.Element {
    const t = this._options.trans;
    const s = this._state;
    const { backends, parameters, basketSelection, transfers, notebook } = this._options;
    const backend = this.backend;
    const supports = (r: ResourceName) => backend?.resources.includes(r) ?? false;
    const problem = this.problem();
    return (
      <form className="jp-EsapSection jp-EsapJobs-form" onSubmit={e => e.preventDefault()}>
        <div className="jp-EsapSection-hint">{t.__('Notebook: %1 (saved before it is sent)', notebook)}</div>
        <label>
          {t.__('Backend')}
          <select
            aria-label={t.__('Batch backend')}
            value={s.backend}
            onChange={e => this._set({ backend: e.currentTarget.value, partition: '' })}
          >
            {backends.map(b => (
              <option key={b.name} value={b.name} disabled={b.available === false}>
                {backendLabel(b, t)}
              </option>
            ))}
          </select>
        </label>
        {backend?.available === false && (
          <div className="jp-EsapSection-error" role="alert">
            {backend.message ?? t.__('This backend cannot take jobs now.')}
          </div>
        )}
        <fieldset className="jp-EsapJobs-fieldset">
          <legend>{t.__('Parameters')}</legend>
          {parameters.length === 0 ? (
            <div className="jp-EsapSection-hint">
              {t.__('This notebook has no cell tagged "parameters": it runs as it is.')}
            </div>
          ) : (
            parameters.map(p =>
              p.name === 'esap_basket' && s.passBasket ? (
                // the basket items chosen under Data are what the notebook gets: no value to type here
                <label key={p.name} title={p.comment ?? ''}>
                  <code>{p.name}</code>
                  <input
                    type="text"
                    className="jp-EsapJobs-basketParam"
                    disabled
                    aria-label={t.__('Value of parameter %1 (a Python literal)', p.name)}
                    value={t._n(
                      'the %1 selected basket item (see Data)',
                      'the %1 selected basket items (see Data)',
                      basketSelection.length
                    )}
                  />
                </label>
              ) : (
              <label key={p.name} title={p.comment ?? ''}>
                <code>{p.name}</code>
                {p.annotation ? <span className="jp-EsapJobs-annotation">{`: ${p.annotation}`}</span> : null}
                <input
                  type="text"
                  aria-invalid={parameterProblem(p, s.values[p.name] ?? p.literal) ? 'true' : 'false'}
                  title={parameterProblem(p, s.values[p.name] ?? p.literal)}
                  aria-label={t.__('Value of parameter %1 (a Python literal)', p.name)}
                  value={s.values[p.name] ?? ''}
                  spellCheck={false}
                  onChange={e => this._set({ values: { ...s.values, [p.name]: e.currentTarget.value } })}
                />
              </label>
              )
            )
          )}
        </fieldset>
        <fieldset className="jp-EsapJobs-fieldset">
          <legend>{t.__('Resources')}</legend>
          <div className="jp-EsapSection-row">
            <label>
              {t.__('CPUs')}
              <input
                type="number"
                min={1}
                aria-label={t.__('CPU cores')}
                disabled={!supports('cpus')}
                value={s.cpus}
                onChange={e => this._set({ cpus: e.currentTarget.value })}
              />
            </label>
            <label>
              {t.__('Memory (MB)')}
              <input
                type="number"
                min={1}
                aria-label={t.__('Memory in MB')}
                disabled={!supports('memory')}
                value={s.memory}
                onChange={e => this._set({ memory: e.currentTarget.value })}
              />
            </label>
          </div>
          <div className="jp-EsapSection-row">
            <label>
              {t.__('Wall time')}
              <input
                type="text"
                placeholder={t.__('e.g. 30 or 01:00:00')}
                aria-label={t.__('Wall time: minutes or HH:MM:SS')}
                aria-invalid={!!s.walltime && !WALLTIME.test(s.walltime.trim())}
                disabled={!supports('walltime')}
                value={s.walltime}
                onChange={e => this._set({ walltime: e.currentTarget.value })}
              />
            </label>
            <label>
              {t.__('Partition / queue')}
              <select
                aria-label={t.__('Partition or queue')}
                disabled={!supports('partition')}
                value={s.partition}
                onChange={e => this._set({ partition: e.currentTarget.value })}
              >
                <option value="">{t.__('default')}</option>
                {(backend?.partitions ?? []).map(p => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </fieldset>
        <fieldset className="jp-EsapJobs-fieldset">
          <legend>{t.__('Data')}</legend>
          <label className="jp-EsapJobs-check">
            <input
              type="checkbox"
              disabled={!basketSelection.length || !this.declaresBasket}
              checked={s.passBasket}
              onChange={e => this._set({ passBasket: e.currentTarget.checked })}
            />
            {basketSelection.length
              ? t._n(
                  'Pass the %1 selected basket item (parameter esap_basket)',
                  'Pass the %1 selected basket items (parameter esap_basket)',
                  basketSelection.length
                )
              : t.__('No basket items selected (select some in the Basket section to pass them)')}
          </label>
          {basketSelection.length > 0 && !this.declaresBasket && (
            <div className="jp-EsapSection-hint jp-EsapJobs-noBasket">
              {t.__('To receive basket items, declare esap_basket = [] in the cell tagged "parameters".')}
            </div>
          )}
          {transfers.length > 0 ? (
            <div role="group" aria-label={t.__('Start when staged')}>
              <div className="jp-EsapSection-hint">{t.__('Start when these transfers have completed:')}</div>
              {transfers.map(tr => (
                <label key={tr.id} className="jp-EsapJobs-check">
                  <input
                    type="checkbox"
                    checked={s.waitFor.has(tr.id)}
                    onChange={e => {
                      const next = new Set(s.waitFor);
                      if (e.currentTarget.checked) {
                        next.add(tr.id);
                      } else {
                        next.delete(tr.id);
                      }
                      this._set({ waitFor: next });
                    }}
                  />
                  {tr.title} <span className="jp-EsapChip" data-status={tr.status}>{tr.status}</span>
                </label>
              ))}
            </div>
          ) : (
            <div className="jp-EsapSection-hint">{t.__('No transfer is being staged: the job starts at once.')}</div>
          )}
        </fieldset>
        {problem && (
          <div className="jp-EsapSection-error" role="alert">
            {problem}
          </div>
        )}
      </form>
    );
  }

  private _state: IFormState;
}
