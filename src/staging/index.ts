/**
 * The staging plugin: provides IEsapStaging (the basket and the search results call stage()),
 * and the Staging section of the ESAP sidebar with commands for its actions. Each transfer
 * started here gets a notification that follows its progress and says how it ended.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { esapClient } from '../api';
import { ITEM_CLASS, ITEM_ID_ATTR } from '../basket/panel';
import { confirmDestructive, contextTarget, notifyFailure } from '../common/commands';
import { EsapPrefs } from '../common/settings';
import { IEsapBasket, IEsapSidebar, IEsapStaging } from '../tokens';
import { isFinal, IStageRequest, ITransfer, stagingApi } from './api';
import { DidContentsView } from './contents';
import { StagingModel } from './model';
import { IStagingActions, StagingSection, TRANSFER_CLASS, TRANSFER_ID_ATTR } from './panel';

export const CommandIDs = {
  open: 'esap-lab:staging-open',
  stageSelection: 'esap-lab:stage-selection',
  cancel: 'esap-lab:staging-cancel',
  remove: 'esap-lab:staging-remove',
  openFolder: 'esap-lab:staging-open-folder',
  contents: 'esap-lab:rucio-did-contents',
  stageItem: 'esap-lab:stage-basket-item',
  itemFiles: 'esap-lab:basket-did-files'
};

/** The folder to show for a transfer: where its files are, relative to the server root. */
export function folderOf(transfer: ITransfer): string | null {
  const local = transfer.files.map(f => f.path).filter((p): p is string => !!p && !p.startsWith('/'));
  if (local.length) {
    const parts = local[0].split('/');
    parts.pop();
    return parts.join('/');
  }
  const dest = transfer.destination;
  return dest && !dest.startsWith('/') ? dest : null;
}

class Notifier {
  constructor(private _t: TranslationBundle, private _openFolder: (id: string) => void) {}

  started(x: ITransfer): void {
    if (!this._ids.has(x.id)) {
      const id = Notification.emit(this._t.__('Staging %1…', x.title), 'in-progress', { autoClose: false });
      this._ids.set(x.id, id);
    }
  }

  progressed(x: ITransfer): void {
    const id = this._ids.get(x.id);
    if (id) {
      Notification.update({
        id,
        message: this._t.__('Staging %1: %2%', x.title, Math.round(x.progress.fraction * 100)),
        type: 'in-progress',
        autoClose: false
      });
    }
  }

  ended(x: ITransfer): void {
    const t = this._t;
    const ok = x.status === 'completed';
    const message = ok
      ? t.__('Staged %1 (%2 files).', x.title, x.progress.files_total)
      : x.status === 'cancelled'
        ? t.__('Staging of %1 was cancelled.', x.title)
        : t.__('Staging of %1 failed: %2', x.title, x.message ?? '');
    const options = {
      autoClose: ok ? 6000 : (false as const),
      actions: ok ? [{ label: t.__('Open folder'), callback: () => this._openFolder(x.id) }] : []
    };
    const type = ok ? 'success' : x.status === 'cancelled' ? 'warning' : 'error';
    // The outcome is a new notification, not an update of the "Staging…" one: an updated toast
    // was seen to keep the in-progress one's autoClose (false), so a success never went away.
    const id = this._ids.get(x.id);
    if (id) {
      Notification.dismiss(id);
      this._ids.delete(x.id);
    }
    Notification.emit(message, type, options);
  }

  private _ids = new Map<string, string>();
}

export const stagingPlugin: JupyterFrontEndPlugin<IEsapStaging> = {
  id: 'esap-lab:staging',
  description: 'Stage data: Rucio downloads and replication rules, files by URL, with progress.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [ITranslator, IEsapBasket, ICommandPalette, ILayoutRestorer, ISettingRegistry],
  provides: IEsapStaging,
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    basket: IEsapBasket | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    registry: ISettingRegistry | null
  ): IEsapStaging => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const { commands } = app;
    // the user's settings: the poll interval, and the folder downloads go to
    const prefs = new EsapPrefs();
    const model = new StagingModel(() => prefs.pollMs);
    prefs.changed.connect(() => {
      if (model.downloadFolder !== (prefs.destination ?? '')) {
        model.downloadFolder = prefs.destination ?? '';
        model.poke();
      }
    });
    prefs.watch(registry);

    const openFolder = async (id: string) => {
      try {
        const x = await stagingApi.get(id);
        const folder = folderOf(x);
        if (folder !== null) {
          await commands.execute('filebrowser:go-to-path', { path: folder === '' ? '/' : folder });
        } else {
          const where = x.files.find(f => f.path)?.path ?? x.destination ?? '';
          Notification.info(t.__('The files are outside the file browser\'s root, at %1', where), {
            autoClose: false
          });
        }
      } catch (error) {
        notifyFailure(t, t.__('Cannot open the folder'), error);
      }
    };
    const notifier = new Notifier(t, id => void openFolder(id));
    model.progressed.connect((_, x) => notifier.progressed(x));
    model.ended.connect((_, x) => notifier.ended(x));

    const stage = async (request: IStageRequest): Promise<ITransfer> => {
      const x = await model.stage(request);
      if (!x.status || x.status === 'queued' || x.status === 'running') {
        notifier.started(x);
      } else if (x.status === 'completed') {
        notifier.ended(x); // already staged earlier: say where it is
      }
      sidebar.activateSection(section);
      return x;
    };

    // the transfer under the context menu, or the one given as argument
    const target = contextTarget(app, TRANSFER_CLASS, TRANSFER_ID_ATTR);
    const run = (id: string, args: Record<string, string | undefined> = {}) =>
      void commands.execute(id, args as any);
    const actions: IStagingActions = {
      stageSelection: basket ? (mode, instance) => run(CommandIDs.stageSelection, { mode, instance }) : undefined,
      cancel: id => run(CommandIDs.cancel, { id }),
      remove: id => run(CommandIDs.remove, { id }),
      openFolder: id => run(CommandIDs.openFolder, { id })
    };
    const section = new StagingSection(model, actions, t);
    sidebar.addSection(section, 30);
    // while the sidebar is hidden, poll only for running transfers (their notifications follow them)
    model.standby = () => !sidebar.shown && !model.transfers.some(x => !isFinal(x.status));
    sidebar.shownChanged.connect((_, shown) => shown && model.poke());
    model.start();

    commands.addCommand(CommandIDs.open, {
      label: t.__('ESAP: Show staged data'),
      execute: () => sidebar.activateSection(section)
    });
    commands.addCommand(CommandIDs.stageSelection, {
      label: args =>
        args.mode === 'replica'
          ? t.__('ESAP: Stage the basket selection as replicas')
          : t.__('ESAP: Download the basket selection'),
      caption: t.__('Stage the items selected in the basket'),
      isEnabled: () => !!basket && basket.selection.length > 0,
      execute: async args => {
        const items = basket?.selection ?? [];
        if (!items.length) {
          Notification.warning(t.__('Select items in the basket first.'), { autoClose: 5000 });
          return;
        }
        const mode = args.mode === 'replica' ? 'replica' : 'download';
        const instance = typeof args.instance === 'string' && args.instance ? args.instance : undefined;
        await stage({ items, mode, instance }).catch(e => notifyFailure(t, t.__('Not staged'), e));
      }
    });
    commands.addCommand(CommandIDs.cancel, {
      label: t.__('Cancel Transfer…'),
      execute: async args => {
        const id = target(args);
        const x = id ? model.get(id) : undefined;
        if (
          x &&
          !isFinal(x.status) &&
          !(await confirmDestructive(
            t,
            t.__('Cancel %1?', x.title),
            x.mode === 'replica'
              ? t.__('The replication rule is removed; replicas already made may be deleted by Rucio.')
              : t.__('The download stops and the files it wrote so far are removed.'),
            t.__('Cancel transfer')
          ))
        ) {
          return;
        }
        if (id) {
          await model.cancel(id).catch(e => notifyFailure(t, t.__('Not cancelled'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.remove, {
      label: t.__('Remove Transfer from the List'),
      execute: async args => {
        const id = target(args);
        if (id) {
          await model.cancel(id).catch(e => notifyFailure(t, t.__('Not removed'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.openFolder, {
      label: t.__('Open Folder of Transfer'),
      execute: async args => {
        const id = target(args);
        if (id) {
          await openFolder(id);
        }
      }
    });
    // the files of a DID, e.g. from a DID row of the search results: {instance, did}
    const views = new Map<string, MainAreaWidget<DidContentsView>>();
    const tracker = new WidgetTracker<MainAreaWidget<DidContentsView>>({ namespace: 'esap-lab-did-files' });
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.contents,
        args: w => ({ instance: w.content.instance, did: w.content.did }),
        name: w => `${w.content.instance}|${w.content.did}`
      });
    }
    commands.addCommand(CommandIDs.contents, {
      label: t.__('Show Files of Rucio DID'),
      caption: t.__('The files of a dataset or container, their sizes and replicas'),
      execute: args => {
        const instance = String(args.instance ?? '');
        const did = String(args.did ?? '');
        if (!instance || !did.includes(':')) {
          return;
        }
        const key = `${instance}|${did}`;
        let widget = views.get(key);
        if (!widget || widget.isDisposed) {
          const content = new DidContentsView(
            instance,
            did,
            mode => void stage({ dids: [did], instance, mode }).catch(e => notifyFailure(t, t.__('Not staged'), e)),
            () => model.instances.find(i => i.name === instance),
            t
          );
          widget = new MainAreaWidget({ content });
          widget.id = `esap-lab-did-${Math.random().toString(36).slice(2)}`;
          widget.title.label = did;
          widget.title.caption = t.__('Files of the Rucio DID %1 (instance %2)', did, instance);
          views.set(key, widget);
          app.shell.add(widget, 'main');
          void tracker.add(widget);
        }
        app.shell.activateById(widget.id);
      }
    });
    // a Stage action on basket items (their context menu): the item under the menu, or args.id
    const basketItem = contextTarget(app, ITEM_CLASS, ITEM_ID_ATTR);
    commands.addCommand(CommandIDs.stageItem, {
      label: args => (args.mode === 'replica' ? t.__('Stage as Replica (Rucio Rule)') : t.__('Download into This Session')),
      caption: t.__('Stage this basket item'),
      execute: async args => {
        const id = basketItem(args);
        if (id) {
          const mode = args.mode === 'replica' ? 'replica' : 'download';
          await stage({ items: [id], mode }).catch(e => notifyFailure(t, t.__('Not staged'), e));
        }
      }
    });
    commands.addCommand(CommandIDs.itemFiles, {
      label: t.__('Show Files in Rucio'),
      execute: async args => {
        const id = basketItem(args);
        if (!id) {
          return;
        }
        try {
          const item = await esapClient.request<any>(`basket/items/${encodeURIComponent(id)}`);
          const instance = item.instance ?? (model.instances.length === 1 ? model.instances[0].name : '');
          if (!instance) {
            Notification.warning(t.__('This DID names no Rucio instance, and several are configured.'), {
              autoClose: 6000
            });
            return;
          }
          await commands.execute(CommandIDs.contents, { instance, did: `${item.scope}:${item.name}` });
        } catch (error) {
          notifyFailure(t, t.__('Cannot show the files'), error);
        }
      }
    });
    // the context menus (basket items by kind, transfers) are declared in schema/plugin.json
    if (palette) {
      const category = t.__('ESAP');
      palette.addItem({ command: CommandIDs.open, category, rank: 30 });
      if (basket) {
        palette.addItem({ command: CommandIDs.stageSelection, category, args: { mode: 'download' }, rank: 31 });
        palette.addItem({ command: CommandIDs.stageSelection, category, args: { mode: 'replica' }, rank: 32 });
      }
    }

    return {
      stage: request => stage(request).then(x => ({ id: x.id, status: x.status }))
    };
  }
};
