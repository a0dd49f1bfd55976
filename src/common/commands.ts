/**
 * Helpers the plugins' commands share: how a failure is told, and which list entry a command
 * acts on.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

/** Tell the user that `what` failed, and why (the error's message). */
export function notifyFailure(t: TranslationBundle, what: string, error: unknown): void {
  Notification.error(t.__('%1: %2', what, (error as Error).message), { autoClose: 8000 });
}

/**
 * The id a command acts on: `args.id` when given, else the `idAttr` attribute of the entry
 * (an element with class `className`) under the context menu.
 */
export function contextTarget(
  app: JupyterFrontEnd,
  className: string,
  idAttr: string
): (args: { id?: unknown }) => string | undefined {
  return args => {
    if (typeof args.id === 'string') {
      return args.id;
    }
    const node = app.contextMenuHitTest(n => n.classList.contains(className));
    return node?.getAttribute(idAttr) ?? undefined;
  };
}
