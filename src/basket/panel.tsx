/**
 * The Basket section of the ESAP sidebar: items grouped by kind, each selectable, with actions
 * to load it in a notebook or remove it; export, import and clear for the whole basket.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  closeIcon,
  deleteIcon,
  downloadIcon,
  fileUploadIcon,
  notebookIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import { IconButton, ISectionProps, RefreshButton, SectionBody, SectionWidget } from '../common/components';
import { formatBytes } from '../common/format';
import { BasketKind, IBasketItem, KINDS } from './api';
import { BasketModel, loadCode } from './model';

/** What the section's buttons do (commands of the plugin). */
export interface IBasketActions {
  insertCell(id: string): void;
  insertSelection(): void;
  remove(id: string): void;
  clear(): void;
  exportFile(): void;
  importFile(): void;
}

export const ITEM_CLASS = 'jp-EsapBasket-item';
export const ITEM_ID_ATTR = 'data-esap-basket-id';

function kindLabel(kind: BasketKind, t: TranslationBundle): string {
  switch (kind) {
    case 'record':
      return t.__('Records');
    case 'query':
      return t.__('Queries');
    case 'did':
      return t.__('Rucio DIDs');
    default:
      return t.__('Files');
  }
}

/** A tooltip saying what the item points at. */
export function describeItem(item: IBasketItem, t: TranslationBundle): string {
  const lines = [item.title];
  switch (item.kind) {
    case 'record':
      lines.push(
        t.__('%1 row(s) from archive %2', item.rows?.length ?? 0, item.archive ?? '')
      );
      if (item.access_url) {
        lines.push(item.access_url);
      }
      break;
    case 'query':
      lines.push(t.__('Query on archive %1', item.archive ?? ''));
      if (item.row_count !== null && item.row_count !== undefined) {
        lines.push(t.__('%1 rows when added', item.row_count));
      }
      break;
    case 'did':
      lines.push(`${item.scope}:${item.name} (${item.did_type})`);
      break;
    default:
      lines.push(String(item.url ?? ''));
      if (typeof item.size === 'number') {
        lines.push(formatBytes(item.size));
      }
  }
  if (item.notes) {
    lines.push(item.notes);
  }
  lines.push(t.__('Added %1', new Date(item.added).toLocaleString()));
  return lines.join('\n');
}

function Item(props: {
  item: IBasketItem;
  model: BasketModel;
  actions: IBasketActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { item, model, actions, trans: t } = props;
  const selected = model.isSelected(item.id);
  return (
    <li
      className={ITEM_CLASS + (selected ? ' jp-mod-selected' : '')}
      {...{ [ITEM_ID_ATTR]: item.id }}
      draggable
      onDragStart={e => {
        // dropped on a cell's editor, the code that loads the item is pasted
        e.dataTransfer.setData('text/plain', loadCode(item));
        e.dataTransfer.effectAllowed = 'copy';
      }}
      title={describeItem(item, t)}
    >
      <input
        type="checkbox"
        checked={selected}
        aria-label={t.__('Select %1', item.title)}
        onChange={e => model.setSelected(item.id, e.currentTarget.checked)}
      />
      <span className="jp-EsapSection-title">{item.title}</span>
      <span className="jp-EsapChip">{item.source}</span>
      <IconButton
        icon={notebookIcon}
        label={t.__('Insert a code cell loading %1', item.title)}
        title={t.__('Insert a code cell loading this item into the active notebook')}
        onClick={() => actions.insertCell(item.id)}
      />
      <IconButton
        icon={closeIcon}
        label={t.__('Remove %1 from the basket', item.title)}
        title={t.__('Remove from the basket')}
        onClick={() => actions.remove(item.id)}
      />
    </li>
  );
}

function Basket(props: ISectionProps<BasketModel, IBasketActions>): JSX.Element {
  const { model, actions, trans: t } = props;
  const items = model.items;
  const selected = model.selection.length;
  const tools = (
    <>
      <Button minimal small aria-label={t.__('Export the basket to a file')}
        title={t.__('Export the basket to a JSON file')} onClick={() => actions.exportFile()}
        disabled={!items.length}>
        <downloadIcon.react tag="span" /> {t.__('Export')}
      </Button>
      <Button minimal small aria-label={t.__('Import a basket file')}
        title={t.__('Add the items of an exported basket file')} onClick={() => actions.importFile()}>
        <fileUploadIcon.react tag="span" /> {t.__('Import')}
      </Button>
      <RefreshButton label={t.__('Refresh the basket')} title={t.__('Read the basket again')}
        onClick={() => void model.refresh(true)} />
      <Button minimal small aria-label={t.__('Clear the basket')} title={t.__('Remove every item')}
        onClick={() => actions.clear()} disabled={!items.length}>
        <deleteIcon.react tag="span" /> {t.__('Clear')}
      </Button>
    </>
  );
  return (
    <SectionBody
      className="jp-EsapBasket-body"
      toolbarLabel={t.__('Basket actions')}
      tools={tools}
      model={model}
      empty={!items.length}
      emptyHint={t.__(
        'The basket is empty. Select rows in a search result and choose "Add to basket", or add items from a notebook: from esap_lab import basket.'
      )}
    >
      {items.length > 0 && (
        <div className="jp-EsapBasket-status">
          <span className="jp-EsapSection-hint" aria-live="polite">
            {selected
              ? t._n('%1 item, %2 selected', '%1 items, %2 selected', items.length, selected)
              : t._n('%1 item', '%1 items', items.length)}
          </span>
          {selected > 0 && (
            <Button minimal small className="jp-EsapBasket-loadSelection"
              aria-label={t.__('Insert a code cell loading the selected items')}
              title={t.__('Insert a code cell loading the selected items into the active notebook')}
              onClick={() => actions.insertSelection()}>
              <notebookIcon.react tag="span" /> {t.__('Load selection')}
            </Button>
          )}
        </div>
      )}
      {KINDS.map(kind => {
        const group = items.filter(i => i.kind === kind);
        if (!group.length) {
          return null;
        }
        return (
          <section key={kind} className="jp-EsapBasket-group" data-kind={kind}>
            <h3 className="jp-EsapBasket-groupTitle">
              {kindLabel(kind, t)} <span className="jp-EsapChip">{group.length}</span>
            </h3>
            <ul className="jp-EsapSection-list" aria-label={kindLabel(kind, t)}>
              {group.map(item => (
                <Item key={item.id} item={item} model={model} actions={actions} trans={t} />
              ))}
            </ul>
          </section>
        );
      })}
    </SectionBody>
  );
}

export class BasketSection extends SectionWidget<BasketModel, IBasketActions> {
  constructor(model: BasketModel, actions: IBasketActions, trans: TranslationBundle) {
    super({
      id: 'esap-lab-basket',
      className: 'jp-EsapBasket',
      label: trans.__('Basket'),
      caption: trans.__('What you collected: records, queries, Rucio DIDs and files'),
      body: Basket,
      model,
      actions,
      trans
    });
  }
}
