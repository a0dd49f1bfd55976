/**
 * The polling model the Basket, Staging and Jobs sections share: when it reads, what it tells
 * its views, how it waits after errors, and that stop and dispose end the polling.
 * Jest runs in node here: the page (document visibility, window timers) is a small stand-in.
 */
import { formatBytes, isFinal } from '../common/format';
import { PollingModel } from '../common/polling';

const page = {
  hidden: false,
  listeners: new Set<() => void>(),
  addEventListener(_: string, f: () => void) {
    this.listeners.add(f);
  },
  removeEventListener(_: string, f: () => void) {
    this.listeners.delete(f);
  },
  show() {
    this.hidden = false;
    this.listeners.forEach(f => f());
  }
};
Object.assign(globalThis, { document: page, window: globalThis });

/** Reads from a script of answers: a number is a value, an Error a failed read. */
class Counter extends PollingModel {
  constructor(public answers: (number | Error)[] = []) {
    super();
  }

  reads = 0;
  value = -1;
  ms = 1000;
  gate: Promise<void> | null = null;

  protected async read(): Promise<boolean> {
    this.reads++;
    if (this.gate) {
      await this.gate;
    }
    const next = this.answers.length ? this.answers.shift()! : this.value;
    if (next instanceof Error) {
      throw next;
    }
    const moved = next !== this.value;
    this.value = next;
    return moved;
  }

  protected interval(): number {
    return this.ms;
  }
}

function watch(model: Counter): { count: number } {
  const seen = { count: 0 };
  model.changed.connect(() => seen.count++);
  return seen;
}

describe('PollingModel', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    page.hidden = false;
    page.listeners.clear();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('reads at once on start, then every interval, and tells only of changes', async () => {
    const model = new Counter([1, 1, 2]);
    const seen = watch(model);
    expect(model.loaded).toBe(false);
    model.start();
    model.start(); // a second start changes nothing
    await jest.advanceTimersByTimeAsync(0);
    expect(model.reads).toBe(1);
    expect(model.loaded).toBe(true);
    expect(seen.count).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(2);
    expect(seen.count).toBe(1); // same value: no signal
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(3);
    expect(seen.count).toBe(2);
    model.dispose();
  });

  it('waits longer after failed reads (up to twice the last wait), and clears the error once a read works', async () => {
    // lumino's Poll draws the wait after a failure between the interval and twice the last wait:
    // the top of that range here
    jest.spyOn(Math, 'random').mockReturnValue(0.99999);
    const model = new Counter([new Error('down'), new Error('down'), new Error('down'), 5]);
    const seen = watch(model);
    model.start(); // the first read at once, the first poll 1 s later
    await jest.advanceTimersByTimeAsync(0);
    expect(model.error).toBe('down');
    expect(model.loaded).toBe(false);
    expect(seen.count).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(2); // failed: the next wait is 2 s, not 1 s
    await jest.advanceTimersByTimeAsync(1999);
    expect(model.reads).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(3); // failed again: 4 s
    await jest.advanceTimersByTimeAsync(3999);
    expect(model.reads).toBe(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(4);
    expect(model.error).toBe('');
    expect(model.value).toBe(5);
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(5); // back to the interval
    model.dispose();
  });

  it('after a failure never waits less than the interval', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const model = new Counter([new Error('down'), new Error('down'), new Error('down')]);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    await jest.advanceTimersByTimeAsync(999);
    expect(model.reads).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(2);
    await jest.advanceTimersByTimeAsync(999);
    expect(model.reads).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(3);
    model.dispose();
  });

  it('never waits more than 30 s, however many reads failed', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.99999);
    const model = new Counter(Array.from({ length: 10 }, () => new Error('down')));
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    // reads at 0 and 1 s, then 2, 4, 8, 16 s apart; then 30 s (not 32) and 30 s again
    await jest.advanceTimersByTimeAsync(1000 * (1 + 2 + 4 + 8 + 16) + 30000 * 2);
    expect(model.reads).toBe(8);
    await jest.advanceTimersByTimeAsync(29999);
    expect(model.reads).toBe(8);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(9);
    model.dispose();
  });

  it('follows the interval the model asks for (e.g. a changed setting)', async () => {
    const model = new Counter();
    model.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(2);
    model.ms = 5000; // taken at the next tick
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(3);
    await jest.advanceTimersByTimeAsync(4999);
    expect(model.reads).toBe(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(4);
    model.ms = 100; // never faster than every 0.5 s
    await jest.advanceTimersByTimeAsync(5000);
    await jest.advanceTimersByTimeAsync(499);
    expect(model.reads).toBe(5);
    await jest.advanceTimersByTimeAsync(1);
    expect(model.reads).toBe(6);
    model.dispose();
  });

  it('an unchanged read clears a shown error and tells the views', async () => {
    const model = new Counter([3]);
    const seen = watch(model);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    model.answers.push(new Error('blip'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.error).toBe('blip');
    await jest.advanceTimersByTimeAsync(2000);
    expect(model.error).toBe('');
    expect(seen.count).toBe(3);
    model.dispose();
  });

  it('joins a read that runs; a forced refresh reads once more after it', async () => {
    const model = new Counter();
    let open!: () => void;
    model.gate = new Promise(resolve => (open = resolve));
    const first = model.refresh();
    const joined = model.refresh();
    expect(model.reads).toBe(1);
    const forced = model.refresh(true);
    model.gate = null;
    open();
    await Promise.all([first, joined, forced]);
    expect(model.reads).toBe(2);
    model.dispose();
  });

  it('does not poll while the page is hidden, and reads when it shows again', async () => {
    const model = new Counter();
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    page.hidden = true;
    await jest.advanceTimersByTimeAsync(5000);
    expect(model.reads).toBe(1);
    page.show();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.reads).toBe(2);
    model.dispose();
  });

  it('stands by while told to (the sidebar is hidden), yet a poke still reads', async () => {
    const model = new Counter();
    let hidden = true;
    model.standby = () => hidden;
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.reads).toBe(1); // the first read at start
    await jest.advanceTimersByTimeAsync(5000);
    expect(model.reads).toBe(1);
    model.poke();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.reads).toBe(2);
    hidden = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(3);
    model.dispose();
  });

  it('stop ends the polling, start resumes it; dispose ends it for good', async () => {
    const model = new Counter();
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    model.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(model.reads).toBe(1);
    model.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(model.reads).toBe(3);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    expect(page.listeners.size).toBe(0);
    await jest.advanceTimersByTimeAsync(5000);
    expect(model.reads).toBe(3);
    model.start();
    await jest.advanceTimersByTimeAsync(5000);
    expect(model.reads).toBe(3);
  });
});

describe('isFinal and formatBytes (one of each for every area)', () => {
  it('knows the ended states of queries, transfers and jobs', () => {
    for (const s of ['completed', 'error', 'failed', 'cancelled']) {
      expect(isFinal(s)).toBe(true);
    }
    for (const s of ['queued', 'running', 'waiting-for-data']) {
      expect(isFinal(s)).toBe(false);
    }
  });

  it('writes sizes in decimal units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(46500)).toBe('47 kB');
    expect(formatBytes(2.5e9)).toBe('2.5 GB');
    expect(formatBytes(null)).toBe('?');
  });
});
