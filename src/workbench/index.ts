/**
 * The ADQL workbench plugin: the command "ESAP: Open ADQL workbench" (palette; the Search
 * step's ADQL form asks for it with its archive and query), the widget restored after a reload
 * with its archive and draft (WidgetTracker + restorer, the draft in the state database).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { restoredTracker } from '../common/restore';
import { OPEN_RESULTS_COMMAND } from '../search';
import { AdqlWorkbench, IWorkbenchState } from './widget';

export const OPEN_WORKBENCH_COMMAND = 'esap-lab:open-workbench';
/** Other areas open the workbench by dispatching this event on document.body, detail {archive?, query?}. */
export const OPEN_WORKBENCH_EVENT = 'esap-lab:open-workbench';
const DRAFT_KEY = 'esap-lab-workbench:draft';

export const workbenchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:workbench',
  description: 'The ADQL workbench: editor with completion, schema browser, examples, async runs, history.',
  autoStart: true,
  requires: [IEditorServices],
  optional: [ITranslator, ICommandPalette, ILayoutRestorer, IStateDB, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    editors: IEditorServices,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null,
    registry: ISettingRegistry | null
  ) => {
    const trans = (translator ?? nullTranslator).load('esap_lab');
    const prefs = { pollInterval: 2 };
    if (registry) {
      void registry
        .load('esap-lab:plugin')
        .then(s => {
          const read = () => Object.assign(prefs, s.composite as any);
          read();
          s.changed.connect(read);
        })
        .catch(() => undefined);
    }
    const tracker = restoredTracker<AdqlWorkbench>(restorer, {
      namespace: 'esap-lab-workbench',
      command: OPEN_WORKBENCH_COMMAND,
      args: w => ({ archive: w.archive }),
      name: () => 'workbench'
    });
    let widget: AdqlWorkbench | null = null;
    let saveTimer = 0;

    const open = async (args: Partial<IWorkbenchState>): Promise<AdqlWorkbench> => {
      if (!widget || widget.isDisposed) {
        const w = new AdqlWorkbench({
          editors,
          trans,
          pollInterval: () => prefs.pollInterval,
          openResult: (q, archiveTitle) =>
            void app.commands.execute(OPEN_RESULTS_COMMAND, { id: q.id, archive: archiveTitle })
        });
        widget = w;
        w.changed.connect(() => {
          window.clearTimeout(saveTimer);
          saveTimer = window.setTimeout(() => {
            void state?.save(DRAFT_KEY, w.state as unknown as ReadonlyPartialJSONObject);
            void tracker.save(w);
          }, 500);
        });
        app.shell.add(w, 'main');
        void tracker.add(w);
        // the draft of the last session, unless a query is given
        const draft = args.query === undefined && state ? ((await state.fetch(DRAFT_KEY).catch(() => undefined)) as Partial<IWorkbenchState> | undefined) : undefined;
        await w.load({ ...(draft ?? {}), ...args });
      } else {
        await widget.load(args);
      }
      app.shell.activateById(widget.id);
      return widget;
    };

    app.commands.addCommand(OPEN_WORKBENCH_COMMAND, {
      label: trans.__('ESAP: Open ADQL workbench'),
      caption: trans.__('Write ADQL with the archive’s schema, examples and completion; run it sync or async'),
      execute: args => {
        const a: Partial<IWorkbenchState> = {};
        if (typeof args.archive === 'string' && args.archive) {
          a.archive = args.archive;
        }
        if (typeof args.query === 'string' && args.query.trim()) {
          a.query = args.query;
        }
        return open(a);
      }
    });
    palette?.addItem({ command: OPEN_WORKBENCH_COMMAND, category: 'ESAP', rank: 11 });
    document.body.addEventListener(OPEN_WORKBENCH_EVENT, e => {
      const detail = ((e as CustomEvent).detail ?? {}) as Record<string, unknown>;
      void app.commands.execute(OPEN_WORKBENCH_COMMAND, detail as ReadonlyPartialJSONObject);
    });
  }
};
