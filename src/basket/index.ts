/**
 * The basket plugin: provides IEsapBasket (other areas add to it and read its selection) and the
 * Basket section of the ESAP sidebar, with commands for its actions (also in the context menu).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { contextTarget, notifyFailure } from '../common/commands';
import { EsapPrefs } from '../common/settings';
import { IEsapBasket, IEsapSidebar } from '../tokens';
import { basketApi } from './api';
import { BasketModel, loadCode, loadSelectionCode } from './model';
import { BasketSection, IBasketActions, ITEM_CLASS, ITEM_ID_ATTR } from './panel';

export const CommandIDs = {
  open: 'esap-lab:basket-open',
  insertCell: 'esap-lab:basket-insert-cell',
  insertSelection: 'esap-lab:basket-insert-selection',
  rename: 'esap-lab:basket-rename',
  remove: 'esap-lab:basket-remove',
  clear: 'esap-lab:basket-clear',
  exportFile: 'esap-lab:basket-export',
  importFile: 'esap-lab:basket-import'
};

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function pickFile(): Promise<File | null> {
  return new Promise(resolve => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.json,application/json';
    input.onchange = () => resolve(input.files?.[0] ?? null);
    input.click();
  });
}

export const basketPlugin: JupyterFrontEndPlugin<IEsapBasket> = {
  id: 'esap-lab:basket',
  description: 'The ESAP basket: typed, persistent items shared with notebooks.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [ITranslator, ISettingRegistry, INotebookTracker, ICommandPalette],
  provides: IEsapBasket,
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    notebooks: INotebookTracker | null,
    palette: ICommandPalette | null
  ): IEsapBasket => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const prefs = new EsapPrefs().watch(registry);
    const model = new BasketModel(() => prefs.pollMs / 1000);
    let badge = -1;
    model.changed.connect(() => {
      if (model.count !== badge) {
        badge = model.count;
        sidebar.setBadge(badge);
      }
    });

    // the item under the context menu, or the one given as argument
    const target = contextTarget(app, ITEM_CLASS, ITEM_ID_ATTR);
    const { commands } = app;
    const run = (id: string, args: { id?: string } = {}) => void commands.execute(id, args);
    const actions: IBasketActions = {
      insertCell: id => run(CommandIDs.insertCell, { id }),
      insertSelection: () => run(CommandIDs.insertSelection),
      remove: id => run(CommandIDs.remove, { id }),
      clear: () => run(CommandIDs.clear),
      exportFile: () => run(CommandIDs.exportFile),
      importFile: () => run(CommandIDs.importFile)
    };
    const section = new BasketSection(model, actions, t);
    sidebar.addSection(section, 20);

    commands.addCommand(CommandIDs.open, {
      label: t.__('ESAP: Show the basket'),
      execute: () => sidebar.activateSection(section)
    });
    const insertCode = (code: string): void => {
      const panel = notebooks?.currentWidget;
      if (!panel) {
        Notification.warning(t.__('Open a notebook first: the cell goes into the active notebook.'), {
          autoClose: 5000
        });
        return;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      notebook.activeCell?.model.sharedModel.setSource(code);
      app.shell.activateById(panel.id);
    };
    commands.addCommand(CommandIDs.insertCell, {
      label: t.__('Insert Code Cell Loading This Item'),
      caption: t.__('Insert a code cell that loads the basket item into the active notebook'),
      execute: args => {
        const item = model.get(target(args) ?? '');
        if (item) {
          insertCode(loadCode(item));
        }
      }
    });
    commands.addCommand(CommandIDs.insertSelection, {
      label: t.__('ESAP: Insert code cell loading the selected basket items'),
      isEnabled: () => model.selection.length > 0,
      execute: () => {
        const items = model.selection.map(id => model.get(id)!).filter(Boolean);
        if (items.length) {
          insertCode(loadSelectionCode(items));
        }
      }
    });
    commands.addCommand(CommandIDs.rename, {
      label: t.__('Rename Basket Item…'),
      execute: async args => {
        const item = model.get(target(args) ?? '');
        if (!item) {
          return;
        }
        const answer = await InputDialog.getText({
          title: t.__('Rename basket item'),
          text: item.title,
          okLabel: t.__('Rename')
        });
        if (answer.button.accept && answer.value && answer.value !== item.title) {
          // a stale version (changed in another tab or a kernel meanwhile) is refused: say so
          await model.rename(item.id, answer.value).catch(e => notifyFailure(t, t.__('Not renamed'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.remove, {
      label: t.__('Remove from Basket'),
      execute: async args => {
        const id = target(args);
        if (id) {
          await model.remove(id).catch(e => notifyFailure(t, t.__('Not removed'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.clear, {
      label: t.__('ESAP: Clear the basket…'),
      isEnabled: () => model.count > 0,
      execute: async () => {
        const answer = await showDialog({
          title: t.__('Clear the basket?'),
          body: t._n(
            'The %1 item in the basket will be removed, for every tab and notebook. Export the basket first to keep a copy.',
            'The %1 items in the basket will be removed, for every tab and notebook. Export the basket first to keep a copy.',
            model.count
          ),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: t.__('Clear') })]
        });
        if (answer.button.accept) {
          await model.clear().catch(e => notifyFailure(t, t.__('Not cleared'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.exportFile, {
      label: t.__('ESAP: Export the basket'),
      execute: async () => {
        try {
          const doc = await basketApi.exportFile();
          download('esap-basket.json', JSON.stringify(doc, null, 1));
        } catch (e) {
          notifyFailure(t, t.__('Export failed'), e);
        }
      }
    });
    commands.addCommand(CommandIDs.importFile, {
      label: t.__('ESAP: Import a basket file'),
      execute: async () => {
        const file = await pickFile();
        if (!file) {
          return;
        }
        let doc: unknown;
        try {
          doc = JSON.parse(await file.text());
        } catch (e) {
          notifyFailure(t, t.__('%1 is not a JSON file', file.name), e);
          return;
        }
        const answer = await showDialog({
          title: t.__('Import %1', file.name),
          body: t.__('Add its items to the basket, or replace the basket with them?'),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: t.__('Replace') }),
            Dialog.okButton({ label: t.__('Add') })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        const mode = answer.button.displayType === 'warn' ? 'replace' : 'merge';
        try {
          const r = await basketApi.importFile(doc, mode);
          await model.refresh(true);
          Notification.success(
            t.__('Imported %1: %2 new, %3 already there.', file.name, r.added, r.duplicates),
            { autoClose: 5000 }
          );
        } catch (e) {
          // the server names what is wrong with the file; the basket is unchanged
          notifyFailure(t, t.__('%1 was not imported', file.name), e);
        }
      }
    });

    // the context menu of basket items is declared in schema/plugin.json
    // destructive last: the palette sorts by rank before the label
    [CommandIDs.open, CommandIDs.insertSelection, CommandIDs.exportFile, CommandIDs.importFile, CommandIDs.clear].forEach(
      (command, i) => palette?.addItem({ command, category: 'ESAP', rank: command === CommandIDs.clear ? 1000 : 20 + i })
    );

    // no polling while the sidebar is hidden; a read at once when it shows again
    model.standby = () => !sidebar.shown;
    sidebar.shownChanged.connect((_, shown) => shown && model.poke());
    model.start();
    return model;
  }
};
