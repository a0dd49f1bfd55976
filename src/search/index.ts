import { JupyterFrontEndPlugin } from '@jupyterlab/application';

// Placeholder; the Search section is written next.
export const searchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'esap-lab:search',
  autoStart: true,
  activate: () => undefined
};
