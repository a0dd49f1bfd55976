import { ILabShell } from '@jupyterlab/application';
import { ITranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { BoxPanel, TabPanel, Widget } from '@lumino/widgets';

import esapSvg from '../style/icons/esap.svg';
import { IEsapSidebar } from './tokens';

export const esapIcon = new LabIcon({ name: 'esap-lab:esap', svgstr: esapSvg });

/**
 * The ESAP sidebar: a navigator with one tab per step of the flow (Search, Basket, Staging,
 * Jobs, Tables, Software). The step shown takes the whole height of the sidebar and scrolls on its own (one
 * scrollbar, never one per section); work that needs room opens in the main area.
 */
export class EsapSidebar extends BoxPanel implements IEsapSidebar {
  constructor(
    private _shell: ILabShell,
    translator: ITranslator
  ) {
    super({ direction: 'top-to-bottom', spacing: 0 });
    const trans = translator.load('esap_lab');
    this.id = 'esap-lab-sidebar';
    this.addClass('jp-EsapSidebar');
    this.title.icon = esapIcon;
    this.title.caption = trans.__('ESAP: find, collect, stage and run');
    const header = new Widget();
    header.node.textContent = trans.__('ESAP');
    header.addClass('jp-EsapSidebar-header');
    this._steps = new TabPanel({ tabPlacement: 'top', tabsMovable: false });
    this._steps.addClass('jp-EsapSidebar-steps');
    this._steps.tabBar.addClass('jp-EsapSidebar-tabs');
    this._steps.tabBar.node.setAttribute('aria-label', trans.__('ESAP steps'));
    this.addWidget(header);
    this.addWidget(this._steps);
    BoxPanel.setStretch(header, 0);
    BoxPanel.setStretch(this._steps, 1);
    // The steps wrap onto as many rows as the sidebar's width needs (six steps: two rows of
    // three at the default 250 px) so no label is cut. Lumino sizes the tab bar from its CSS
    // min/max height, so the bar follows the height of its wrapped content.
    const content = this._steps.tabBar.contentNode;
    if (typeof ResizeObserver !== 'undefined') {
      this._observer = new ResizeObserver(() => this._fitTabs());
      this._observer.observe(content);
    }
  }

  dispose(): void {
    this._observer?.disconnect();
    super.dispose();
  }

  private _fitTabs(): void {
    const height = Math.ceil(this._steps.tabBar.contentNode.getBoundingClientRect().height);
    const bar = this._steps.tabBar.node;
    if (height > 0 && bar.style.minHeight !== `${height}px`) {
      bar.style.minHeight = bar.style.maxHeight = `${height}px`;
      this._steps.fit();
    }
  }

  /** The step shown (its widget), e.g. for the layout restorer. */
  get currentStep(): Widget | null {
    return this._steps.currentWidget;
  }

  addSection(widget: Widget, rank: number, _weight = 1): void {
    this._ranks.set(widget, rank);
    widget.addClass('jp-EsapSidebar-section');
    const widgets = [...this._steps.widgets];
    let index = widgets.findIndex(w => (this._ranks.get(w) ?? 0) > rank);
    if (index < 0) {
      index = widgets.length;
    }
    // the full label as a tooltip too (read by screen readers from the tab's text)
    if (!widget.title.caption) {
      widget.title.caption = widget.title.label;
    }
    this._steps.insertWidget(index, widget);
    // the first step (Search) is shown at start
    this._steps.currentIndex = 0;
  }

  activateSection(widget: Widget): void {
    this._shell.activateById(this.id);
    const index = this._steps.widgets.indexOf(widget);
    if (index >= 0) {
      this._steps.currentIndex = index;
    }
  }

  setBadge(count: number): void {
    // Keep the rest of the title's dataset: the shell stores the tab's data-id there. Lumino
    // writes each key as data-<key> verbatim, so the key is spelled as the attribute is.
    const dataset = { ...this.title.dataset };
    delete dataset['esap-badge'];
    if (count > 0) {
      dataset['esap-badge'] = String(count);
    }
    this.title.dataset = dataset;
    const classes = this.title.className.split(/\s+/).filter(c => c && c !== 'jp-EsapSidebar-hasBadge');
    this.title.className = [...classes, ...(count > 0 ? ['jp-EsapSidebar-hasBadge'] : [])].join(' ');
  }

  get shown(): boolean {
    return this.isVisible;
  }

  get shownChanged(): ISignal<this, boolean> {
    return this._shownChanged;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._shownChanged.emit(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._shownChanged.emit(false);
  }

  private _ranks = new Map<Widget, number>();
  private _steps: TabPanel;
  private _observer: ResizeObserver | null = null;
  private _shownChanged = new Signal<this, boolean>(this);
}
