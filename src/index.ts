/**
 * esap-lab front end: one plugin per area. The sidebar plugin owns the ESAP panel; Search,
 * Basket, Staging and Jobs each add a section to it through IEsapSidebar.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { metaApi, onApiError, useServerSettings } from './api';
import { basketPlugin } from './basket';
import { noticeLogin, setLoginTranslator } from './common/login';
import { jobsPlugin } from './jobs';
import { plotsPlugin } from './plots';
import { previewsPlugin } from './previews';
import { searchPlugin } from './search';
import { ResultsWidget } from './search/results';
import { skyPlugin } from './sky';
import { softwarePlugin } from './software';
import { stagingPlugin } from './staging';
import { tablesPlugin } from './tables';
import { workbenchPlugin } from './workbench';
import { EsapSidebar } from './sidebar';
import { IEsapSidebar } from './tokens';
import { FRONTEND_VERSION } from './version';

export const PLUGIN_ID = 'esap-lab:plugin';

const sidebarPlugin: JupyterFrontEndPlugin<IEsapSidebar> = {
  id: PLUGIN_ID,
  description: 'The ESAP sidebar, and the check that the server extension matches.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ILayoutRestorer, ITranslator],
  provides: IEsapSidebar,
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): IEsapSidebar => {
    // every area's API object talks to the server through the application's connection settings
    useServerSettings(app.serviceManager.serverSettings);
    translator = translator ?? nullTranslator;
    const trans = translator.load('esap_lab');
    // an error saying the hub login expired offers "Log in again"
    setLoginTranslator(trans);
    onApiError(noticeLogin);
    const sidebar = new EsapSidebar(shell, translator);
    shell.add(sidebar, 'left', { rank: 850 });
    restorer?.add(sidebar, sidebar.id);
    addMenuForwarder(app, trans.__.bind(trans));
    // the result grids' "…" menu (the bar's actions that do not fit a narrow tab)
    ResultsWidget.registerMoreCommand(app.commands);
    void checkServerVersion(trans.__.bind(trans));
    return sidebar;
  }
};

/** The command every entry of the ESAP main menu (schema/plugin.json) runs. */
export const MENU_COMMAND = 'esap-lab:menu-run';

/**
 * The ESAP main menu lists the areas' own commands; their labels read "ESAP: ..." for the
 * palette. Each menu entry runs `args.command` (with the other args) through this command,
 * which shows that label without the prefix: "ESAP > Search archives", not "ESAP > ESAP: ...".
 */
function addMenuForwarder(app: JupyterFrontEnd, __: (s: string, ...a: any[]) => string): void {
  const target = (args: ReadonlyPartialJSONObject): [string, ReadonlyPartialJSONObject] => {
    const { command, ...rest } = args;
    return [typeof command === 'string' ? command : '', rest];
  };
  const has = (id: string) => !!id && app.commands.hasCommand(id);
  app.commands.addCommand(MENU_COMMAND, {
    label: args => {
      const [id, rest] = target(args);
      if (!has(id)) {
        return id;
      }
      const label = app.commands.label(id, rest).replace(/^ESAP: /, '');
      return label.charAt(0).toUpperCase() + label.slice(1);
    },
    caption: args => {
      const [id, rest] = target(args);
      return has(id) ? app.commands.caption(id, rest) : '';
    },
    isEnabled: args => {
      const [id, rest] = target(args);
      return has(id) && app.commands.isEnabled(id, rest);
    },
    isVisible: args => {
      const [id, rest] = target(args);
      return has(id) && app.commands.isVisible(id, rest);
    },
    execute: args => {
      const [id, rest] = target(args);
      if (!has(id)) {
        throw new Error(__('No such command: %1', id));
      }
      return app.commands.execute(id, rest);
    }
  });
}

async function checkServerVersion(
  __: (s: string, ...a: any[]) => string
): Promise<void> {
  try {
    const server = await metaApi.version();
    if (server !== FRONTEND_VERSION) {
      Notification.warning(
        __(
          'esap-lab: the server extension is version %1 but the front end is %2. Reinstall esap_lab and restart Jupyter.',
          server,
          FRONTEND_VERSION
        ),
        { autoClose: false }
      );
    }
  } catch (error) {
    Notification.error(
      __(
        'esap-lab: the server extension did not answer (%1). Is esap_lab enabled (jupyter server extension list)?',
        (error as Error).message
      ),
      { autoClose: false }
    );
  }
}

export * from './tokens';
export default [sidebarPlugin, searchPlugin, basketPlugin, stagingPlugin, jobsPlugin, tablesPlugin, softwarePlugin, workbenchPlugin, plotsPlugin, previewsPlugin, skyPlugin];
