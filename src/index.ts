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

import { metaApi, onApiError, useServerSettings } from './api';
import { basketPlugin } from './basket';
import { noticeLogin, setLoginTranslator } from './common/login';
import { jobsPlugin } from './jobs';
import { plotsPlugin } from './plots';
import { previewsPlugin } from './previews';
import { searchPlugin } from './search';
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
    void checkServerVersion(trans.__.bind(trans));
    return sidebar;
  }
};

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
