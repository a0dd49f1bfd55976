/**
 * A model of something the server holds, read again and again: every few seconds while the
 * page is visible, at once when it becomes visible again, less often while reads fail, never
 * after dispose. The Basket, Staging and Jobs sections each extend it with what they read.
 *
 * The timer is lumino's `Poll`: after a failed read it waits a random time between the interval
 * and twice its last wait (at most 30 s); it stands by (ticks without reading) while the page is
 * hidden or while `standby()` says so (the ESAP sidebar is hidden).
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

/** The longest wait between two polls while reads keep failing. */
const MAX_BACKOFF_MS = 30000;

/** The shortest wait between two polls. */
const MIN_INTERVAL_MS = 500;

/** After a failed read the next wait is at most this many times the last one. */
const BACKOFF_GROWTH = 2;

export abstract class PollingModel implements IDisposable {
  constructor() {
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  /** True once a read succeeded. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error of a refresh ('' when fine). */
  get error(): string {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Read again. A call while a read runs waits for that read; with `force`, one more read
   * follows it (what the running read saw may already be out of date).
   */
  async refresh(force = false): Promise<void> {
    if (this._refreshing) {
      this._again = this._again || force;
      return this._refreshing;
    }
    this._refreshing = this._refresh(force);
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
    }
    if (this._again) {
      this._again = false;
      await this.refresh(true);
    }
  }

  /**
   * While this says true the timer skips its reads (e.g. the ESAP sidebar is hidden and nothing
   * runs that a notification follows); `poke` and `refresh` still read.
   */
  standby: () => boolean = () => false;

  /** Poll again soon (after a submit or an action). */
  poke(): void {
    void this.refresh();
  }

  /** Start polling (the first read happens at once, the first poll one interval later). */
  start(): void {
    if (this._polling || this._disposed) {
      return;
    }
    this._polling = true;
    void this.refresh(true);
    this.onStart();
    this._tune();
    void this._poll.schedule({
      cancel: ({ phase }) => phase !== 'constructed' && phase !== 'standby' && phase !== 'stopped',
      interval: this._poll.frequency.interval,
      phase: 'started'
    });
  }

  /** Stop polling; `start` resumes it. */
  stop(): void {
    if (this._polling) {
      this._polling = false;
      void this._poll.stop();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._polling = false;
    this._poll.dispose();
    document.removeEventListener('visibilitychange', this._onVisibility);
    Signal.clearData(this);
  }

  /**
   * Read from the server and keep what was read. Resolve false when nothing changed (the views
   * are then not told), true otherwise; throw when the read failed.
   */
  protected abstract read(force: boolean): Promise<boolean>;

  /** Milliseconds from one poll to the next while reads succeed. */
  protected abstract interval(): number;

  /** What else to do when polling starts (after the first read was asked for). */
  protected onStart(): void {
    // nothing by default
  }

  /** Tell the views that the model changed. */
  protected emitChanged(): void {
    this._changed.emit();
  }

  /** Show an error of a read outside the poll (the next good poll clears it). */
  protected setError(error: unknown): void {
    this._error = (error as Error).message;
  }

  private async _refresh(force: boolean): Promise<void> {
    try {
      const moved = await this.read(force);
      this._failures = 0;
      this._loaded = true;
      if (!moved && !this._error) {
        return;
      }
      this._error = '';
    } catch (error) {
      this._failures++;
      this.setError(error);
    }
    this._changed.emit();
  }

  /** One tick of the poll: read, and fail when the read failed (the poll then backs off). */
  private async _tick(): Promise<void> {
    await this.refresh();
    this._tune();
    if (this._failures) {
      throw new Error(this._error);
    }
  }

  /** Follow the interval the model asks for now (it may change with what was read). */
  private _tune(): void {
    const interval = Math.round(Math.max(MIN_INTERVAL_MS, this.interval()));
    const max = Math.max(MAX_BACKOFF_MS, interval);
    const now = this._poll.frequency;
    if (now.interval !== interval || now.max !== max) {
      this._poll.frequency = { backoff: BACKOFF_GROWTH, interval, max };
    }
  }

  private _onVisibility = (): void => {
    if (!document.hidden) {
      void this.refresh();
    }
  };

  private _loaded = false;
  private _error = '';
  private _failures = 0;
  private _changed = new Signal<this, void>(this);
  private _polling = false;
  private _poll = new Poll({
    auto: false,
    name: 'esap-lab',
    factory: () => this._tick(),
    frequency: { interval: 1000, backoff: BACKOFF_GROWTH, max: MAX_BACKOFF_MS },
    // ticks while standing by read nothing; the interval may have changed meanwhile
    standby: () => {
      this._tune();
      return document.hidden || this.standby();
    }
  });
  private _refreshing: Promise<void> | null = null;
  private _again = false;
  private _disposed = false;
}
