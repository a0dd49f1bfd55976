/**
 * The Software plugin: the Software step of the ESAP sidebar (OSSR search, suggestions for the
 * basket) and commands for its actions: open a record here, run its notebook with the basket,
 * add it to the basket.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { notifyFailure } from '../common/commands';
import { jobsApi } from '../jobs/api';
import { IBasketItemInput, IEsapBasket, IEsapSidebar } from '../tokens';
import { IOpenOperation, ISoftwareRecord, softwareApi, softwareItem } from './api';
import { SoftwareModel } from './model';
import { ISoftwareActions, SoftwareSection } from './panel';

export const CommandIDs = {
  show: 'esap-lab:software-show',
  suggest: 'esap-lab:software-suggest'
};

/** A select of the backends (unavailable ones shown, not selectable). */
class BackendBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(backends: { name: string; title: string; available: boolean | null; message: string | null }[], label: string) {
    super();
    this.addClass('jp-EsapForm');
    const l = document.createElement('label');
    l.textContent = label;
    this._select = document.createElement('select');
    this._select.className = 'jp-mod-styled';
    this._select.name = 'backend';
    for (const b of backends) {
      const o = document.createElement('option');
      o.value = b.name;
      o.textContent = b.available === false ? `${b.title} (${b.message ?? 'unavailable'})` : b.title;
      o.disabled = b.available === false;
      this._select.appendChild(o);
    }
    this._select.value = backends.find(b => b.available !== false)?.name ?? '';
    l.appendChild(this._select);
    this.node.appendChild(l);
  }

  getValue(): string {
    return this._select.value;
  }

  private _select: HTMLSelectElement;
}

export const softwarePlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:software',
  description: 'Software from the OSSR: search, suggestions for the basket, open here, run with the basket.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [ITranslator, ICommandPalette, IEsapBasket],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    basket: IEsapBasket | null
  ) => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const model = new SoftwareModel();
    const actions: ISoftwareActions = {
      openHere: rec => void openHere(rec),
      cancelOpen: rec =>
        void model.cancelOpen(rec.id).catch(e => notifyFailure(t, t.__('%1 was not cancelled', rec.name), e)),
      run: rec => void runWithBasket(rec),
      addToBasket: rec => {
        if (!basket) {
          return;
        }
        void basket
          .add([softwareItem(rec) as unknown as IBasketItemInput])
          .then(r =>
            Notification.success(
              r.added ? t.__('Added %1 to the basket.', rec.name) : t.__('%1 is in the basket already.', rec.name),
              { autoClose: 3000 }
            )
          )
          .catch(e => notifyFailure(t, t.__('Not added'), e));
      }
    };

    /** Open here, a long operation: a notification follows it (progress, Cancel), then the README opens. */
    async function openHere(rec: ISoftwareRecord): Promise<void> {
      const note = Notification.emit(t.__('Opening %1…', rec.name), 'in-progress', {
        autoClose: false,
        actions: [{ label: t.__('Cancel'), callback: () => void model.cancelOpen(rec.id) }]
      });
      let x: IOpenOperation;
      try {
        x = await model.openHere(rec.id, op => {
          if (op.status === 'running' && op.bytes_total) {
            Notification.update({
              id: note,
              message: t.__('Opening %1: %2%', rec.name, Math.round(op.progress * 100)),
              type: 'in-progress',
              progress: op.progress,
              autoClose: false
            });
          }
        });
      } catch (e) {
        Notification.dismiss(note);
        notifyFailure(t, t.__('%1 was not opened', rec.name), e);
        return;
      }
      const r = x.result;
      if (x.status === 'completed' && r) {
        Notification.update({
          id: note,
          message: r.reused
            ? t.__('%1 is in %2 already.', rec.name, r.path)
            : t.__('%1: %2 files in %3, checksums verified.', rec.name, r.files, r.path),
          type: 'success',
          autoClose: 5000,
          actions: []
        });
        if (r.open) {
          void app.commands.execute('docmanager:open', { path: r.open });
        }
      } else if (x.status === 'cancelled') {
        Notification.update({ id: note, message: t.__('Opening %1 was cancelled; nothing was kept.', rec.name),
          type: 'warning', autoClose: 5000, actions: [] });
      } else {
        Notification.update({ id: note, message: t.__('%1 was not opened: %2', rec.name, x.message ?? x.status),
          type: 'error', autoClose: false, actions: [] });
      }
    }

    async function runWithBasket(rec: ISoftwareRecord): Promise<void> {
      let backends;
      try {
        backends = await jobsApi.backends();
      } catch (e) {
        notifyFailure(t, t.__('No backends'), e);
        return;
      }
      const answer = await showDialog({
        title: t.__('Run %1 with my basket', rec.name),
        body: new BackendBody(backends, t.__('Where the notebook runs')),
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Run') })]
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      try {
        const job = await model.working_on(rec.id, () => softwareApi.run(rec.id, answer.value as string));
        Notification.success(t.__('%1 submitted as job %2 (see Jobs).', rec.name, job.name ?? job.id), {
          autoClose: 5000
        });
      } catch (e) {
        notifyFailure(t, t.__('%1 was not run', rec.name), e);
      }
    }

    const section = new SoftwareSection(model, actions, t);
    sidebar.addSection(section, 60);
    app.commands.addCommand(CommandIDs.show, {
      label: t.__('ESAP: Find software in the OSSR'),
      execute: () => {
        sidebar.activateSection(section);
        void model.suggest();
      }
    });
    app.commands.addCommand(CommandIDs.suggest, {
      label: t.__('ESAP: Suggest software for my basket'),
      execute: () => {
        sidebar.activateSection(section);
        return model.suggest();
      }
    });
    [CommandIDs.show, CommandIDs.suggest].forEach((command, i) =>
      palette?.addItem({ command, category: 'ESAP', rank: 70 + i })
    );
    // suggestions follow the basket while the step is shown (the OSSR is remote: not on a timer)
    let stale = true;
    basket?.changed.connect(() => {
      stale = true;
      if (section.isVisible) {
        stale = false;
        void model.suggest();
      }
    });
    const onShown = () => {
      if (stale && section.isVisible) {
        stale = false;
        void model.suggest();
      }
    };
    sidebar.shownChanged.connect(onShown);
    section.node.addEventListener('focusin', onShown);
    // the step's tab: shown through the sidebar's TabPanel (no signal of its own)
    const observer = new MutationObserver(onShown);
    observer.observe(section.node, { attributes: true, attributeFilter: ['class'] });
  }
};
