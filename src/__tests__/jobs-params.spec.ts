import { describe, expect, it } from '@jest/globals';
import { changedParameters, notebookParameters, parameterProblem, pythonLiteralToJson } from '../jobs/params';

const cells = [
  { cell_type: 'markdown', source: '# title', metadata: {} },
  {
    cell_type: 'code',
    metadata: { tags: ['parameters'] },
    source: [
      'n = 3  # how many\n',
      'name: str = "run #7"\n',
      "bands = ['g', 'r']\n",
      'options = {"fast": True, "limit": None}\n',
      'import os\n',
      'if n > 2:\n',
      '    x = 1\n'
    ]
  },
  { cell_type: 'code', metadata: {}, source: 'm = 4' }
];

describe('notebook parameters', () => {
  it('reads the simple assignments of the cell tagged parameters', () => {
    const params = notebookParameters(cells);
    expect(params.map(p => p.name)).toEqual(['n', 'name', 'bands', 'options']);
    expect(params[0]).toMatchObject({ literal: '3', comment: 'how many' });
    expect(params[1]).toMatchObject({ annotation: 'str', literal: '"run #7"' });
  });

  it('is empty without a parameters cell', () => {
    expect(notebookParameters([cells[0], cells[2]])).toEqual([]);
  });

  it('turns Python literals into JSON values', () => {
    expect(pythonLiteralToJson('42')).toBe(42);
    expect(pythonLiteralToJson('-1.5e3')).toBe(-1500);
    expect(pythonLiteralToJson('True')).toBe(true);
    expect(pythonLiteralToJson('None')).toBeNull();
    expect(pythonLiteralToJson("'abc'")).toBe('abc');
    expect(pythonLiteralToJson('"a \\"q\\""')).toBe('a "q"');
    expect(pythonLiteralToJson("['g', 'r', 3]")).toEqual(['g', 'r', 3]);
    expect(pythonLiteralToJson("{'fast': False, 'x': (1, 2),}")).toEqual({ fast: false, x: [1, 2] });
    expect(pythonLiteralToJson('some words')).toBe('some words');
  });

  it('sends only what the user changed', () => {
    const params = notebookParameters(cells);
    const values = { n: '5', name: '"run #7"', bands: "['g']", options: params[3].literal };
    expect(changedParameters(params, values)).toEqual({ n: 5, bands: ['g'] });
  });
  it('checks a value against the declared type', () => {
    const p = (literal: string, annotation?: string) => ({ name: 'x', literal, annotation });
    expect(parameterProblem(p('0.0'), 'fifteen')).toMatch(/x is declared as float/);
    expect(parameterProblem(p('0.0'), '15')).toBe('');
    expect(parameterProblem(p('0.0'), '1.5e3')).toBe('');
    expect(parameterProblem(p('2'), '2.5')).toMatch(/whole number/);
    expect(parameterProblem(p('2'), '9')).toBe('');
    expect(parameterProblem(p("'M51'"), "'M 31'")).toBe('');
    expect(parameterProblem(p("'M51'"), 'M31')).toMatch(/quoted string/);
    expect(parameterProblem(p('True'), 'False')).toBe('');
    expect(parameterProblem(p('True'), '1')).toMatch(/True or False/);
    expect(parameterProblem(p('None'), 'anything at all')).toBe('');
    expect(parameterProblem(p('3', 'float'), '4')).toBe('');
    expect(parameterProblem(p('[1]'), "['a']")).toBe('');
    expect(parameterProblem(p('[1]'), '1')).toMatch(/a list/);
  });
});
