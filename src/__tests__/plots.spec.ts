import { describe, expect, it } from '@jest/globals';

import type { IColumn } from '../api';
import { axisValue, binOf, cmdAxes, numericColumns, rowsParam, targetOf } from '../plots/axes';

const col = (name: string, datatype: string, extra: Partial<IColumn> = {}): IColumn => ({ name, datatype, ...extra });

describe('plot axes', () => {
  it('offers numeric columns only (text and arrays are no axis)', () => {
    const cols = [
      col('source_id', 'char', { arraysize: '*' }),
      col('ra', 'double', { unit: 'deg' }),
      col('n', 'int64'),
      col('flag', 'boolean'),
      col('spectrum', 'float', { arraysize: '*' }),
      col('name', 'string')
    ];
    expect(numericColumns(cols).map(c => c.name)).toEqual(['ra', 'n', 'flag']);
  });

  it('finds a colour-magnitude diagram: B - V against V from the UCDs of the local archive', () => {
    const cols = [
      col('ra', 'double', { unit: 'deg', ucd: 'pos.eq.ra;meta.main' }),
      col('vmag', 'float', { unit: 'mag', ucd: 'phot.mag;em.opt.V' }),
      col('bmag', 'float', { unit: 'mag', ucd: 'phot.mag;em.opt.B' }),
      col('rmag', 'float', { unit: 'mag', ucd: 'phot.mag;em.opt.R' })
    ];
    expect(cmdAxes(cols)).toEqual({ x: 'bmag - vmag', y: 'vmag' });
  });

  it('finds Gaia BP - G from the names, ignores errors, and needs two magnitudes', () => {
    const gaia = [
      col('phot_g_mean_mag', 'float', { unit: 'mag' }),
      col('phot_bp_mean_mag', 'float', { unit: 'mag' }),
      col('phot_rp_mean_mag', 'float', { unit: 'mag' }),
      col('phot_g_mean_mag_err', 'float', { unit: 'mag' })
    ];
    expect(cmdAxes(gaia)).toEqual({ x: 'phot_bp_mean_mag - phot_g_mean_mag', y: 'phot_g_mean_mag' });
    expect(cmdAxes([col('vmag', 'float', { unit: 'mag' }), col('ra', 'double')])).toBeNull();
  });

  it('takes a colour column as it is (B-V against V), never as a magnitude of its own', () => {
    const demo = [
      col('vmag', 'float', { unit: 'mag', ucd: 'phot.mag;em.opt.V' }),
      col('b_v', 'float', { unit: 'mag' }),
      col('ra', 'double')
    ];
    expect(cmdAxes(demo)).toEqual({ x: 'b_v', y: 'vmag' });
    const byUcd = [col('gmag', 'float', { unit: 'mag' }), col('c1', 'float', { ucd: 'phot.color;em.opt.B;em.opt.V' })];
    expect(cmdAxes(byUcd)).toEqual({ x: 'c1', y: 'gmag' });
    const gaia = [col('bp_rp', 'float', { unit: 'mag' }), col('phot_g_mean_mag', 'float', { unit: 'mag' }),
      col('phot_rp_mean_mag', 'float', { unit: 'mag' })];
    expect(cmdAxes(gaia)).toEqual({ x: 'bp_rp', y: 'phot_g_mean_mag' });
    expect(cmdAxes([gaia[0], gaia[2]])).toEqual({ x: 'bp_rp', y: 'phot_rp_mean_mag' });
  });
});

describe('highlighting rows on a histogram or a density plot', () => {
  it('reads an axis of a row: a column or a colour, numbers only', () => {
    const row = { bmag: 11.5, vmag: 10.0, name: 'x', text: '12.5', empty: null };
    expect(axisValue(row, 'vmag')).toBe(10);
    expect(axisValue(row, 'bmag - vmag')).toBeCloseTo(1.5);
    expect(axisValue(row, 'text')).toBe(12.5);
    expect(axisValue(row, 'name')).toBeNull();
    expect(axisValue(row, 'empty')).toBeNull();
    expect(axisValue(row, 'nope - vmag')).toBeNull();
  });

  it('finds the bin of a value, the last bin holding its upper edge', () => {
    const edges = [0, 1, 2, 4];
    expect([0, 0.5, 1, 1.99, 2, 4].map(x => binOf(edges, x))).toEqual([0, 0, 1, 1, 2, 2]);
    expect([-0.1, 4.1, NaN].map(x => binOf(edges, x))).toEqual([-1, -1, -1]);
    expect(binOf([3], 3)).toBe(-1);
  });
});

describe('plot and export targets', () => {
  it('a table of My tables is plotted and exported through /tables', () => {
    const q = { id: 'abc', kind: 'table' } as any;
    expect(targetOf(q)).toBe('tables/abc');
    expect(targetOf({ ...q, kind: 'cone' })).toBe('queries/abc');
  });

  it('a download of rows that do not fit a URL is refused (save into the workspace instead)', () => {
    expect(rowsParam([0, 5, 17])).toBe('0,5,17');
    expect(rowsParam([])).toBeUndefined();
    const many = Array.from({ length: 2000 }, (_, i) => i * 3);
    expect(rowsParam(many)).toBeNull();
  });
});
