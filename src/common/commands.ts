/**
 * Helpers the plugins' commands share: how a failure is told, and which list entry or file a
 * command acts on.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import type { Contents } from '@jupyterlab/services';
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

/**
 * Ask before something that cannot be undone (cancel a running transfer or job, clear, delete):
 * resolves true only when the user pressed the warning button `action`.
 */
export async function confirmDestructive(
  t: TranslationBundle,
  title: string,
  body: string,
  action: string
): Promise<boolean> {
  const answer = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: t.__('Keep') }), Dialog.warnButton({ label: action })]
  });
  return answer.button.accept;
}

/** The file selected in the file browser, when its name matches `pattern` (a folder never does). */
export function selectedFile(browser: IDefaultFileBrowser | null, pattern: RegExp): Contents.IModel | undefined {
  const item = browser ? [...browser.selectedItems()][0] : undefined;
  return item && item.type !== 'directory' && pattern.test(item.name) ? item : undefined;
}
