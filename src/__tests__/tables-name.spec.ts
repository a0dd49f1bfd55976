/**
 * The name "Save as table" suggests for a result: readable words of its title, a free name.
 */
import { suggestTableName } from '../tables/api';

describe('suggestTableName', () => {
  it('keeps the numbers of a cone search readable', () => {
    expect(suggestTableName('cone 155, 5 r=0.2°')).toBe('cone_155_5_r0_2');
  });

  it('adds a number when the name is taken (any case)', () => {
    expect(suggestTableName('cone 155, 5 r=0.2°', ['CONE_155_5_r0_2', 'cone_155_5_r0_2_2'])).toBe('cone_155_5_r0_2_3');
  });

  it('starts with a letter and keeps whole words up to 40 characters', () => {
    const name = suggestTableName('SQL: SELECT round(vmag) AS v, count(*) AS n, avg(bmag - vmag) AS bv FROM stars');
    expect(name).toBe('sql_select_round_vmag_as_v_count_as_n');
    expect(name.length).toBeLessThanOrEqual(40);
    expect(suggestTableName('2024 run')).toBe('run');
    expect(suggestTableName('°°°')).toBe('result');
  });
});
