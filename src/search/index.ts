import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { archivesApi, IQueryInfo } from '../api';
import { restoredTracker } from '../common/restore';
import { IEsapBasket, IEsapSidebar, IEsapStaging } from '../tokens';
import { describeQuery, SearchSection } from './panel';
import { RegistryPanel } from './registry';
import { ResultsWidget } from './results';

export const SEARCH_COMMAND = 'esap-lab:search-archives';
/** Open the result grid of a query: {id} (used by the layout restorer after a reload). */
export const OPEN_RESULTS_COMMAND = 'esap-lab:open-results';
/** Open the registry panel: find services in the IVOA registry, add them as archives. */
export const REGISTRY_COMMAND = 'esap-lab:open-registry';

export const searchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:search',
  description: 'Search archives from the ESAP sidebar; results in a server-paged grid.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [
    ITranslator,
    ISettingRegistry,
    ICommandPalette,
    IThemeManager,
    IEsapBasket,
    IEsapStaging,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    basket: IEsapBasket | null,
    staging: IEsapStaging | null,
    restorer: ILayoutRestorer | null
  ) => {
    const trans = (translator ?? nullTranslator).load('esap_lab');
    const prefs = { defaultArchive: '', pageSize: 200, pollInterval: 2 };
    if (registry) {
      void registry.load('esap-lab:plugin').then(s => {
        const read = () => Object.assign(prefs, s.composite as any);
        read();
        s.changed.connect(read);
      }).catch(() => undefined);
    }
    const open = new Map<string, ResultsWidget>();
    const tracker = restoredTracker<ResultsWidget>(restorer, {
      namespace: 'esap-lab-results',
      command: OPEN_RESULTS_COMMAND,
      // the grid's sort comes back too (a reload should not undo the user's ordering)
      args: w => ({ id: w.query.id, archive: w.archive, sort: w.model.sortColumn, order: w.model.sortOrder }),
      name: w => w.query.id
    });
    // a short, distinct tab title (what was asked); the archive in the tooltip
    const openResults = (q: IQueryInfo, archiveTitle: string): ResultsWidget => {
      let w = open.get(q.id);
      if (!w || w.isDisposed) {
        const grid = new ResultsWidget(q, describeQuery(q), prefs.pageSize, trans, basket, staging);
        w = grid;
        w.title.caption = trans.__('%1 — %2 (%3 rows)', archiveTitle, describeQuery(q), q.row_count ?? 0);
        open.set(q.id, w);
        app.shell.add(w, 'main');
        void tracker.add(w);
        let sorted = `${grid.model.sortColumn}:${grid.model.sortOrder}`;
        grid.model.changed.connect(() => {
          const now = `${grid.model.sortColumn}:${grid.model.sortOrder}`;
          if (now !== sorted && !grid.isDisposed) {
            sorted = now;
            void tracker.save(grid);
          }
        });
      }
      app.shell.activateById(w.id);
      return w;
    };
    app.commands.addCommand(OPEN_RESULTS_COMMAND, {
      label: trans.__('ESAP: Open query result'),
      execute: async args => {
        const id = String(args.id ?? '');
        try {
          const q = await archivesApi.get(id);
          if (q.status === 'completed') {
            const w = openResults(q, String(args.archive ?? q.archive));
            if (typeof args.sort === 'string' && args.sort && !w.model.sortColumn) {
              w.model.sortBy(args.sort, args.order === 'desc' ? 'desc' : 'asc');
            }
          }
        } catch {
          // the query is gone (forgotten, or another server): nothing to reopen
        }
      }
    });
    themes?.themeChanged.connect(() => {
      // let the new theme's CSS apply before reading its variables
      setTimeout(() => open.forEach(w => !w.isDisposed && w.restyle()), 200);
    });
    let registryPanel: RegistryPanel | null = null;
    app.commands.addCommand(REGISTRY_COMMAND, {
      label: trans.__('ESAP: Find services in the registry'),
      caption: trans.__('Search the IVOA registry and add services as your archives'),
      execute: () => {
        if (!registryPanel || registryPanel.isDisposed) {
          registryPanel = new RegistryPanel(trans);
          app.shell.add(registryPanel, 'main');
        }
        app.shell.activateById(registryPanel.id);
      }
    });
    palette?.addItem({ command: REGISTRY_COMMAND, category: 'ESAP', rank: 11 });
    const section = new SearchSection({
      trans,
      open: openResults,
      settings: () => prefs,
      openRegistry: () => void app.commands.execute(REGISTRY_COMMAND)
    });
    sidebar.addSection(section, 10, 3);

    app.commands.addCommand(SEARCH_COMMAND, {
      label: trans.__('ESAP: Search archives'),
      caption: trans.__('Open the ESAP sidebar at the archive search'),
      execute: () => sidebar.activateSection(section)
    });
    palette?.addItem({ command: SEARCH_COMMAND, category: 'ESAP', rank: 10 });
  }
};
