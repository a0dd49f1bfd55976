/**
 * The Jobs section of the ESAP sidebar (status chips, times, backend, actions), and the log
 * viewer that opens in the main area.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  notebookIcon,
  refreshIcon,
  runIcon,
  textEditorIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import {
  CancelOrRemoveButton,
  ErrorAlert,
  IconButton,
  ISectionProps,
  RefreshButton,
  SectionBody,
  SectionWidget
} from '../common/components';
import { IJob, IJobLog, isFinal, JobStatus } from './api';
import { JobsModel } from './model';

/** What the section's buttons do (commands of the plugin). */
export interface IJobActions {
  submit(): void;
  cancel(id: string): void;
  remove(id: string): void;
  resubmit(id: string): void;
  showLog(id: string): void;
  openOutput(id: string): void;
}

export const JOB_CLASS = 'jp-EsapJobs-job';
export const JOB_ID_ATTR = 'data-esap-job-id';

export function statusLabel(status: JobStatus, t: TranslationBundle): string {
  switch (status) {
    case 'queued':
      return t.__('queued');
    case 'waiting-for-data':
      return t.__('waiting for data');
    case 'running':
      return t.__('running');
    case 'completed':
      return t.__('completed');
    case 'failed':
      return t.__('failed');
    default:
      return t.__('cancelled');
  }
}

export function duration(from: string | null, to: string | null): string {
  if (!from) {
    return '';
  }
  const s = Math.max(0, Math.round(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function describeJob(job: IJob, t: TranslationBundle): string {
  const lines = [
    job.notebook,
    t.__('Backend: %1 (%2)', job.backend, job.backend_type),
    job.native_id ? t.__('Batch id: %1', job.native_id) : '',
    job.native_state ? t.__('Batch state: %1', job.native_state) : '',
    t.__('Submitted %1', new Date(job.created).toLocaleString()),
    job.finished ? t.__('Ended %1', new Date(job.finished).toLocaleString()) : '',
    Object.keys(job.parameters).length ? t.__('Parameters: %1', JSON.stringify(job.parameters)) : '',
    job.message ?? ''
  ];
  return lines.filter(Boolean).join('\n');
}

function Job(props: { job: IJob; actions: IJobActions; trans: TranslationBundle; same: boolean }): JSX.Element {
  const { job, actions, trans: t } = props;
  const final = isFinal(job.status);
  const submitted = new Date(job.created);
  const today = submitted.toDateString() === new Date().toDateString();
  const when = today ? submitted.toLocaleTimeString() : submitted.toLocaleString();
  const time = job.started
    ? t.__('submitted %1, ran %2', when, duration(job.started, job.finished))
    : t.__('submitted %1', when);
  return (
    <li className={`jp-EsapSection-entry ${JOB_CLASS}`} {...{ [JOB_ID_ATTR]: job.id }} title={describeJob(job, t)}>
      <div className="jp-EsapSection-line">
        <span className="jp-EsapSection-title">
          {job.name}
          {props.same && <span className="jp-EsapJobs-id">{` #${job.native_id ?? job.id.slice(0, 6)}`}</span>}
        </span>
        <span className="jp-EsapChip" data-status={job.status}>
          {statusLabel(job.status, t)}
        </span>
      </div>
      <div className="jp-EsapSection-line jp-EsapSection-meta">
        <span className="jp-EsapJobs-backend">{job.backend}</span>
        <span className="jp-EsapJobs-when">{time}</span>
        {Object.keys(job.parameters).length > 0 && (
          <span className="jp-EsapJobs-params">
            {Object.entries(job.parameters)
              .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
              .join(' ')}
          </span>
        )}
        <span className="jp-EsapSection-entryActions">
          {job.output && (
            <IconButton
              icon={notebookIcon}
              label={t.__('Open the output notebook of %1', job.name)}
              title={t.__('Open the executed notebook')}
              onClick={() => actions.openOutput(job.id)}
            />
          )}
          <IconButton
            icon={textEditorIcon}
            label={t.__('Show the log of %1', job.name)}
            title={t.__('Show the log')}
            onClick={() => actions.showLog(job.id)}
          />
          <IconButton
            icon={runIcon}
            label={t.__('Resubmit %1', job.name)}
            title={t.__('Submit again with the same parameters')}
            onClick={() => actions.resubmit(job.id)}
          />
          <CancelOrRemoveButton
            final={final}
            name={job.name}
            removeTitle={t.__('Remove from the list (its files stay)')}
            cancelTitle={t.__('Cancel the job')}
            onRemove={() => actions.remove(job.id)}
            onCancel={() => actions.cancel(job.id)}
            trans={t}
          />
        </span>
      </div>
      {job.message && job.status !== 'completed' && <div className="jp-EsapSection-message">{job.message}</div>}
    </li>
  );
}

function Jobs(props: ISectionProps<JobsModel, IJobActions>): JSX.Element {
  const { model, actions, trans: t } = props;
  const jobs = model.jobs;
  const active = jobs.filter(j => !isFinal(j.status)).length;
  const tools = (
    <>
      <Button
        minimal
        small
        aria-label={t.__('Submit the active notebook as a batch job')}
        title={t.__('Submit the active notebook as a batch job')}
        onClick={() => actions.submit()}
      >
        <runIcon.react tag="span" /> {t.__('Submit…')}
      </Button>
      <RefreshButton
        label={t.__('Refresh the job list')}
        title={t.__('Read the job list again')}
        onClick={() => model.poke()}
      />
    </>
  );
  return (
    <SectionBody
      className="jp-EsapJobs-body"
      toolbarLabel={t.__('Job actions')}
      tools={tools}
      model={model}
      empty={!jobs.length}
      emptyHint={t.__('No jobs yet. Open a notebook and choose "Submit as batch job" in its toolbar.')}
    >
      {jobs.length > 0 && (
        <div className="jp-EsapSection-hint" aria-live="polite">
          {active
            ? t._n('%1 job, %2 active', '%1 jobs, %2 active', jobs.length, active)
            : t._n('%1 job', '%1 jobs', jobs.length)}
        </div>
      )}
      <ul className="jp-EsapSection-list" aria-label={t.__('Batch jobs')}>
        {jobs.map(job => (
          <Job
            key={job.id}
            job={job}
            actions={actions}
            trans={t}
            same={jobs.some(o => o !== job && o.name === job.name)}
          />
        ))}
      </ul>
    </SectionBody>
  );
}

export class JobsSection extends SectionWidget<JobsModel, IJobActions> {
  constructor(model: JobsModel, actions: IJobActions, trans: TranslationBundle) {
    super({
      id: 'esap-lab-jobs',
      className: 'jp-EsapJobs',
      label: trans.__('Jobs'),
      caption: trans.__('Notebooks running as batch jobs: local, Slurm, DIRAC'),
      body: Jobs,
      model,
      actions,
      trans
    });
  }
}

/** A job's log: its state changes, standard output and standard error. */
export class JobLogView extends ReactWidget {
  constructor(
    readonly jobId: string,
    private _load: () => Promise<IJobLog>,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-EsapJobs-log');
    void this.reload();
  }

  async reload(): Promise<void> {
    try {
      this._log = await this._load();
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this.update();
  }

  render(): JSX.Element {
    const t = this._trans;
    const log = this._log;
    return (
      <div className="jp-EsapJobs-logBody">
        <div className="jp-EsapSection-actions" role="toolbar" aria-label={t.__('Log actions')}>
          <Button minimal small aria-label={t.__('Reload the log')} onClick={() => void this.reload()}>
            <refreshIcon.react tag="span" /> {t.__('Reload')}
          </Button>
          {log && (
            <span className="jp-EsapChip" data-status={log.status}>
              {statusLabel(log.status, t)}
            </span>
          )}
        </div>
        <ErrorAlert message={this._error} />
        {log && (
          <>
            <h3>{t.__('State changes')}</h3>
            <ul className="jp-EsapJobs-events">
              {log.events.map((e, i) => (
                <li key={i}>
                  {new Date(e.time).toLocaleTimeString()} <span className="jp-EsapChip" data-status={e.status}>
                    {statusLabel(e.status, t)}
                  </span>{' '}
                  {e.native_state ?? ''}
                </li>
              ))}
            </ul>
            <h3>{t.__('Standard output')}</h3>
            <pre aria-label={t.__('Standard output')}>{log.stdout || t.__('(empty)')}</pre>
            <h3>{t.__('Standard error')}</h3>
            <pre aria-label={t.__('Standard error')}>{log.stderr || t.__('(empty)')}</pre>
          </>
        )}
      </div>
    );
  }

  private _log: IJobLog | null = null;
  private _error = '';
}
