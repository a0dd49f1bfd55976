/**
 * A SAMP Web Profile client (IVOA SAMP 1.3, section 5): XML-RPC over HTTP to the hub's web
 * port on this machine (http://localhost:21012/, opened by TOPCAT, Aladin or
 * `samp_hub`). It registers as "esap-lab", sends tables (table.load.votable / table.load.fits)
 * and receives the tables other tools send (pulled callbacks).
 */

export const WEB_PROFILE_URL = 'http://localhost:21012/';

export type SampValue = string | SampValue[] | { [key: string]: SampValue };

/** The hub could not be reached: nothing listens on the web profile's port. */
export class NoHubError extends Error {
  constructor() {
    super('no-hub');
    this.name = 'NoHubError';
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function encodeValue(v: unknown): string {
  if (Array.isArray(v)) {
    return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  }
  if (v !== null && typeof v === 'object') {
    const members = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && x !== null)
      .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`);
    return `<value><struct>${members.join('')}</struct></value>`;
  }
  // SAMP's values are strings, lists and maps only: numbers and booleans go as strings
  return `<value><string>${escapeXml(String(v ?? ''))}</string></value>`;
}

export function encodeCall(method: string, params: unknown[]): string {
  return (
    `<?xml version="1.0"?><methodCall><methodName>${escapeXml(method)}</methodName><params>` +
    params.map(p => `<param>${encodeValue(p)}</param>`).join('') +
    '</params></methodCall>'
  );
}

function elementChildren(node: Element): Element[] {
  return Array.from(node.childNodes).filter((n): n is Element => n.nodeType === 1);
}

export function decodeValue(value: Element): SampValue {
  const inner = elementChildren(value)[0];
  if (!inner) {
    return value.textContent ?? '';
  }
  switch (inner.tagName) {
    case 'array': {
      const data = elementChildren(inner).find(e => e.tagName === 'data');
      return data ? elementChildren(data).map(decodeValue) : [];
    }
    case 'struct': {
      const out: { [key: string]: SampValue } = {};
      for (const m of elementChildren(inner)) {
        const name = elementChildren(m).find(e => e.tagName === 'name')?.textContent ?? '';
        const v = elementChildren(m).find(e => e.tagName === 'value');
        out[name] = v ? decodeValue(v) : '';
      }
      return out;
    }
    default:
      return inner.textContent ?? '';
  }
}

export function decodeResponse(text: string): SampValue {
  const doc = new DOMParser().parseFromString(text, 'text/xml');
  const fault = doc.getElementsByTagName('fault')[0];
  if (fault) {
    const v = elementChildren(fault)[0];
    const f = v ? (decodeValue(v) as { [key: string]: SampValue }) : {};
    throw new Error(String(f.faultString ?? 'SAMP hub fault'));
  }
  const value = doc.querySelector('methodResponse > params > param > value');
  return value ? decodeValue(value) : '';
}

export interface ISampMessage {
  'samp.mtype': string;
  'samp.params': { [key: string]: SampValue };
}

export interface IReceivedTable {
  url: string;
  name: string;
  sender: string;
  mtype: string;
}

export class SampWebClient {
  constructor(readonly name = 'esap-lab', readonly hubUrl = WEB_PROFILE_URL) {}

  get registered(): boolean {
    return this._key !== '';
  }

  async call(method: string, ...params: unknown[]): Promise<SampValue> {
    let response: Response;
    try {
      response = await fetch(this.hubUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml' },
        body: encodeCall(method, params)
      });
    } catch {
      throw new NoHubError();
    }
    if (!response.ok) {
      throw new Error(`SAMP hub: HTTP ${response.status}`);
    }
    return decodeResponse(await response.text());
  }

  /** Register (the hub may ask the user to accept esap-lab first). */
  async register(description: string): Promise<void> {
    if (this._key) {
      return;
    }
    const reg = (await this.call('samp.webhub.register', { 'samp.name': this.name })) as {
      [key: string]: string;
    };
    this._key = reg['samp.private-key'];
    this._selfId = reg['samp.self-id'] ?? '';
    this._translator = reg['samp.url-translator'] ?? '';
    await this.call('samp.webhub.declareMetadata', this._key, {
      'samp.name': this.name,
      'samp.description.text': description
    });
  }

  async unregister(): Promise<void> {
    const key = this._key;
    this._key = '';
    if (key) {
      await this.call('samp.webhub.unregister', key).catch(() => undefined);
    }
  }

  /** The registered clients that take `mtype`: id -> their samp.name. */
  async subscribed(mtype: string): Promise<Record<string, string>> {
    const ids = (await this.call('samp.webhub.getSubscribedClients', this._key, mtype)) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const id of Object.keys(ids ?? {})) {
      if (id === this._selfId) {
        continue;
      }
      const meta = (await this.call('samp.webhub.getMetadata', this._key, id).catch(() => ({}))) as Record<
        string,
        string
      >;
      out[id] = meta['samp.name'] ?? id;
    }
    return out;
  }

  async notify(recipient: string | null, message: ISampMessage): Promise<void> {
    if (recipient) {
      await this.call('samp.webhub.notify', this._key, recipient, message);
    } else {
      await this.call('samp.webhub.notifyAll', this._key, message);
    }
  }

  /** Take tables sent to esap-lab (table.load.votable / table.load.fits). */
  async listen(): Promise<void> {
    await this.call('samp.webhub.declareSubscriptions', this._key, {
      'table.load.votable': {},
      'table.load.fits': {},
      'samp.hub.event.shutdown': {}
    });
    await this.call('samp.webhub.allowReverseCallbacks', this._key, '1');
  }

  /** The callbacks waiting at the hub (a hub may hold the call up to `wait` seconds). */
  async pull(wait = 5): Promise<IReceivedTable[]> {
    if (!this._key) {
      return [];
    }
    const calls = (await this.call('samp.webhub.pullCallbacks', this._key, String(wait))) as {
      [key: string]: SampValue;
    }[];
    const out: IReceivedTable[] = [];
    for (const c of calls ?? []) {
      const method = String(c['samp.methodName'] ?? '');
      const params = (c['samp.params'] ?? []) as SampValue[];
      const sender = String(params[0] ?? '');
      const message = params[params.length - 1] as { [key: string]: SampValue };
      const mtype = String(message?.['samp.mtype'] ?? '');
      const p = (message?.['samp.params'] ?? {}) as { [key: string]: SampValue };
      if (method === 'receiveCall') {
        await this.call('samp.webhub.reply', this._key, String(params[1]), {
          'samp.status': 'samp.ok',
          'samp.result': {}
        }).catch(() => undefined);
      }
      if (mtype === 'samp.hub.event.shutdown') {
        this._key = '';
        continue;
      }
      if (mtype.startsWith('table.load.') && p.url) {
        const meta = (await this.call('samp.webhub.getMetadata', this._key, sender).catch(() => ({}))) as Record<
          string,
          string
        >;
        out.push({ url: String(p.url), name: String(p.name ?? p['table-id'] ?? 'table'), sender: meta['samp.name'] ?? sender, mtype });
      }
    }
    return out;
  }

  /** A URL the browser may read (through the hub's translator: other tools' servers send no CORS). */
  translate(url: string): string {
    return this._translator ? this._translator + encodeURIComponent(url) : url;
  }

  private _key = '';
  private _selfId = '';
  private _translator = '';
}
