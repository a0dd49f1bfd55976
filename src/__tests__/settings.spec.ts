/**
 * The user's ESAP settings as the areas read them: defaults until the registry answers, the
 * values it gives (wrong types ignored), the download folder to send, the poll interval.
 */
import { DEFAULT_PREFS, EsapPrefs } from '../common/settings';

describe('EsapPrefs', () => {
  it('starts from the defaults: the server chooses the folder, polls every 2 s', () => {
    const prefs = new EsapPrefs().watch(null);
    expect(prefs.values).toEqual(DEFAULT_PREFS);
    expect(prefs.destination).toBeUndefined();
    expect(prefs.pollMs).toBe(2000);
  });

  it('takes the values the Settings Editor saved, and tells who listens', () => {
    const prefs = new EsapPrefs();
    const seen: string[] = [];
    prefs.changed.connect((_, v) => seen.push(v.downloadFolder));
    prefs.update({ downloadFolder: '/my data/run7/', pollInterval: 0.1, pageSize: 'many', other: 1 } as any);
    expect(seen).toEqual(['/my data/run7/']);
    expect(prefs.destination).toBe('my data/run7'); // relative to the root, no trailing slash
    expect(prefs.pollMs).toBe(500); // never faster than twice a second
    expect(prefs.values.pageSize).toBe(200); // a wrong type is ignored
    prefs.update({ downloadFolder: '  ' });
    expect(prefs.destination).toBeUndefined();
  });
});
