import { describe, expect, it } from '@jest/globals';

import type { IColumn } from '../api';
import { cmdAxes, numericColumns, rowsParam, targetOf } from '../plots/axes';

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
