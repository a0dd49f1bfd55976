/**
 * What the SQL editor reads in the text itself, without a parser: the tables a statement reads
 * (for the completion of their columns), and where DuckDB says an error is.
 */

const NOT_ALIASES = new Set(
  ('where join on using order group having limit offset left right inner outer full cross natural ' +
    'union except intersect select from as and or top').split(' ')
);
const NAME = String.raw`(?:"[^"]+"|[A-Za-z_]\w*)(?:\.(?:"[^"]+"|[A-Za-z_]\w*))*`;

/**
 * The tables a statement reads (after FROM and JOIN, comma lists too), by the lower-case name
 * the text may qualify a column with: its alias, its own name and its last part.
 */
export function tablesInQuery(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const ref = new RegExp(String.raw`(${NAME})(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?`, 'iy');
  const head = /\b(?:FROM|JOIN)\s+/gi;
  while (head.exec(text) !== null) {
    let at = head.lastIndex;
    for (;;) {
      ref.lastIndex = at;
      const r = ref.exec(text);
      if (!r) {
        break;
      }
      const table = r[1].replace(/"/g, '');
      if (NOT_ALIASES.has(table.toLowerCase())) {
        break;
      }
      found.set(table.toLowerCase(), table);
      found.set(table.split('.').pop()!.toLowerCase(), table);
      const alias = r[2];
      let end = ref.lastIndex;
      if (alias && NOT_ALIASES.has(alias.toLowerCase())) {
        end = r.index + r[0].indexOf(alias); // a keyword, not an alias: the list ends there
      } else if (alias) {
        found.set(alias.toLowerCase(), table);
      }
      const comma = /\s*,\s*/y;
      comma.lastIndex = end;
      if (!comma.exec(text)) {
        break;
      }
      at = comma.lastIndex;
    }
  }
  return found;
}

/**
 * Where an error is in a DuckDB message ("LINE 2: <the line>" then a caret under the place),
 * as line and column (1-based) of `text`; null when it says nowhere.
 */
export function duckdbPosition(message: string, text: string): { line: number; column: number } | null {
  const m = /LINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) {
    return null;
  }
  const line = Number(m[1]);
  const shown = m[2];
  let column = m[3].length - `LINE ${m[1]}: `.length + 1;
  const real = text.split('\n')[line - 1] ?? '';
  if (shown.startsWith('...')) {
    // a long line is shown as a window into it: find where the window starts
    const start = real.indexOf(shown.slice(3).replace(/\.\.\.$/, '').slice(0, 20));
    column = start >= 0 ? start + column - 3 : column;
  }
  return { line, column: Math.max(1, column) };
}

