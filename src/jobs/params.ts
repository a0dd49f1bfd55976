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

/** The kind of a Python value as the parameters cell declares it (annotation, else the literal). */
export type ParamKind = 'int' | 'float' | 'str' | 'bool' | 'list' | 'dict' | 'none' | 'any';

export function declaredKind(p: INotebookParameter): ParamKind {
  const a = (p.annotation ?? '').replace(/\s/g, '');
  const byName: Record<string, ParamKind> = { int: 'int', float: 'float', str: 'str', bool: 'bool' };
  if (byName[a]) {
    return byName[a];
  }
  if (/^(list|tuple|List|Tuple)\b/.test(a)) {
    return 'list';
  }
  if (/^(dict|Dict)\b/.test(a)) {
    return 'dict';
  }
  return kindOf(p.literal);
}

function kindOf(literal: string): ParamKind {
  const s = literal.trim();
  const v = pythonLiteralToJson(s);
  if (v === null) {
    return 'none';
  }
  if (typeof v === 'boolean') {
    return 'bool';
  }
  if (typeof v === 'number') {
    return /^[-+]?\d+$/.test(s) ? 'int' : 'float';
  }
  if (Array.isArray(v)) {
    return 'list';
  }
  if (typeof v === 'object') {
    return 'dict';
  }
  // a string: only when it is written as one (a bare word is not a Python literal)
  return /^(['"]).*\1$/s.test(s) ? 'str' : 'any';
}

/**
 * What is wrong with `value` for parameter `p` ('' when it fits the declared type): a float takes
 * a number, an int a whole number, a str a quoted string, a bool True/False, a list/dict the same.
 */
export function parameterProblem(p: INotebookParameter, value: string): string {
  const want = declaredKind(p);
  if (want === 'any' || want === 'none' || value.trim() === p.literal.trim()) {
    return '';
  }
  const got = kindOf(value);
  if (got === 'none') {
    return '';
  }
  const fits =
    got === want || (want === 'float' && got === 'int');
  if (fits) {
    return '';
  }
  const what: Record<ParamKind, string> = {
    int: 'a whole number (e.g. 3)',
    float: 'a number (e.g. 1.5)',
    str: "a quoted string (e.g. 'M51')",
    bool: 'True or False',
    list: 'a list (e.g. [1, 2])',
    dict: "a dict (e.g. {'a': 1})",
    none: 'None',
    any: 'a Python literal'
  };
  return `${p.name} is declared as ${want}: give ${what[want]}, not ${value.trim() || 'nothing'}.`;
}
