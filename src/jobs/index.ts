/**
 * The jobs plugin: "Submit as batch job" (notebook toolbar button and palette command), the Jobs
 * section of the ESAP sidebar, the log viewer, and a notification when a job ends.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { runIcon } from '@jupyterlab/ui-components';

import { confirmDestructive, contextTarget, notifyFailure } from '../common/commands';
import { EsapPrefs } from '../common/settings';
import { IEsapBasket, IEsapSidebar } from '../tokens';
import { IJob, IResources, isFinal, jobsApi } from './api';
import { SubmitForm } from './dialog';
import { JobsModel } from './model';
import { IJobActions, JOB_CLASS, JOB_ID_ATTR, JobLogView, JobsSection, statusLabel } from './panel';
import { notebookParameters } from './params';

export const CommandIDs = {
  submit: 'esap-lab:jobs-submit',
  open: 'esap-lab:jobs-open',
  cancel: 'esap-lab:jobs-cancel',
  remove: 'esap-lab:jobs-remove',
  resubmit: 'esap-lab:jobs-resubmit',
  showLog: 'esap-lab:jobs-log',
  openOutput: 'esap-lab:jobs-open-output'
};

export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:jobs',
  description: 'Run notebooks as batch jobs (local, Slurm, DIRAC) and follow them in the ESAP sidebar.',
  autoStart: true,
  requires: [IEsapSidebar],
  optional: [ITranslator, INotebookTracker, ICommandPalette, IEsapBasket, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IEsapSidebar,
    translator: ITranslator | null,
    notebooks: INotebookTracker | null,
    palette: ICommandPalette | null,
    basket: IEsapBasket | null,
    restorer: ILayoutRestorer | null,
    registry: ISettingRegistry | null
  ): void => {
    const t = (translator ?? nullTranslator).load('esap_lab');
    const prefs = new EsapPrefs().watch(registry);
    const model = new JobsModel(() => prefs.pollMs);
    const { commands } = app;
    const previous: { backend?: string; resources?: IResources } = {};
    const logs = new Map<string, MainAreaWidget<JobLogView>>();
    const logTracker = new WidgetTracker<MainAreaWidget<JobLogView>>({ namespace: 'esap-lab-job-logs' });
    if (restorer) {
      void restorer.restore(logTracker, {
        command: CommandIDs.showLog,
        args: w => ({ id: w.id.replace('esap-lab-job-log-', '') }),
        name: w => w.id
      });
    }

    const target = contextTarget(app, JOB_CLASS, JOB_ID_ATTR);
    const run = (id: string, args: { id?: string } = {}) => void commands.execute(id, args);
    const actions: IJobActions = {
      submit: () => run(CommandIDs.submit),
      cancel: id => run(CommandIDs.cancel, { id }),
      remove: id => run(CommandIDs.remove, { id }),
      resubmit: id => run(CommandIDs.resubmit, { id }),
      showLog: id => run(CommandIDs.showLog, { id }),
      openOutput: id => run(CommandIDs.openOutput, { id })
    };
    const section = new JobsSection(model, actions, t);
    sidebar.addSection(section, 40);

    const submit = async (panel: NotebookPanel): Promise<void> => {
      const context = panel.context;
      if (context.model.dirty) {
        await context.save();
      }
      let backends;
      try {
        backends = await model.refreshBackends(true);
      } catch (e) {
        notifyFailure(t, t.__('The batch backends could not be listed'), e);
        return;
      }
      const transfers = await jobsApi.pendingTransfers();
      const nb = context.model.toJSON() as { cells?: any[] };
      const form = new SubmitForm({
        notebook: context.path,
        parameters: notebookParameters(nb.cells ?? []),
        backends,
        basketSelection: basket?.selection ?? [],
        transfers,
        previous,
        trans: t
      });
      const answer = await showDialog({
        title: t.__('Submit %1 as a batch job', panel.title.label),
        body: form,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: t.__('Submit'), ariaLabel: t.__('Submit the job') })],
        focusNodeSelector: 'select'
      });
      if (!answer.button.accept) {
        return;
      }
      const problem = form.problem();
      if (problem) {
        Notification.error(problem, { autoClose: 6000 });
        return;
      }
      const request = answer.value ?? form.getValue();
      previous.backend = request.backend;
      previous.resources = request.resources;
      try {
        const job = await jobsApi.submit(request);
        Notification.info(
          t.__('%1 submitted to %2: %3', job.name, job.backend, statusLabel(job.status, t)),
          { autoClose: 4000 }
        );
        model.poke();
        sidebar.activateSection(section);
      } catch (e) {
        notifyFailure(t, t.__('The job was not submitted'), e);
      }
    };

    commands.addCommand(CommandIDs.submit, {
      label: args => (args.isPalette ? t.__('ESAP: Submit the notebook as a batch job…') : t.__('Submit as Batch Job…')),
      caption: t.__('Run the active notebook as a batch job (local, Slurm, DIRAC) with papermill parameters'),
      icon: args => (args.toolbar ? runIcon : undefined),
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async () => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          Notification.warning(t.__('Open a notebook first: the active notebook is what is submitted.'), {
            autoClose: 5000
          });
          return;
        }
        await submit(panel);
      }
    });
    commands.addCommand(CommandIDs.open, {
      label: t.__('ESAP: Show the batch jobs'),
      execute: () => sidebar.activateSection(section)
    });
    commands.addCommand(CommandIDs.cancel, {
      label: t.__('Cancel Job…'),
      execute: async args => {
        const id = target(args);
        const job = id ? model.get(id) : undefined;
        if (
          job &&
          !isFinal(job.status) &&
          !(await confirmDestructive(
            t,
            t.__('Cancel %1?', job.name),
            t.__('The job stops on %1; what it wrote so far stays, its output notebook may be incomplete.', job.backend),
            t.__('Cancel job')
          ))
        ) {
          return;
        }
        if (id) {
          await jobsApi.remove(id).catch(e => notifyFailure(t, t.__('Not cancelled'), e));
          model.poke();
        }
      }
    });
    commands.addCommand(CommandIDs.remove, {
      label: t.__('Remove Job from the List'),
      execute: async args => {
        const id = target(args);
        if (id) {
          await jobsApi.remove(id).catch(e => notifyFailure(t, t.__('Not removed'), e));
          model.poke();
        }
      }
    });
    commands.addCommand(CommandIDs.resubmit, {
      label: t.__('Resubmit Job'),
      execute: async args => {
        const id = target(args);
        if (!id) {
          return;
        }
        try {
          const job = await jobsApi.resubmit(id);
          Notification.info(t.__('%1 submitted again to %2', job.name, job.backend), { autoClose: 4000 });
        } catch (e) {
          notifyFailure(t, t.__('Not resubmitted'), e);
        }
        model.poke();
      }
    });
    commands.addCommand(CommandIDs.showLog, {
      label: t.__('Show Job Log'),
      execute: args => {
        const id = target(args);
        if (!id) {
          return;
        }
        let widget = logs.get(id);
        if (widget && !widget.isDisposed) {
          void widget.content.reload();
        } else {
          const content = new JobLogView(id, () => jobsApi.log(id), t);
          widget = new MainAreaWidget({ content });
          widget.id = `esap-lab-job-log-${id}`;
          widget.title.label = t.__('Log: %1', model.get(id)?.name ?? id.slice(0, 8));
          widget.title.closable = true;
          logs.set(id, widget);
          widget.disposed.connect(() => logs.delete(id));
          app.shell.add(widget, 'main', { mode: 'split-bottom' });
          void logTracker.add(widget);
        }
        app.shell.activateById(widget.id);
      }
    });
    commands.addCommand(CommandIDs.openOutput, {
      label: t.__('Open Job Output'),
      execute: async args => {
        const id = target(args);
        if (!id) {
          return;
        }
        try {
          const out = await jobsApi.output(id);
          if (out.notebook) {
            await commands.execute('docmanager:open', { path: out.notebook });
          }
        } catch (e) {
          notifyFailure(t, t.__('No output to open'), e);
        }
      }
    });

    model.ended.connect((_, job: IJob) => {
      const text = t.__('Job %1 on %2: %3', job.name, job.backend, statusLabel(job.status, t));
      const options = {
        autoClose: 8000 as number | false,
        actions: job.output
          ? [{ label: t.__('Open output'), callback: () => run(CommandIDs.openOutput, { id: job.id }) }]
          : [{ label: t.__('Show log'), callback: () => run(CommandIDs.showLog, { id: job.id }) }]
      };
      if (job.status === 'completed') {
        Notification.success(text, options);
      } else if (job.status === 'failed') {
        Notification.error(`${text}${job.message ? ' — ' + job.message : ''}`, { ...options, autoClose: false });
      } else {
        Notification.warning(text, options);
      }
    });

    // the notebook toolbar button and the context menu of jobs are declared in schema/plugin.json
    palette?.addItem({ command: CommandIDs.submit, category: 'ESAP', rank: 40 });
    palette?.addItem({ command: CommandIDs.open, category: 'ESAP', rank: 41 });
    // while the sidebar is hidden, poll only for jobs that have not ended (their notifications)
    model.standby = () => !sidebar.shown && !model.jobs.some(j => !isFinal(j.status));
    sidebar.shownChanged.connect((_, shown) => shown && model.poke());
    model.start();
  }
};
