/**
 * The front end's basket: the items as last read from the server, the user's selection, and a
 * poll of the basket's revision so changes made elsewhere (another tab, a kernel) appear.
 */
import { PollingModel } from '../common/polling';
import { IBasketItemInput, IEsapBasket } from '../tokens';
import { basketApi, IAddResult, IBasketItem } from './api';

export class BasketModel extends PollingModel implements IEsapBasket {
  constructor(private _interval: () => number) {
    super();
  }

  get items(): readonly IBasketItem[] {
    return this._items;
  }

  get count(): number {
    return this._items.length;
  }

  get selection(): string[] {
    return this._items.filter(i => this._selected.has(i.id)).map(i => i.id);
  }

  isSelected(id: string): boolean {
    return this._selected.has(id);
  }

  setSelected(id: string, on: boolean): void {
    if (on === this._selected.has(id)) {
      return;
    }
    if (on) {
      this._selected.add(id);
    } else {
      this._selected.delete(id);
    }
    this.emitChanged();
  }

  get(id: string): IBasketItem | undefined {
    return this._items.find(i => i.id === id);
  }

  async add(items: IBasketItemInput[]): Promise<IAddResult> {
    const result = await basketApi.add(items);
    await this.refresh(true);
    return result;
  }

  async remove(id: string): Promise<void> {
    await basketApi.remove(id);
    await this.refresh(true);
  }

  async clear(): Promise<number> {
    const { removed } = await basketApi.clear();
    await this.refresh(true);
    return removed;
  }

  async rename(id: string, title: string): Promise<void> {
    const item = this.get(id);
    if (!item) {
      return;
    }
    try {
      await basketApi.patch(id, item.version, { title });
    } finally {
      await this.refresh(true);
    }
  }

  /** Read the basket again if its revision moved (or always, with `force`). */
  protected async read(force: boolean): Promise<boolean> {
    if (!force && this._revision >= 0) {
      const summary = await basketApi.summary();
      if (summary.revision === this._revision) {
        return false;
      }
    }
    const page = await basketApi.list();
    this._items = page.items;
    this._revision = page.revision;
    const ids = new Set(this._items.map(i => i.id));
    this._selected.forEach(id => !ids.has(id) && this._selected.delete(id));
    return true;
  }

  protected interval(): number {
    return this._interval() * 1000;
  }

  private _items: IBasketItem[] = [];
  private _revision = -1;
  private _selected = new Set<string>();
}

/** Python for a code cell that loads a basket item in the kernel. */
export function loadCode(item: IBasketItem): string {
  const head = [
    'from esap_lab import basket',
    '',
    `item = basket.get(${JSON.stringify(item.id)})  # ${item.kind}: ${item.title.replace(/\n/g, ' ')}`
  ];
  switch (item.kind) {
    case 'record':
    case 'query':
      return [...head, 'table = item.to_table()', 'table'].join('\n');
    case 'did':
      return [...head, 'did = item.did  # "scope:name", e.g. for rucio download', 'did'].join('\n');
    default:
      return [...head, 'url = item.url', 'url'].join('\n');
  }
}

/** Python for a code cell that loads several basket items (records joined into one table). */
export function loadSelectionCode(items: IBasketItem[]): string {
  if (items.length === 1) {
    return loadCode(items[0]);
  }
  const ids = items.map(i => JSON.stringify(i.id)).join(', ');
  const lines = [
    'from esap_lab import basket',
    '',
    `selected = [basket.get(i) for i in [${ids}]]`
  ];
  if (items.every(i => i.kind === 'record')) {
    lines.push('table = basket.records_table(selected)  # the rows of all selected records', 'table');
  } else {
    lines.push('selected');
  }
  return lines.join('\n');
}
