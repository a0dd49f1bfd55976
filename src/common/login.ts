/**
 * "Log in again": on a JupyterHub, the services (Rucio, DiracX, archives) get the user's login
 * token. When the hub could no longer renew it, the server answers with the reason
 * `login-expired`; the API client hands every error to `noticeLogin`, which then shows one
 * notification with a "Log in again" action (the hub's login page, back to this page after).
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { Notification } from '@jupyterlab/apputils';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

/** The reason the server gives when the login's token has expired and cannot be renewed. */
export const LOGIN_EXPIRED = 'login-expired';

let trans: TranslationBundle = nullTranslator.load('esap_lab');
let shown: string | null = null;

/** Translate the notification with the application's translator (optional: English without). */
export function setLoginTranslator(bundle: TranslationBundle): void {
  trans = bundle;
}

/**
 * The hub's login page, coming back to this page once logged in; null when this server was not
 * started by a hub.
 */
export function hubLoginUrl(): string | null {
  const prefix = PageConfig.getOption('hubPrefix');
  if (!prefix) {
    return null;
  }
  const here = window.location.pathname + window.location.search;
  const login = URLExt.join(PageConfig.getOption('hubHost') || '', prefix, 'login');
  return `${login}?next=${encodeURIComponent(here)}`;
}

/**
 * Called with every error of the API client: an expired login shows "Log in again" (once while
 * the notification is on screen), anything else is left to the caller.
 */
export function noticeLogin(error: { reason?: string; message: string }): void {
  if (error.reason !== LOGIN_EXPIRED) {
    return;
  }
  if (shown && Notification.manager.has(shown)) {
    return;
  }
  const url = hubLoginUrl();
  // short: a toast shows 140 characters (the server's whole message is in the error itself)
  shown = Notification.warning(trans.__('Your login has expired and could not be renewed: log in again.'), {
    autoClose: false,
    actions: url
      ? [
          {
            label: trans.__('Log in again'),
            caption: trans.__('Open the hub login page, then come back here'),
            displayType: 'accent',
            callback: () => {
              window.location.assign(url);
            }
          }
        ]
      : []
  });
}
