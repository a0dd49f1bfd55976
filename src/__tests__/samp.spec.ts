import { describe, expect, it } from '@jest/globals';

import { encodeCall, NoHubError, SampWebClient } from '../samp/client';
import { frame } from '../sky/frame';

describe('SAMP Web Profile client', () => {
  it('writes XML-RPC calls with strings, lists and maps (escaped)', () => {
    const xml = encodeCall('samp.webhub.notifyAll', [
      'key',
      { 'samp.mtype': 'table.load.votable', 'samp.params': { url: 'http://h/t?a=1&b=<2>', rows: ['0', 5] } }
    ]);
    expect(xml).toContain('<methodName>samp.webhub.notifyAll</methodName>');
    expect(xml).toContain('<member><name>samp.mtype</name><value><string>table.load.votable</string></value></member>');
    expect(xml).toContain('http://h/t?a=1&amp;b=&lt;2&gt;');
    expect(xml).toContain('<array><data><value><string>0</string></value><value><string>5</string></value></data></array>');
  });

  it('says there is no hub when nothing listens on the web profile port', async () => {
    // port 9 (discard) on this machine: nothing listens, the connection is refused
    const client = new SampWebClient('esap-lab', 'http://127.0.0.1:9/');
    await expect(client.register('test')).rejects.toBeInstanceOf(NoHubError);
    expect(client.registered).toBe(false);
  });
});

describe('sky view frame', () => {
  it('holds every source, across RA 0h in one piece', () => {
    const f = frame([
      [0, 359.9, -1],
      [1, 0.1, 1]
    ]);
    expect(Math.min(f.ra, 360 - f.ra)).toBeLessThan(1e-6);
    expect(f.dec).toBeCloseTo(0);
    expect(f.fov).toBeGreaterThanOrEqual(2);
    expect(f.fov).toBeLessThan(3);
  });
});
