/**
 * The papermill parameters of a notebook: the simple `name = value` assignments of its cell
 * tagged `parameters`, shown as Python literals the user can edit, and turned into JSON values
 * for POST /jobs.
 */

export interface INotebookParameter {
  name: string;
  /** The Python literal as written in the parameters cell. */
  literal: string;
  /** A type annotation when there is one (`n: int = 3`). */
  annotation?: string;
  /** The comment at the end of the line, if any. */
  comment?: string;
}

interface ICellLike {
  cell_type?: string;
  source?: string | string[];
  metadata?: { tags?: string[] } & Record<string, unknown>;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^=]+?))?\s*=\s*(.+)$/;

/** The parameters of a notebook (its cells as nbformat JSON). */
export function notebookParameters(cells: ICellLike[]): INotebookParameter[] {
  const cell = cells.find(
    c => c.cell_type === 'code' && (c.metadata?.tags ?? []).includes('parameters')
  );
  if (!cell) {
    return [];
  }
  const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source ?? '';
  const out: INotebookParameter[] = [];
  for (const raw of source.split('\n')) {
    if (/^\s/.test(raw)) {
      continue; // a continuation line of a multi-line value: not a parameter of its own
    }
    const m = ASSIGNMENT.exec(raw.trim());
    if (m && !m[3].startsWith('=')) {
      const [literal, comment] = splitComment(m[3]);
      out.push({ name: m[1], annotation: m[2]?.trim(), literal, comment });
    }
  }
  return out;
}

function splitComment(value: string): [string, string | undefined] {
  // a '#' inside a string literal is kept: only cut when outside quotes
  let quote: string | null = null;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quote) {
      if (c === '\\') {
        i++;
      } else if (c === quote) {
        quote = null;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return [value.slice(0, i).trim(), value.slice(i + 1).trim() || undefined];
    }
  }
  return [value.trim(), undefined];
}

/**
 * A Python literal as the user typed it -> a JSON value. Numbers, True/False/None, quoted
 * strings, and lists/dicts of those; anything else is taken as a plain string.
 */
export function pythonLiteralToJson(text: string): unknown {
  const s = text.trim();
  if (s === 'True') {
    return true;
  }
  if (s === 'False') {
    return false;
  }
  if (s === 'None') {
    return null;
  }
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    return Number(s);
  }
  if (/^'.*'$/s.test(s) && !s.slice(1, -1).includes("'")) {
    return s.slice(1, -1);
  }
  try {
    return JSON.parse(toJsonText(s));
  } catch {
    return s;
  }
}

function toJsonText(s: string): string {
  // Python container literals -> JSON: 'x' -> "x", True/False/None -> true/false/null, (a, b) -> [a, b]
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') {
        out += c + (s[i + 1] ?? '');
        i++;
      } else if (c === quote) {
        out += '"';
        quote = null;
      } else if (c === '"' && quote === "'") {
        out += '\\"';
      } else {
        out += c;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      out += '"';
    } else if (c === '(') {
      out += '[';
    } else if (c === ')') {
      out += ']';
    } else {
      out += c;
    }
  }
  return out
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
    .replace(/\bNone\b/g, 'null')
    .replace(/,\s*([\]}])/g, '$1');
}

/** Only what the user changed is sent: unchanged parameters keep the notebook's own values. */
export function changedParameters(
  params: INotebookParameter[],
  values: Record<string, string>
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const v = values[p.name];
    if (v !== undefined && v.trim() !== p.literal.trim()) {
      out[p.name] = pythonLiteralToJson(v);
    }
  }
  return out;
}
