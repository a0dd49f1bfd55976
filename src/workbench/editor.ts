/**
 * One SQL editor for the ADQL workbench and the SQL console of my tables: JupyterLab's
 * CodeMirror 6 editor with an SQL dialect (ADQL or DuckDB's), completion of schema, table and
 * column names from an `ISchemaSource` (asked lazily, as the user types), Ctrl+Enter to run, and
 * the place of an error marked in the text.
 */
import {
  acceptCompletion,
  autocompletion,
  Completion,
  CompletionContext,
  CompletionResult
} from '@codemirror/autocomplete';
import { PostgreSQL, sql, SQLDialect, StandardSQL } from '@codemirror/lang-sql';
import { EditorState, Extension, Prec, StateEffect, StateField } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, keymap, placeholder } from '@codemirror/view';
import { CodeEditor, IEditorServices } from '@jupyterlab/codeeditor';
import { Widget } from '@lumino/widgets';

import { duckdbPosition, tablesInQuery } from './sqltext';

export { duckdbPosition, tablesInQuery };

export interface ICompletionColumn {
  name: string;
  datatype?: string | null;
  unit?: string | null;
  ucd?: string | null;
  description?: string | null;
}

export interface ICompletionTable {
  name: string;
  description?: string | null;
  nrows?: number | null;
}

/** Where the editor's completions come from (an archive's tables, or my tables). */
export interface ISchemaSource {
  /** The schema names ([] when the engine has none). */
  schemas(): Promise<string[]>;
  /** The tables of `schema` (null: of any schema) whose name contains `q`; a page at most. */
  tables(schema: string | null, q: string): Promise<ICompletionTable[]>;
  /** The columns of one table; null when there is no such table. */
  columns(table: string): Promise<ICompletionColumn[] | null>;
}

/** ADQL 2.1: SQL-92's SELECT with TOP, OFFSET and the geometry functions. */
const ADQL_WORDS =
  'top offset contains intersects point circle box polygon region distance area centroid ' +
  'coord1 coord2 coordsys ilike gavo_match ivo_hasword ivo_nocasematch ivo_string_agg in_unit ' +
  'lower upper truncate round log10 power sqrt rand mod abs ceiling floor pi degrees radians ' +
  'sin cos tan asin acos atan atan2 exp log';
export const ADQL = SQLDialect.define({
  ...StandardSQL.spec,
  keywords: `${StandardSQL.spec.keywords ?? ''} ${ADQL_WORDS}`
});

const COMMON_KEYWORDS = [
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'AS', 'JOIN', 'LEFT OUTER JOIN', 'ON', 'USING',
  'ORDER BY', 'GROUP BY', 'HAVING', 'DISTINCT', 'ASC', 'DESC', 'BETWEEN', 'LIKE', 'IN', 'IS NULL',
  'IS NOT NULL', 'COUNT(*)', 'AVG', 'MIN', 'MAX', 'SUM', 'UNION', 'EXISTS', 'CASE', 'WHEN', 'THEN',
  'ELSE', 'END'
];
const ADQL_KEYWORDS = [
  ...COMMON_KEYWORDS, 'TOP', 'OFFSET', 'CONTAINS', 'INTERSECTS', 'POINT', 'CIRCLE', 'BOX', 'POLYGON',
  'DISTANCE', 'AREA', 'COORD1', 'COORD2', 'ILIKE'
];
const DUCKDB_KEYWORDS = [...COMMON_KEYWORDS, 'LIMIT', 'OFFSET', 'ILIKE', 'WITH', 'CREATE TABLE'];

function columnOption(c: ICompletionColumn, boost = 0): Completion {
  const info = [c.description, c.ucd ? `UCD ${c.ucd}` : ''].filter(Boolean).join(' · ');
  return {
    label: c.name,
    type: 'property',
    detail: [c.datatype, c.unit ? `[${c.unit}]` : ''].filter(Boolean).join(' '),
    info: info || undefined,
    boost
  };
}

function tableOption(t: ICompletionTable, label = t.name): Completion {
  return {
    label,
    type: 'class',
    detail: typeof t.nrows === 'number' ? `${t.nrows} rows` : undefined,
    info: t.description ?? undefined
  };
}

/** Completion of names as the user types: `schema.` tables, `table.` or `alias.` columns, else all. */
export function completionSource(
  source: () => ISchemaSource | null,
  keywords: string[]
): (ctx: CompletionContext) => Promise<CompletionResult | null> {
  return async ctx => {
    const src = source();
    const token = ctx.matchBefore(/(?:"[^"]*"|[\w.])+/);
    const before = token?.text ?? '';
    if (!src || (!before && !ctx.explicit)) {
      return null;
    }
    const from = token?.from ?? ctx.pos;
    const dot = before.lastIndexOf('.');
    if (dot >= 0) {
      const qual = before.slice(0, dot).replace(/"/g, '');
      const part = before.slice(dot + 1);
      const refs = tablesInQuery(ctx.state.doc.toString());
      const schemas = await src.schemas().catch(() => [] as string[]);
      const isSchema = !refs.has(qual.toLowerCase()) && schemas.some(s => s.toLowerCase() === qual.toLowerCase());
      const cols = isSchema ? null : await src.columns(refs.get(qual.toLowerCase()) ?? qual).catch(() => null);
      if (ctx.aborted) {
        return null;
      }
      if (cols && cols.length) {
        return { from: from + dot + 1, options: cols.map(c => columnOption(c)), validFor: /^\w*$/ };
      }
      const tables = await src.tables(qual, part).catch(() => []);
      const prefix = qual.toLowerCase() + '.';
      return {
        from: from + dot + 1,
        options: tables.map(t =>
          tableOption(t, t.name.toLowerCase().startsWith(prefix) ? t.name.slice(prefix.length) : t.name)
        )
      };
    }
    const refs = new Set(tablesInQuery(ctx.state.doc.toString()).values());
    const [schemas, columns, tables] = await Promise.all([
      src.schemas().catch(() => [] as string[]),
      Promise.all([...refs].map(t => src.columns(t).catch(() => null))),
      before.length >= 2 ? src.tables(null, before).catch(() => []) : Promise.resolve([])
    ]);
    if (ctx.aborted) {
      return null;
    }
    const seen = new Set<string>();
    const options: Completion[] = [];
    const add = (o: Completion) => {
      if (!seen.has(o.label)) {
        seen.add(o.label);
        options.push(o);
      }
    };
    columns.flat().forEach(c => c && add(columnOption(c, 2)));
    schemas.forEach(s => add({ label: s, type: 'namespace', boost: 1 }));
    tables.forEach(t => add(tableOption(t)));
    keywords.forEach(k => add({ label: k, type: 'keyword', boost: -1 }));
    return { from, options };
  };
}

// -- the error mark ---------------------------------------------------------------------------
const setErrorMark = StateEffect.define<{ from: number; to: number; line: number } | null>();
const errorMark = Decoration.mark({ class: 'jp-EsapSqlEditor-errorMark' });
const errorLine = Decoration.line({ class: 'jp-EsapSqlEditor-errorLine' });
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const e of tr.effects) {
      if (e.is(setErrorMark)) {
        if (!e.value) {
          return Decoration.none;
        }
        const line = tr.state.doc.line(e.value.line);
        const ranges = [errorLine.range(line.from)];
        if (e.value.to > e.value.from) {
          ranges.push(errorMark.range(e.value.from, e.value.to));
        }
        return Decoration.set(ranges, true);
      }
    }
    // the mark follows the text while the user fixes it; the next run clears it
    return value.map(tr.changes);
  },
  provide: f => EditorView.decorations.from(f)
});

export interface ISqlEditorOptions {
  editors: IEditorServices | null;
  dialect: 'adql' | 'duckdb';
  /** Where completions come from (read at each completion: it may change). */
  source: () => ISchemaSource | null;
  /** Ctrl+Enter (Cmd+Enter). */
  onRun: () => void;
  label: string;
  placeholder?: string;
}

/** The editor as a Lumino widget: CodeMirror 6 through JupyterLab's editor factory. */
export class SqlEditor extends Widget {
  constructor(options: ISqlEditorOptions) {
    super();
    this.addClass('jp-EsapSqlEditor');
    this.node.setAttribute('aria-label', options.label);
    const extensions: Extension[] = [
      sql({ dialect: options.dialect === 'adql' ? ADQL : PostgreSQL, upperCaseKeywords: true }),
      autocompletion({
        override: [completionSource(options.source, options.dialect === 'adql' ? ADQL_KEYWORDS : DUCKDB_KEYWORDS)],
        activateOnTyping: true,
        maxRenderedOptions: 200
      }),
      Prec.highest(
        keymap.of([
          { key: 'Tab', run: acceptCompletion },
          {
            key: 'Mod-Enter',
            run: () => {
              options.onRun();
              return true;
            }
          }
        ])
      ),
      errorField,
      EditorView.lineWrapping,
      ...(options.placeholder ? [placeholder(options.placeholder)] : [])
    ];
    this.model = new CodeEditor.Model({ mimeType: 'text/plain' });
    if (options.editors) {
      this._editor = options.editors.factoryService.newInlineEditor({
        host: this.node,
        model: this.model,
        config: { lineNumbers: true }
      });
      const cm = this._editor as unknown as {
        editor: EditorView;
        injectExtension(ext: Extension): void;
      };
      cm.injectExtension(extensions);
      this.view = cm.editor;
    } else {
      // no editor service (a stripped-down Lab): CodeMirror alone, kept in step with the model
      this.view = new EditorView({
        parent: this.node,
        state: EditorState.create({
          doc: '',
          extensions: [
            ...extensions,
            EditorView.updateListener.of(u => {
              if (u.docChanged) {
                this.model.sharedModel.setSource(u.state.doc.toString());
              }
            })
          ]
        })
      });
    }
    // Ctrl+Enter before JupyterLab's shortcuts see it
    this.node.addEventListener(
      'keydown',
      e => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          e.stopPropagation();
          options.onRun();
        }
      },
      true
    );
  }

  readonly model: CodeEditor.IModel;
  readonly view: EditorView;

  get text(): string {
    return this.view.state.doc.toString();
  }

  set text(value: string) {
    this.view.dispatch({
      changes: { from: 0, to: this.view.state.doc.length, insert: value },
      effects: setErrorMark.of(null)
    });
  }

  /** Put `text` at the cursor (replacing the selection), as a click in the schema browser does. */
  insert(text: string): void {
    const { from, to } = this.view.state.selection.main;
    const before = this.view.state.sliceDoc(Math.max(0, from - 1), from);
    const spaced = before && /[\w)]/.test(before) ? ` ${text}` : text;
    this.view.dispatch({
      changes: { from, to, insert: spaced },
      selection: { anchor: from + spaced.length },
      scrollIntoView: true
    });
    this.view.focus();
  }

  /** Mark the place of an error (1-based line, and column when known) and put the cursor there. */
  markError(line: number, column?: number | null): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.min(Math.max(1, line), doc.lines));
    const from = column ? Math.min(l.from + column - 1, l.to) : l.from;
    // the word at the place (or the character before the end of the line)
    const rest = doc.sliceString(from, l.to);
    const word = /^[\w."']+|^\S/.exec(rest)?.[0].length ?? 0;
    const start = word ? from : Math.max(l.from, from - 1);
    const end = word ? from + word : Math.min(l.to, start + 1);
    this.view.dispatch({
      effects: setErrorMark.of({ from: start, to: end, line: l.number }),
      selection: { anchor: from },
      scrollIntoView: true
    });
    this.view.focus();
  }

  clearError(): void {
    this.view.dispatch({ effects: setErrorMark.of(null) });
  }

  /** Is an error marked? (the tests look for the mark itself) */
  get hasError(): boolean {
    return this.view.state.field(errorField).size > 0;
  }

  focus(): void {
    this.view.focus();
  }

  protected onActivateRequest(): void {
    this.focus();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this._editor) {
      this._editor.dispose();
    } else {
      this.view.destroy();
    }
    this.model.dispose();
    super.dispose();
  }

  private _editor: CodeEditor.IEditor | null = null;
}
