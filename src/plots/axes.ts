/**
 * Which columns can be plotted, and how: pure functions of a result's columns (no DOM, no
 * server), shared by the plot widget and its tests.
 */
import type { IColumn, IQueryInfo } from '../api';

/** What is plotted or exported: a stored query result, or one of my tables (a grid shows either). */
export function targetOf(q: IQueryInfo): string {
  return q.kind === 'table' ? `tables/${encodeURIComponent(q.id)}` : `queries/${encodeURIComponent(q.id)}`;
}

/** The `rows` parameter of a download (0,5,17); null when the rows do not fit a URL (4000 characters). */
export function rowsParam(rows?: number[]): string | undefined | null {
  const list = rows?.length ? rows.join(',') : undefined;
  return list && list.length > 4000 ? null : list;
}

const NUMERIC = /^(u?int|short|long|float|double|real|unsignedbyte|bigint|smallint|integer|decimal|numeric|bool)/i;

/** Columns that can be an axis: numbers, not arrays (the server answers 400 naming the axis otherwise). */
export function numericColumns(columns: IColumn[]): IColumn[] {
  return columns.filter(
    c => NUMERIC.test(c.datatype ?? '') && (!c.arraysize || c.arraysize === '1')
  );
}

const BANDS = ['u', 'bp', 'b', 'g', 'v', 'r', 'rp', 'i', 'z', 'y', 'j', 'h', 'k', 'ks', 'w1', 'w2'];

/** The band of a magnitude column, from its UCD (em.opt.V) or its name (vmag, phot_bp_mean_mag). */
function band(c: IColumn): number {
  const ucd = (c.ucd ?? '').toLowerCase();
  const fromUcd = /em\.(?:opt|ir|uv)\.([a-z0-9]+)/.exec(ucd)?.[1];
  const name = c.name.toLowerCase();
  const fromName =
    /(?:^|_)(bp|rp|[ubgvrizyjhk]|ks|w[12])(?:_|mag|$)/.exec(name)?.[1] ?? /^([ubvrijhk])mag$/.exec(name)?.[1];
  const b = fromUcd ?? fromName;
  return b ? BANDS.indexOf(b) : -1;
}

const BAND = '(bp|rp|[ubgvrizyjhk]|ks|w[12])';
const COLOUR_NAME = new RegExp(`^${BAND}[_-]?${BAND}$|colou?r`, 'i');

/** A colour column (B-V, bp_rp, g_r): UCD phot.color, or a name of two bands. */
function isColour(c: IColumn): boolean {
  return (c.ucd ?? '').toLowerCase().startsWith('phot.color') || COLOUR_NAME.test(c.name);
}

/**
 * A colour-magnitude diagram's axes when the columns allow it: x = a colour column when the
 * result has one (B-V against V), else blue - red of two magnitudes; y = the red magnitude.
 */
export function cmdAxes(columns: IColumn[]): { x: string; y: string } | null {
  const numeric = numericColumns(columns);
  const mags = numeric
    .filter(c => (c.ucd ?? '').toLowerCase().startsWith('phot.mag') || (c.unit ?? '').toLowerCase() === 'mag')
    .filter(c => !isColour(c))
    .map(c => ({ c, b: band(c) }))
    .filter(m => m.b >= 0 && !m.c.name.toLowerCase().includes('err'))
    .sort((a, b) => a.b - b.b);
  const colour = numeric.find(c => isColour(c) && !c.name.toLowerCase().includes('err'));
  if (colour && mags.length) {
    // V or G (B-V against V, BP-RP against G), else the colour's red band, else the first magnitude
    const red = new RegExp(`${BAND}$`, 'i').exec(colour.name.toLowerCase())?.[1];
    const y = mags.find(m => ['v', 'g'].includes(BANDS[m.b])) ?? mags.find(m => BANDS[m.b] === red) ?? mags[0];
    return { x: colour.name, y: y.c.name };
  }
  if (mags.length < 2) {
    return null;
  }
  // the classic B - V against V when there is V; else the two bluest bands
  const v = mags.findIndex(m => BANDS[m.b] === 'v' || BANDS[m.b] === 'g');
  const [blue, redMag] = v > 0 ? [mags[v - 1], mags[v]] : [mags[0], mags[1]];
  return { x: `${blue.c.name} - ${redMag.c.name}`, y: redMag.c.name };
}

/** The value of a plot axis in one row: a column, or 'a - b' (a colour); null when not a number. */
export function axisValue(row: Record<string, unknown>, axis: string): number | null {
  const num = (v: unknown): number | null => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  if (axis in row) {
    return num(row[axis]);
  }
  const diff = /^(.+?) - (.+)$/.exec(axis);
  if (diff) {
    const a = num(row[diff[1]]);
    const b = num(row[diff[2]]);
    return a === null || b === null ? null : a - b;
  }
  return null;
}

/** The bin of `x` among ascending `edges` (the last bin holds its upper edge); -1 outside. */
export function binOf(edges: number[], x: number): number {
  const n = edges.length - 1;
  if (n < 1 || !(x >= edges[0] && x <= edges[n])) {
    return -1;
  }
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid] <= x) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}
