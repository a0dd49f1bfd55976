/**
 * The Tables step of the ESAP sidebar: my tables grouped by project, each with open, rename,
 * export and delete; the SQL console, a crossmatch and a file import for the whole list.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  deleteIcon,
  editIcon,
  fileUploadIcon,
  launchIcon,
  tableRowsIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import { IconButton, ISectionProps, RefreshButton, SectionBody, SectionWidget } from '../common/components';
import { formatBytes } from '../common/format';
import { FORMATS, ITableInfo, TableFormat } from './api';
import { TablesModel } from './model';

/** What the step's buttons do (commands of the plugin). */
export interface ITablesActions {
  open(id: string): void;
  rename(id: string): void;
  remove(id: string): void;
  exportTable(id: string, format: TableFormat): void;
  console(): void;
  crossmatch(): void;
  importFile(): void;
}

export const TABLE_CLASS = 'jp-EsapTables-item';
export const TABLE_ID_ATTR = 'data-esap-table-id';

/** A tooltip: size, provenance, columns. */
function describeTable(table: ITableInfo, t: TranslationBundle): string {
  const p = table.provenance;
  const from =
    p.kind === 'query'
      ? t.__('from a query on %1', String(p.archive ?? ''))
      : p.kind === 'file'
        ? t.__('from the file %1', String(p.path ?? ''))
        : p.kind === 'sql' || p.kind === 'crossmatch'
          ? t.__('from %1 over %2', p.kind, ((p.inputs as string[]) ?? []).join(', '))
          : t.__('from %1', p.kind);
  return [
    table.name,
    table.description,
    t.__('%1 rows, %2 columns, %3', table.row_count, table.columns.length, formatBytes(table.bytes)),
    from,
    t.__('Columns: %1', table.columns.map(c => c.name).join(', '))
  ]
    .filter(Boolean)
    .join('\n');
}

function Table(props: { table: ITableInfo; actions: ITablesActions; trans: TranslationBundle }): JSX.Element {
  const { table, actions, trans: t } = props;
  return (
    <li className={TABLE_CLASS} {...{ [TABLE_ID_ATTR]: table.id }} title={describeTable(table, t)}>
      <button className="jp-EsapTables-name jp-Button jp-mod-minimal" aria-label={t.__('Open %1', table.name)}
        onClick={() => actions.open(table.id)}>
        {table.name}
      </button>
      <span className="jp-EsapChip">{t._n('%1 row', '%1 rows', table.row_count)}</span>
      <select className="jp-EsapTables-export" aria-label={t.__('Export %1 as', table.name)}
        title={t.__('Download the table in a format')} value=""
        onChange={e => {
          const format = e.currentTarget.value as TableFormat;
          if (format) {
            actions.exportTable(table.id, format);
          }
        }}>
        <option value="">{t.__('Export…')}</option>
        {FORMATS.map(f => (
          <option key={f} value={f}>{f}</option>
        ))}
      </select>
      <IconButton icon={editIcon} label={t.__('Rename %1', table.name)} title={t.__('Rename the table')}
        onClick={() => actions.rename(table.id)} />
      <IconButton icon={deleteIcon} label={t.__('Delete %1', table.name)} title={t.__('Delete the table')}
        onClick={() => actions.remove(table.id)} />
    </li>
  );
}

function Tables(props: ISectionProps<TablesModel, ITablesActions>): JSX.Element {
  const { model, actions, trans: t } = props;
  const tools = (
    <>
      <Button minimal small className="jp-EsapTables-console" aria-label={t.__('Open the SQL console')}
        title={t.__('SQL over my tables, in the main area')} onClick={() => actions.console()}>
        <launchIcon.react tag="span" /> {t.__('SQL')}
      </Button>
      <Button minimal small className="jp-EsapTables-crossmatch" aria-label={t.__('Crossmatch two tables')}
        title={t.__('A positional crossmatch of two of my tables')} onClick={() => actions.crossmatch()}
        disabled={model.tables.length < 2}>
        <tableRowsIcon.react tag="span" /> {t.__('Crossmatch')}
      </Button>
      <Button minimal small className="jp-EsapTables-import" aria-label={t.__('Import a file as a table')}
        title={t.__('A CSV, FITS, VOTable, ECSV or Parquet file of the workspace')} onClick={() => actions.importFile()}>
        <fileUploadIcon.react tag="span" /> {t.__('Import')}
      </Button>
      <RefreshButton label={t.__('Refresh my tables')} title={t.__('Read my tables again')}
        onClick={() => void model.refresh(true)} />
    </>
  );
  return (
    <SectionBody className="jp-EsapTables-body" toolbarLabel={t.__('Tables actions')} tools={tools} model={model}
      empty={!model.tables.length}
      emptyHint={t.__(
        'No tables yet. Choose "Save as table" on a result grid, import a file, or from a notebook: from esap_lab import tables.'
      )}>
      {model.projects.map(([project, tables]) => (
        <section key={project} className="jp-EsapTables-project" data-project={project}>
          <h3 className="jp-EsapBasket-groupTitle">
            {project} <span className="jp-EsapChip">{tables.length}</span>
          </h3>
          <ul className="jp-EsapSection-list" aria-label={t.__('Tables of project %1', project)}>
            {tables.map(table => (
              <Table key={table.id} table={table} actions={actions} trans={t} />
            ))}
          </ul>
        </section>
      ))}
    </SectionBody>
  );
}

export class TablesSection extends SectionWidget<TablesModel, ITablesActions> {
  constructor(model: TablesModel, actions: ITablesActions, trans: TranslationBundle) {
    super({
      id: 'esap-lab-tables',
      className: 'jp-EsapTables',
      label: trans.__('Tables'),
      caption: trans.__('My tables: saved results and files, SQL and crossmatch'),
      body: Tables,
      model,
      actions,
      trans
    });
  }
}
