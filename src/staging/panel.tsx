/**
 * The Staging section of the ESAP sidebar: transfers with progress bars, state chips, the rule's
 * locks in replica mode, cancel / remove, "open folder", and the per-file list on demand.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  caretDownIcon,
  caretRightIcon,
  downloadIcon,
  folderIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import {
  CancelOrRemoveButton,
  IconButton,
  ISectionProps,
  RefreshButton,
  SectionBody,
  SectionWidget
} from '../common/components';
import { formatBytes, IRucioInstance, isFinal, ITransfer, ITransferFile, TransferStatus } from './api';
import { StagingModel } from './model';

/** What the section's buttons do (commands of the plugin). */
export interface IStagingActions {
  /** Stage the basket's selection; undefined when there is no basket. */
  stageSelection?: (mode: 'download' | 'replica', instance: string | undefined) => void;
  cancel(id: string): void;
  remove(id: string): void;
  openFolder(id: string): void;
}

export const TRANSFER_CLASS = 'jp-EsapStaging-transfer';
export const TRANSFER_ID_ATTR = 'data-esap-transfer-id';

export function statusLabel(status: TransferStatus, t: TranslationBundle): string {
  switch (status) {
    case 'queued':
      return t.__('queued');
    case 'running':
      return t.__('running');
    case 'completed':
      return t.__('completed');
    case 'error':
      return t.__('error');
    default:
      return t.__('cancelled');
  }
}

function modeLabel(transfer: ITransfer, t: TranslationBundle): string {
  switch (transfer.mode) {
    case 'replica':
      return t.__('replica → %1', transfer.rule?.rse ?? '');
    case 'url':
      return t.__('download (URLs)');
    default:
      return t.__('download from %1', transfer.instance ?? '');
  }
}

function FileRow(props: { file: ITransferFile; trans: TranslationBundle }): JSX.Element {
  const { file: f, trans: t } = props;
  const fraction = f.bytes ? Math.min(1, f.bytes_done / f.bytes) : f.state === 'done' ? 1 : 0;
  return (
    <li className="jp-EsapStaging-file" title={[f.did ?? f.url, f.path, f.checksum, f.message].filter(Boolean).join('\n')}>
      <span className="jp-EsapStaging-fileName">{f.name}</span>
      <progress
        className="jp-EsapProgress jp-EsapStaging-fileProgress"
        value={fraction}
        max={1}
        aria-label={t.__('Progress of %1', f.name)}
      />
      <span className="jp-EsapChip" data-status={f.state === 'done' ? 'completed' : f.state}>
        {f.replica_state ?? f.state}
      </span>
    </li>
  );
}

function Transfer(props: {
  transfer: ITransfer;
  model: StagingModel;
  actions: IStagingActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { transfer: x, model, actions, trans: t } = props;
  const final = isFinal(x.status);
  const p = x.progress;
  const expanded = model.isExpanded(x.id);
  const sizes =
    p.bytes_total !== null
      ? t.__('%1 of %2', formatBytes(p.bytes_done), formatBytes(p.bytes_total))
      : formatBytes(p.bytes_done);
  const percent = Math.round(p.fraction * 100);
  return (
    <li className={`jp-EsapSection-entry ${TRANSFER_CLASS}`} {...{ [TRANSFER_ID_ATTR]: x.id }}>
      <div className="jp-EsapSection-line">
        <IconButton
          icon={expanded ? caretDownIcon : caretRightIcon}
          expanded={expanded}
          label={expanded ? t.__('Hide the files of %1', x.title) : t.__('Show the files of %1', x.title)}
          title={t.__('Files')}
          onClick={() => model.toggleFiles(x.id)}
        />
        <span className="jp-EsapSection-title jp-EsapStaging-title" title={[...x.dids, ...x.urls].join('\n')}>
          {x.title}
        </span>
        <span className="jp-EsapChip" data-status={x.status}>
          {statusLabel(x.status, t)}
        </span>
      </div>
      <progress
        className="jp-EsapProgress"
        value={p.fraction}
        max={1}
        aria-label={t.__('Progress of %1: %2 percent', x.title, percent)}
      />
      <div className="jp-EsapSection-line jp-EsapSection-meta">
        <span>{modeLabel(x, t)}</span>
        <span aria-live={final ? undefined : 'polite'}>
          {t.__('%1/%2 files, %3 (%4%)', p.files_done, p.files_total, sizes, percent)}
        </span>
        <span className="jp-EsapSection-entryActions">
          {x.destination && (
            <IconButton
              icon={folderIcon}
              label={t.__('Open the folder of %1 in the file browser', x.title)}
              title={t.__('Open the folder in the file browser')}
              onClick={() => actions.openFolder(x.id)}
            />
          )}
          <CancelOrRemoveButton
            final={final}
            name={x.title}
            removeTitle={t.__('Remove from the list (the files stay)')}
            cancelTitle={t.__('Cancel: stops the download and removes partial files')}
            onRemove={() => actions.remove(x.id)}
            onCancel={() => actions.cancel(x.id)}
            trans={t}
          />
        </span>
      </div>
      {x.rule && (
        <div className="jp-EsapSection-line jp-EsapSection-meta">
          <span className="jp-EsapChip" data-status={x.rule.state === 'OK' ? 'completed' : x.rule.state === 'STUCK' ? 'error' : 'running'}>
            {t.__('rule %1', x.rule.state)}
          </span>
          <span>
            {t.__('locks: %1 OK, %2 replicating, %3 stuck', x.rule.locks_ok, x.rule.locks_replicating, x.rule.locks_stuck)}
          </span>
        </div>
      )}
      {x.message && <div className="jp-EsapSection-message">{x.message}</div>}
      {expanded && (
        <ul className="jp-EsapStaging-files" aria-label={t.__('Files of %1', x.title)}>
          {x.files.map(f => (
            <FileRow key={f.did ?? f.url ?? f.name} file={f} trans={t} />
          ))}
        </ul>
      )}
    </li>
  );
}

function StageControls(props: {
  instances: readonly IRucioInstance[];
  stage: (mode: 'download' | 'replica', instance: string | undefined) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { instances, trans: t } = props;
  const [mode, setMode] = React.useState<'download' | 'replica'>('download');
  const [instance, setInstance] = React.useState<string>('');
  const chosen = instances.find(i => i.name === instance) ?? (instances.length === 1 ? instances[0] : undefined);
  const replicaOk = chosen ? chosen.replica_mode : instances.some(i => i.replica_mode);
  return (
    <div className="jp-EsapSection-row jp-EsapStaging-stage">
      <select
        aria-label={t.__('Staging mode')}
        title={t.__('Download: copies into a folder of this session. Replica: a Rucio rule to the storage mounted here.')}
        value={mode}
        onChange={e => setMode(e.target.value as 'download' | 'replica')}
      >
        <option value="download">{t.__('Download')}</option>
        <option value="replica" disabled={!replicaOk}>
          {t.__('Replica (rule)')}
        </option>
      </select>
      {instances.length > 1 && (
        <select aria-label={t.__('Rucio instance')} value={instance} onChange={e => setInstance(e.target.value)}>
          <option value="">{t.__('instance of each item')}</option>
          {instances.map(i => (
            <option key={i.name} value={i.name}>
              {i.title}
            </option>
          ))}
        </select>
      )}
      <Button
        small
        minimal
        className="jp-EsapStaging-stageButton"
        aria-label={t.__('Stage the items selected in the basket')}
        title={t.__('Stage the items selected in the basket')}
        onClick={() => props.stage(mode, instance || undefined)}
      >
        <downloadIcon.react tag="span" /> {t.__('Stage selection')}
      </Button>
    </div>
  );
}

/** Where a download goes: the user's Download folder setting, else the server's defaults. */
function DownloadFolder(props: { model: StagingModel; trans: TranslationBundle }): JSX.Element {
  const { model, trans: t } = props;
  const folder = model.downloadFolder;
  const rucio = model.instances.length === 1 ? model.instances[0].download_folder : '';
  const text = folder
    ? t.__('Downloads go to %1/ (a folder per dataset or query).', folder)
    : rucio
      ? t.__('Downloads go to %1/ (Rucio data) and downloads/ (files by URL).', rucio)
      : t.__('Downloads go to the server\'s download folders.');
  return (
    <div
      className="jp-EsapSection-hint jp-EsapStaging-folder"
      title={t.__('Change it in Settings → ESAP → Download folder')}
    >
      {text}
    </div>
  );
}

function Staging(props: ISectionProps<StagingModel, IStagingActions>): JSX.Element {
  const { model, actions, trans: t } = props;
  const transfers = model.transfers;
  const active = transfers.filter(x => !isFinal(x.status)).length;
  const tools = (
    <>
      {actions.stageSelection && (
        <StageControls instances={model.instances} stage={actions.stageSelection} trans={t} />
      )}
      <RefreshButton
        label={t.__('Refresh the transfer list')}
        title={t.__('Read the transfer list again')}
        onClick={() => model.poke()}
      />
    </>
  );
  return (
    <SectionBody
      className="jp-EsapStaging-body"
      toolbarLabel={t.__('Staging actions')}
      tools={tools}
      model={model}
      empty={!transfers.length}
      emptyHint={t.__('Nothing staged yet. Select DIDs or files in the basket and press "Stage selection".')}
    >
      <DownloadFolder model={model} trans={t} />
      {transfers.length > 0 && (
        <div className="jp-EsapSection-hint" aria-live="polite">
          {t._n('%1 transfer, %2 active', '%1 transfers, %2 active', transfers.length, active)}
        </div>
      )}
      <ul className="jp-EsapSection-list" aria-label={t.__('Transfers')}>
        {transfers.map(x => (
          <Transfer key={x.id} transfer={x} model={model} actions={actions} trans={t} />
        ))}
      </ul>
    </SectionBody>
  );
}

export class StagingSection extends SectionWidget<StagingModel, IStagingActions> {
  constructor(model: StagingModel, actions: IStagingActions, trans: TranslationBundle) {
    super({
      id: 'esap-lab-staging',
      className: 'jp-EsapStaging',
      label: trans.__('Staging'),
      caption: trans.__('Data brought into reach: Rucio downloads and replicas, files by URL'),
      body: Staging,
      model,
      actions,
      trans
    });
  }
}
