/**
 * The schema browser beside the ADQL editor: schemas -> tables -> columns (datatype, unit, UCD,
 * description, row count where known) with a filter box. Everything loads lazily: the schema
 * names first, a schema's tables a page at a time when it is opened, a table's columns when it
 * is opened; the filter runs on the server. A service with thousands of tables stays responsive.
 * A click on a schema's or a table's name opens or closes it; a double-click on any name, or its
 * insert button (shown on hover and focus), puts the name into the editor.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ITableEntry } from './api';
import { ArchiveSchema } from './model';

const PAGE = 200;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}

export class SchemaBrowser extends Widget {
  constructor(
    private _t: TranslationBundle,
    private _insert: (name: string) => void
  ) {
    super();
    this.addClass('jp-EsapSchema');
    this._filter = el('input', 'jp-mod-styled jp-EsapSchema-filter');
    this._filter.type = 'search';
    this._filter.placeholder = _t.__('Filter tables (name, title, description)');
    this._filter.setAttribute('aria-label', _t.__('Filter the tables'));
    this._filter.addEventListener('input', () => {
      window.clearTimeout(this._debounce);
      const started = performance.now();
      this._debounce = window.setTimeout(() => void this._load(started), 200);
    });
    this._status = el('div', 'jp-EsapSection-hint jp-EsapSchema-status');
    this._status.setAttribute('role', 'status');
    this._tree = el('ul', 'jp-EsapSchema-tree');
    this._tree.setAttribute('role', 'tree');
    this._tree.setAttribute('aria-label', _t.__('Schemas, tables and columns'));
    this.node.append(this._filter, this._status, this._tree);
  }

  /** Show another archive's schema (null: none). */
  setSource(source: ArchiveSchema | null): void {
    this._source = source;
    this._filter.value = '';
    delete this.timings.firstPaint;
    delete this.timings.filter;
    delete this.node.dataset.paintMs;
    delete this.node.dataset.loaded;
    this._tree.textContent = '';
    void this._load(performance.now());
  }

  get filter(): string {
    return this._filter.value.trim();
  }

  /** Milliseconds from asking to the list painted: the first paint, and the last filter. */
  readonly timings: { firstPaint?: number; filter?: number } = {};

  private async _load(started: number): Promise<void> {
    const source = this._source;
    const q = this.filter;
    const generation = ++this._generation;
    if (!source) {
      this._status.textContent = this._t.__('This archive has no TAP service: no tables to browse.');
      return;
    }
    this._status.textContent = this._t.__('Loading the tables…');
    try {
      const list = q ? await source.page(null, q, 0, PAGE) : await source.list();
      if (generation !== this._generation) {
        return; // asked again meanwhile
      }
      this._tree.textContent = '';
      const bySchema = new Map<string, ITableEntry[]>();
      for (const t of list.tables) {
        bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t]);
      }
      for (const s of list.schemas) {
        const node = this._schemaNode(source, s.name, s.table_count, s.description ?? s.title ?? '');
        this._tree.appendChild(node);
        // with a filter, the schemas whose matches came in this page are shown open
        const hits = bySchema.get(s.name);
        if (q && hits && list.total <= PAGE) {
          this._fillSchema(source, node, s.name, { tables: hits, total: hits.length, offset: 0 });
        }
      }
      if (!q && list.schemas.length < list.total) {
        this._moreSchemas(source, list.schemas.length, list.total);
      }
      const tables = list.schemas.reduce((n, s) => n + s.table_count, 0);
      this._status.textContent = q
        ? this._t.__('%1 tables match in %2 schemas', list.total, list.schemas.length)
        : list.schemas.length < list.total
          ? this._t.__('%1 schemas', list.total)
          : this._t.__('%1 schemas, %2 tables', list.total, tables);
      if (!list.schemas.length) {
        this._status.textContent = q ? this._t.__('No table matches "%1".', q) : this._t.__('No tables.');
      }
      // the time until the browser has painted it
      window.requestAnimationFrame(() => {
        const ms = Math.round(performance.now() - started);
        if (q) {
          this.timings.filter = ms;
          this.node.dataset.filterMs = String(ms);
        } else if (this.timings.firstPaint === undefined) {
          this.timings.firstPaint = ms;
          this.node.dataset.paintMs = String(ms);
        }
        this.node.dataset.loaded = q ? `q:${q}` : 'all';
      });
    } catch (e) {
      if (generation === this._generation) {
        this._status.textContent = (e as Error).message;
        this._status.classList.add('jp-EsapSection-error');
      }
      return;
    }
    this._status.classList.remove('jp-EsapSection-error');
  }

  /** A button for the next page of schemas (a service with more than a page of them). */
  private _moreSchemas(source: ArchiveSchema, shown: number, total: number): void {
    const more = el('li', 'jp-EsapSchema-more');
    const b = el('button', 'jp-mod-styled jp-mod-reject', this._t.__('Show more schemas (%1 of %2 shown)', shown, total));
    b.addEventListener('click', async () => {
      more.replaceChildren(el('span', 'jp-EsapSection-hint', this._t.__('Loading…')));
      try {
        const page = await source.schemaPage(shown);
        more.remove();
        for (const s of page.schemas) {
          this._tree.appendChild(this._schemaNode(source, s.name, s.table_count, s.description ?? s.title ?? ''));
        }
        if (shown + page.schemas.length < page.total && page.schemas.length) {
          this._moreSchemas(source, shown + page.schemas.length, page.total);
        }
      } catch (e) {
        more.replaceChildren(el('span', 'jp-EsapSection-error', (e as Error).message));
      }
    });
    more.appendChild(b);
    this._tree.appendChild(more);
  }

  private _row(
    level: 'schema' | 'table' | 'column',
    name: string,
    insert: string,
    hint: string,
    expandable: boolean
  ): { li: HTMLLIElement; toggle: HTMLButtonElement | null; row: HTMLDivElement } {
    const li = el('li', `jp-EsapSchema-${level}`);
    li.setAttribute('role', 'treeitem');
    li.dataset.name = insert;
    const row = el('div', 'jp-EsapSchema-row');
    let toggle: HTMLButtonElement | null = null;
    if (expandable) {
      toggle = el('button', 'jp-EsapSchema-toggle', '▸');
      toggle.setAttribute('aria-label', this._t.__('Open %1', name));
      li.setAttribute('aria-expanded', 'false');
      row.appendChild(toggle);
    } else {
      row.appendChild(el('span', 'jp-EsapSchema-leaf'));
    }
    const button = el('button', 'jp-EsapSchema-name', name);
    button.title = [
      expandable
        ? this._t.__('Click to open or close %1; double-click to insert it into the query', name)
        : this._t.__('Double-click to insert %1 into the query', insert),
      hint
    ]
      .filter(Boolean)
      .join('\n');
    if (expandable) {
      button.addEventListener('click', e => e.detail <= 1 && toggle?.click());
    }
    button.addEventListener('dblclick', () => {
      // a double-click only inserts: its first click's opening (or closing) is undone
      toggle?.click();
      this._insert(insert);
    });
    const add = el('button', 'jp-EsapSchema-insert', '⤶');
    add.title = this._t.__('Insert %1 into the query', insert);
    add.setAttribute('aria-label', this._t.__('Insert %1 into the query', insert));
    add.addEventListener('click', () => this._insert(insert));
    row.append(button, add);
    li.appendChild(row);
    return { li, toggle, row };
  }

  private _schemaNode(source: ArchiveSchema, name: string, count: number, description: string): HTMLLIElement {
    const { li, toggle, row } = this._row('schema', name || this._t.__('(no schema)'), name, description, true);
    row.appendChild(el('span', 'jp-EsapSchema-meta', this._t._n('%1 table', '%1 tables', count)));
    toggle!.addEventListener('click', () => {
      if (li.getAttribute('aria-expanded') === 'true') {
        this._collapse(li);
      } else {
        void this._openSchema(source, li, name, 0);
      }
    });
    return li;
  }

  private _collapse(li: HTMLLIElement): void {
    li.setAttribute('aria-expanded', 'false');
    li.querySelector(':scope > ul')?.remove();
    const toggle = li.querySelector(':scope > .jp-EsapSchema-row > .jp-EsapSchema-toggle');
    if (toggle) {
      toggle.textContent = '▸';
    }
  }

  private async _openSchema(source: ArchiveSchema, li: HTMLLIElement, schema: string, offset: number): Promise<void> {
    const more = li.querySelector(':scope > ul > .jp-EsapSchema-more');
    more?.replaceChildren(el('span', 'jp-EsapSection-hint', this._t.__('Loading…')));
    try {
      const page = await source.page(schema, this.filter, offset, PAGE);
      this._fillSchema(source, li, schema, page);
    } catch (e) {
      this._status.textContent = (e as Error).message;
    }
  }

  private _fillSchema(
    source: ArchiveSchema,
    li: HTMLLIElement,
    schema: string,
    page: { tables: ITableEntry[]; total: number; offset: number }
  ): void {
    let ul = li.querySelector<HTMLUListElement>(':scope > ul');
    if (!ul || page.offset === 0) {
      ul?.remove();
      ul = el('ul', 'jp-EsapSchema-group');
      ul.setAttribute('role', 'group');
      li.appendChild(ul);
    }
    ul.querySelector(':scope > .jp-EsapSchema-more')?.remove();
    li.setAttribute('aria-expanded', 'true');
    const toggle = li.querySelector(':scope > .jp-EsapSchema-row > .jp-EsapSchema-toggle');
    if (toggle) {
      toggle.textContent = '▾';
    }
    const fragment = document.createDocumentFragment();
    for (const t of page.tables) {
      fragment.appendChild(this._tableNode(source, t));
    }
    ul.appendChild(fragment);
    const shown = page.offset + page.tables.length;
    if (shown < page.total) {
      const more = el('li', 'jp-EsapSchema-more');
      const b = el('button', 'jp-mod-styled jp-mod-reject', this._t.__('Show %1 more (%2 of %3 shown)', Math.min(PAGE, page.total - shown), shown, page.total));
      b.addEventListener('click', () => void this._openSchema(source, li, schema, shown));
      more.appendChild(b);
      ul.appendChild(more);
    }
  }

  private _tableNode(source: ArchiveSchema, t: ITableEntry): HTMLLIElement {
    const short = t.schema && t.name.toLowerCase().startsWith(t.schema.toLowerCase() + '.')
      ? t.name.slice(t.schema.length + 1)
      : t.name;
    const { li, toggle, row } = this._row('table', short, t.name, t.description ?? t.title ?? '', true);
    if (typeof t.nrows === 'number') {
      row.appendChild(el('span', 'jp-EsapSchema-meta', this._t._n('%1 row', '%1 rows', t.nrows)));
    }
    if (t.description || t.title) {
      row.appendChild(el('span', 'jp-EsapSchema-desc', t.title ?? t.description ?? ''));
    }
    toggle!.addEventListener('click', async () => {
      if (li.getAttribute('aria-expanded') === 'true') {
        this._collapse(li);
        return;
      }
      li.setAttribute('aria-expanded', 'true');
      toggle!.textContent = '▾';
      const ul = el('ul', 'jp-EsapSchema-group');
      ul.setAttribute('role', 'group');
      ul.appendChild(el('li', 'jp-EsapSection-hint', this._t.__('Loading the columns…')));
      li.appendChild(ul);
      try {
        const detail = await source.detail(t.name);
        ul.textContent = '';
        if (!detail) {
          ul.appendChild(el('li', 'jp-EsapSection-error', this._t.__('The archive has no table %1.', t.name)));
          return;
        }
        for (const c of detail.columns) {
          const hint = [c.description, c.ucd ? `UCD ${c.ucd}` : '', c.datatype ? this._t.__('type %1', c.datatype) : '']
            .filter(Boolean)
            .join('\n');
          const { li: cli, row: crow } = this._row('column', c.name, c.name, hint, false);
          const meta = [c.datatype, c.unit ? `[${c.unit}]` : '', c.ucd].filter(Boolean).join(' · ');
          crow.appendChild(el('span', 'jp-EsapSchema-meta', meta));
          if (c.description) {
            crow.appendChild(el('span', 'jp-EsapSchema-desc', c.description));
          }
          ul.appendChild(cli);
        }
      } catch (e) {
        ul.textContent = '';
        ul.appendChild(el('li', 'jp-EsapSection-error', (e as Error).message));
      }
    });
    return li;
  }

  private _source: ArchiveSchema | null = null;
  private _filter: HTMLInputElement;
  private _status: HTMLDivElement;
  private _tree: HTMLUListElement;
  private _debounce = 0;
  private _generation = 0;
}
