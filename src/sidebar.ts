import { ILabShell } from '@jupyterlab/application';
import { ITranslator } from '@jupyterlab/translation';
import { LabIcon, SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';

import esapSvg from '../style/icons/esap.svg';
import { IEsapSidebar } from './tokens';

export const esapIcon = new LabIcon({ name: 'esap-lab:esap', svgstr: esapSvg });

/** The left sidebar panel holding one collapsible section per area. */
export class EsapSidebar extends SidePanel implements IEsapSidebar {
  constructor(
    private _shell: ILabShell,
    translator: ITranslator
  ) {
    super({ translator });
    const trans = translator.load('esap_lab');
    this.id = 'esap-lab-sidebar';
    this.addClass('jp-EsapSidebar');
    this.title.icon = esapIcon;
    this.title.caption = trans.__('ESAP: find, collect, stage and run');
    const header = new Widget();
    header.node.textContent = trans.__('ESAP');
    header.addClass('jp-EsapSidebar-header');
    this.header.addWidget(header);
  }

  addSection(widget: Widget, rank: number, weight = 1): void {
    this._ranks.set(widget, rank);
    this._weights.set(widget, weight);
    widget.addClass('jp-EsapSidebar-section');
    const widgets = [...this.content.widgets];
    let index = widgets.findIndex(w => (this._ranks.get(w) ?? 0) > rank);
    if (index < 0) {
      index = widgets.length;
    }
    this.insertWidget(index, widget);
    const accordion = this.content as AccordionPanel;
    // Lumino appends each new section at the end of the DOM; keep the DOM (reading and
    // keyboard order) the same as the visual order.
    accordion.widgets.forEach((w, i) => {
      const title = accordion.titles[i];
      if (title) {
        accordion.node.appendChild(title);
      }
      accordion.node.appendChild(w.node);
    });
    accordion.setRelativeSizes(accordion.widgets.map(w => this._weights.get(w) ?? 1));
  }

  activateSection(widget: Widget): void {
    this._shell.activateById(this.id);
    const index = this.content.widgets.indexOf(widget);
    const accordion = this.content as AccordionPanel;
    if (index >= 0 && !widget.isVisible && accordion.expand) {
      accordion.expand(index);
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

  private _ranks = new Map<Widget, number>();
  private _weights = new Map<Widget, number>();
}
