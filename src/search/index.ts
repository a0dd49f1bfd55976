import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IQueryInfo } from '../api';
import { IEsapBasket, IEsapSidebar, IEsapStaging } from '../tokens';
import { SearchSection } from './panel';
import { ResultsWidget } from './results';

export const SEARCH_COMMAND = 'esap-lab:search-archives';

export const searchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:search',
  description: 'Search archives from the ESAP sidebar; results in a server-paged grid.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [ITranslator, ISettingRegistry, ICommandPalette, IThemeManager, IEsapBasket, IEsapStaging],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    basket: IEsapBasket | null,
    staging: IEsapStaging | null
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
    const openResults = (q: IQueryInfo, title: string) => {
      let w = open.get(q.id);
      if (!w || w.isDisposed) {
        w = new ResultsWidget(q, title, prefs.pageSize, trans, basket, staging);
        open.set(q.id, w);
        app.shell.add(w, 'main');
      }
      app.shell.activateById(w.id);
    };
    themes?.themeChanged.connect(() => {
      // let the new theme's CSS apply before reading its variables
      setTimeout(() => open.forEach(w => !w.isDisposed && w.restyle()), 200);
    });
    const section = new SearchSection({ trans, open: openResults, settings: () => prefs });
    sidebar.addSection(section, 10, 3);

    app.commands.addCommand(SEARCH_COMMAND, {
      label: trans.__('ESAP: Search archives'),
      caption: trans.__('Open the ESAP sidebar at the archive search'),
      execute: () => sidebar.activateSection(section)
    });
    palette?.addItem({ command: SEARCH_COMMAND, category: 'ESAP' });
  }
};
