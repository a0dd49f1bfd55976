/**
 * Tokens through which the esap-lab plugins (Search, Basket, Staging, Jobs) find each other.
 * Each area is its own plugin; the sidebar plugin owns the panel they add sections to.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

/** The ESAP sidebar: one accordion panel with a section per step of the flow. */
export interface IEsapSidebar {
  /** Add a section; lower `rank` comes first (Search 10, Basket 20, Staging 30, Jobs 40).
   * `weight` is its share of the height (default 1). */
  addSection(widget: Widget, rank: number, weight?: number): void;
  /** Show the sidebar and expand the given section. */
  activateSection(widget: Widget): void;
  /** Set the small count badge of the sidebar tab (e.g. basket size); 0 hides it. */
  setBadge(count: number): void;
  /** Is the sidebar shown? (its models stand by while it is not) */
  readonly shown: boolean;
  /** Emits true when the sidebar is shown, false when it is hidden. */
  readonly shownChanged: ISignal<IEsapSidebar, boolean>;
}

export const IEsapSidebar = new Token<IEsapSidebar>(
  'esap-lab:IEsapSidebar',
  'The ESAP sidebar that the esap-lab areas add their sections to.'
);

/**
 * What may be put in the basket (the server adds id, added, updated, version). The fields per
 * kind (esap_lab/basket/models.py):
 * - record: archive, rows: [{column: value}] (or row: {...} for one), query_id?, access_url?,
 *   access_url_column?, datalink?, columns? (filled in from the query when absent)
 * - query: archive, request (the body POSTed to /archives/{archive}/queries), query_id?
 * - did: scope, name, did_type? ('file' | 'dataset' | 'container'), instance?, bytes?
 * - file: url, name?, size?, checksum? ('md5:...'), content_type?
 * Every kind: title?, source?, notes?, tags?, metadata?
 */
export interface IBasketItemInput {
  kind: 'record' | 'query' | 'did' | 'file';
  title?: string;
  source?: string;
  [key: string]: unknown;
}

/** The basket as other areas see it (implemented by the basket plugin). */
export interface IEsapBasket {
  /** Add items; one already in the basket (same content) is kept once and counted as duplicate. */
  add(items: IBasketItemInput[]): Promise<{ added: number; duplicates: number }>;
  /** Ids of the basket items the user has selected in the Basket section. */
  readonly selection: string[];
  readonly changed: ISignal<IEsapBasket, void>;
}

export const IEsapBasket = new Token<IEsapBasket>(
  'esap-lab:IEsapBasket',
  'The esap-lab basket: add found data, read the selection.'
);

/** Staging as other areas see it (implemented by the staging plugin). */
export interface IEsapStaging {
  stage(request: {
    items?: string[];
    dids?: string[];
    /** plain http(s) URLs, e.g. the access URLs of image search results */
    urls?: (string | { url: string; name?: string; bytes?: number; checksum?: string })[];
    mode?: 'download' | 'replica';
    instance?: string;
    destination?: string;
  }): Promise<{ id: string; status: string }>;
}

export const IEsapStaging = new Token<IEsapStaging>(
  'esap-lab:IEsapStaging',
  'esap-lab staging: bring basket items or DIDs into reach of the session.'
);
