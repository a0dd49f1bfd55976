/**
 * Main-area widgets restored after a reload: a WidgetTracker registered with the layout
 * restorer, in one call (each area gives its namespace, the command that reopens a widget, the
 * arguments of that command and a name unique among its widgets).
 */
import { ILayoutRestorer } from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

export interface IRestoreOptions<T extends Widget> {
  /** The tracker's namespace (the key of its widgets in the state database). */
  namespace: string;
  /** The command that reopens one widget after a reload. */
  command: string;
  /** That command's arguments for a widget. */
  args: (w: T) => ReadonlyPartialJSONObject;
  /** A name unique among the tracker's widgets. */
  name: (w: T) => string;
}

/** A tracker of main-area widgets that come back after a reload (when a restorer is there). */
export function restoredTracker<T extends Widget>(
  restorer: ILayoutRestorer | null,
  options: IRestoreOptions<T>
): WidgetTracker<T> {
  const tracker = new WidgetTracker<T>({ namespace: options.namespace });
  if (restorer) {
    void restorer.restore(tracker, { command: options.command, args: options.args, name: options.name });
  }
  return tracker;
}
