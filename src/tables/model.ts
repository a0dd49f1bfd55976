/**
 * The Tables step's model: my tables as last read from the server, polled (standby while the
 * ESAP sidebar is hidden) so tables saved from a notebook or a job appear.
 */
import { PollingModel } from '../common/polling';
import { ITableInfo, tablesApi } from './api';

export class TablesModel extends PollingModel {
  constructor(private _interval: () => number) {
    super();
  }

  get tables(): readonly ITableInfo[] {
    return this._tables;
  }

  /** The tables by project, projects in alphabetical order. */
  get projects(): [string, ITableInfo[]][] {
    const groups = new Map<string, ITableInfo[]>();
    for (const table of this._tables) {
      groups.set(table.project, [...(groups.get(table.project) ?? []), table]);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  get(id: string): ITableInfo | undefined {
    return this._tables.find(x => x.id === id);
  }

  protected async read(): Promise<boolean> {
    const tables = await tablesApi.list();
    const key = JSON.stringify(tables.map(x => [x.id, x.name, x.project, x.updated]));
    if (key === this._key) {
      return false;
    }
    this._key = key;
    this._tables = tables;
    return true;
  }

  protected interval(): number {
    return this._interval() * 1000 * 5;
  }

  private _tables: ITableInfo[] = [];
  private _key = '';
}
