/**
 * The result grid a main-area widget (a plot, a sky view) belongs to, found by its id. After a
 * reload the grid is being restored at the same time as the widgets beside it: wait for it.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';

import { ResultsWidget } from '../search/results';

/** The open grid with this id (undefined when none is open). */
export function gridInMain(shell: JupyterFrontEnd.IShell, id: string): ResultsWidget | undefined {
  for (const w of shell.widgets('main')) {
    if (w.id === id && w instanceof ResultsWidget && !w.isDisposed) {
      return w;
    }
  }
  return undefined;
}

/** ``find()`` again every 250 ms for up to ``ms`` while it finds nothing (a grid being restored). */
export async function waitForGrid(
  find: () => ResultsWidget | null | undefined,
  ms = 10000
): Promise<ResultsWidget | null> {
  let w = find();
  for (let waited = 0; !w && waited < ms; waited += 250) {
    await new Promise(resolve => setTimeout(resolve, 250));
    w = find();
  }
  return w ?? null;
}
