/**
 * What the SQL editor reads in a statement: the tables (and aliases) whose columns it completes,
 * and the place of an error in DuckDB's words (messages as DuckDB writes them).
 */
import { duckdbPosition, tablesInQuery } from '../workbench/sqltext';

describe('tablesInQuery', () => {
  it('finds tables after FROM and JOIN, by alias, full name and last part', () => {
    const refs = tablesInQuery(
      'SELECT a.ra, b.vmag FROM esapdemo.sources AS a JOIN esapdemo.sources b ON a.x = b.x WHERE a.ra > 1'
    );
    expect(refs.get('a')).toBe('esapdemo.sources');
    expect(refs.get('b')).toBe('esapdemo.sources');
    expect(refs.get('esapdemo.sources')).toBe('esapdemo.sources');
    expect(refs.get('sources')).toBe('esapdemo.sources');
    expect(refs.has('where')).toBe(false);
  });

  it('reads comma lists and quoted names, and takes no keyword for an alias', () => {
    const refs = tablesInQuery('select * from "my schema".t1 x, t2 WHERE x.a = t2.b ORDER BY 1');
    expect(refs.get('x')).toBe('my schema.t1');
    expect(refs.get('t2')).toBe('t2');
    expect([...refs.keys()]).not.toContain('where');
  });

  it('finds nothing in a statement without FROM', () => {
    expect(tablesInQuery('SELECT 1').size).toBe(0);
  });
});

describe('duckdbPosition', () => {
  it('reads the line and the caret of a binder error', () => {
    const message =
      'Binder Error: Referenced column "nme" not found in FROM clause!\nCandidate bindings: "name"\n\n' +
      'LINE 1: SELECT nme FROM t\n               ^^^';
    expect(duckdbPosition(message, 'SELECT nme FROM t')).toEqual({ line: 1, column: 8 });
  });

  it('reads a later line', () => {
    const message =
      'Binder Error: Referenced column "flx" not found in FROM clause!\nCandidate bindings: "flux"\n\n' +
      'LINE 2:   flux FROM t WHERE flx > 1\n                            ^^^';
    expect(duckdbPosition(message, 'SELECT name,\n  flux FROM t WHERE flx > 1')).toEqual({ line: 2, column: 21 });
  });

  it('says nothing when the message names no place', () => {
    expect(duckdbPosition('Catalog Error: Table with name x does not exist!', 'SELECT * FROM x')).toBeNull();
  });
});
