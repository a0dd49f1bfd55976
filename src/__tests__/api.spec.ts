/**
 * The TypeScript API client against a real Jupyter server with esap-lab, started here with the
 * project's Python (the venv) and configured to the local demo archive (DaCHS) the test
 * command starts. Nothing is mocked.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

import {
  apiUrl,
  archivesApi,
  EsapApiError,
  EsapClient,
  esapClient,
  metaApi,
  onApiError,
  requestAPI,
  useServerSettings
} from '../api';
import { basketApiOf } from '../basket/api';
import { ServerDataModel } from '../search/model';
import { jobsApiOf } from '../jobs/api';
import { stagingApiOf } from '../staging/api';
import { FRONTEND_VERSION } from '../version';

// Lumino's datagrid needs a page (document, navigator) as it loads: the grid's model only needs
// its base class here, which tells the grid of changes
jest.mock('@lumino/datagrid', () => ({ DataModel: class { emitChanged(): void {} } }));

const TOKEN = 'esap-jest';
// A port the OS says is free: a random one could be a test service's (several listen near 18000).
const PORT = Number(
  execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
  ])
);
const VO = process.env.ESAP_TEST_VO_URL ?? 'http://127.0.0.1:18765';
const PYTHON =
  process.env.ESAP_PYTHON ?? path.join(__dirname, '..', '..', '.venv', 'bin', 'python');

let server: ChildProcess;
const settings = ServerConnection.makeSettings({
  baseUrl: `http://127.0.0.1:${PORT}/`,
  wsUrl: `ws://127.0.0.1:${PORT}/`,
  token: TOKEN,
  appendToken: false,
  init: { cache: 'no-store' }
});

// The API module makes its own settings by default; the tests pass theirs explicitly.
const call = <T>(endpoint: string, init: any = {}) => requestAPI<T>(endpoint, init, settings);

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'esap-jest-'));
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      ServerApp: {
        jpserver_extensions: { esap_lab: true },
        open_browser: false,
        ip: '127.0.0.1',
        port: PORT,
        port_retries: 0,
        root_dir: dir,
        allow_root: true
      },
      IdentityProvider: { token: TOKEN },
      EsapLab: {
        archives: [
          {
            id: 'local',
            title: 'Local demo archive',
            tap: `${VO}/tap`,
            scs: `${VO}/esapdemo/q/cone/scs.xml`
          }
        ],
        db_url: `sqlite:///${dir}/esap.sqlite`,
        data_dir: `${dir}/data`,
        // the local DaCHS is on the loopback, which esap-lab refuses unless allowed
        outbound_allow_private: ['127.0.0.1']
      }
    })
  );
  // The server's log is kept, and shown if it does not come up.
  const logPath = path.join(dir, 'server.log');
  const log = openSync(logPath, 'w');
  server = spawn(PYTHON, ['-m', 'jupyter_server', `--config=${config}`], {
    stdio: ['ignore', log, log],
    env: { ...process.env, JUPYTER_CONFIG_DIR: dir, JUPYTER_DATA_DIR: dir }
  });
  closeSync(log);
  let exited: number | null = null;
  server.on('exit', code => (exited = code ?? -1));
  // Up to 2 minutes: on a loaded CI machine the first import of the server's packages is slow.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && exited === null) {
    try {
      await call('version');
      return;
    } catch {
      await new Promise(r => setTimeout(r, 200));
    }
  }
  const tail = readFileSync(logPath, 'utf-8').split('\n').slice(-40).join('\n');
  throw new Error(
    `the Jupyter server did not start on port ${PORT}` +
      (exited !== null ? ` (it exited with ${exited})` : ' within 2 minutes') +
      `; its log ends:\n${tail}`
  );
}, 150_000);

afterAll(() => {
  server?.kill();
});

describe('apiUrl', () => {
  it('joins the base URL, the API prefix and encoded query parameters', () => {
    expect(apiUrl('queries/x/rows', { offset: 0, sort: 'a b', order: undefined }, settings)).toBe(
      `http://127.0.0.1:${PORT}/esap-lab/api/queries/x/rows?offset=0&sort=a%20b`
    );
  });
});

describe('requestAPI against the server', () => {
  it('reads the version, equal to the front end', async () => {
    const v = await call<{ version: string }>('version');
    expect(v.version).toBe(FRONTEND_VERSION);
  });

  it('lists archives with capabilities', async () => {
    const r = await call<{ archives: any[] }>('archives');
    expect(r.archives[0].id).toBe('local');
    // its TAP service has ivoa.obscore, so it answers ObsCore searches too
    expect(r.archives[0].capabilities).toEqual(['tap', 'cone', 'obscore']);
  });

  it('runs a cone search and pages its rows sorted', async () => {
    const q = await call<any>('archives/local/queries', {
      method: 'POST',
      json: { kind: 'cone', ra: 155, dec: 5, radius: 0.1 },
      query: { wait: 30 }
    });
    expect(q.status).toBe('completed');
    const page = await call<any>(`queries/${q.id}/rows`, {
      query: { offset: 0, limit: 5, sort: 'vmag', order: 'desc' }
    });
    expect(page.rows).toHaveLength(5);
    expect(page.rows[0].vmag).toBeGreaterThanOrEqual(page.rows[4].vmag);
  });

  it('a sorted grid model maps its rows to their numbers in stored order and back', async () => {
    const q = await call<any>('archives/local/queries', {
      method: 'POST',
      json: { kind: 'cone', ra: 155, dec: 5, radius: 0.1 },
      query: { wait: 30 }
    });
    const before = esapClient.serverSettings;
    useServerSettings(settings);
    try {
      const stored = (await call<any>(`queries/${q.id}/rows`, { query: { limit: 5000 } })).rows;
      const model = new ServerDataModel(q, 7); // pages of 7 rows: a selection spans several
      expect(await model.stored([0, 3, 20])).toEqual([0, 3, 20]); // not sorted: the same numbers
      model.sortBy('vmag', 'desc');
      const shown = [0, 1, 9, 15, 16];
      const numbers = await model.stored(shown); // the pages are fetched
      expect(numbers).toHaveLength(shown.length);
      const rows = await model.rows(shown);
      expect(numbers.map(n => stored[n])).toEqual(rows);
      // back: where these rows are in the sorted grid (pages loaded), null for one not loaded
      expect(await model.displayed(numbers)).toEqual(shown);
      const elsewhere = (await call<any>(`queries/${q.id}/rows`, {
        query: { offset: 35, limit: 1, sort: 'vmag', order: 'desc' }
      })).index[0];
      expect(await model.displayed([elsewhere])).toBeNull();
      expect(await model.displayed([elsewhere], 5000)).toEqual([35]); // every page fetched
    } finally {
      useServerSettings(before);
    }
  });

  it('turns an error body into an EsapApiError with the message', async () => {
    const error = await call('archives/local/queries', {
      method: 'POST',
      json: { kind: 'tap', query: 'SELECT nothing FROM nowhere' }
    }).catch(e => e);
    expect(error).toBeInstanceOf(EsapApiError);
    expect(error.status).toBe(400);
    expect(error.reason).toBe('query-rejected');
    expect(error.message).toContain('nowhere');
  });

  it('says 404 for an unknown archive', async () => {
    const error = await call('archives/none/queries', {
      method: 'POST',
      json: { kind: 'cone', ra: 1, dec: 1, radius: 0.1 }
    }).catch(e => e);
    expect(error.status).toBe(404);
  });

  it('is refused without the token', async () => {
    const anonymous = ServerConnection.makeSettings({
      baseUrl: settings.baseUrl,
      wsUrl: settings.wsUrl,
      token: ''
    });
    const error = await requestAPI('archives', {}, anonymous).catch(e => e);
    expect(error).toBeInstanceOf(EsapApiError);
    expect(error.status).toBe(403);
  });

  it('reports an unreachable server as a network error', async () => {
    const nowhere = ServerConnection.makeSettings({ baseUrl: 'http://127.0.0.1:9/', wsUrl: 'ws://127.0.0.1:9/' });
    const error = await requestAPI('version', {}, nowhere).catch(e => e);
    expect(error).toBeInstanceOf(EsapApiError);
    expect(error.reason).toBe('network');
  });
});

describe('EsapClient', () => {
  it('is bound to the settings it is given: URLs, typed areas, errors', async () => {
    const client = new EsapClient(settings);
    expect(client.url('basket', { kind: 'did' })).toBe(
      `http://127.0.0.1:${PORT}/esap-lab/api/basket?kind=did`
    );
    expect(await client.meta.version()).toBe(FRONTEND_VERSION);
    const archives = await client.archives.list(false);
    expect(archives.map(a => a.id)).toEqual(['local']);
    const summary = await basketApiOf(client).summary();
    expect(typeof summary.count).toBe('number');
    expect(Array.isArray(await stagingApiOf(client).list())).toBe(true);
    expect((await jobsApiOf(client).backends(false)).map(b => b.name)).toContain('local');
    const error = await client.archives.get('no-such-query').catch(e => e);
    expect(error).toBeInstanceOf(EsapApiError);
    expect(error.status).toBe(404);
  });

  it('tells the error listeners of every error answer (e.g. "Log in again")', async () => {
    const seen: string[] = [];
    const stop = onApiError(e => seen.push(`${e.status} ${e.reason}`));
    const client = new EsapClient(settings);
    await client.archives.get('no-such-query').catch(() => undefined);
    stop();
    await client.archives.get('no-such-query').catch(() => undefined);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^404 /);
  });

  it('the exported API objects use the default client, bound as the plugin binds it', async () => {
    const before = esapClient.serverSettings;
    useServerSettings(settings);
    try {
      expect(esapClient.serverSettings).toBe(settings);
      expect(await metaApi.version()).toBe(FRONTEND_VERSION);
      expect((await archivesApi.list(false))[0].id).toBe('local');
      expect(await requestAPI<{ version: string }>('version')).toEqual({ version: FRONTEND_VERSION });
      expect(apiUrl('version')).toBe(`http://127.0.0.1:${PORT}/esap-lab/api/version`);
    } finally {
      useServerSettings(before);
    }
  });
});

describe('the generated API types', () => {
  it('src/schema.d.ts is what openapi-typescript makes of the running server\'s openapi.json', async () => {
    const doc = await call<Record<string, unknown>>('openapi.json');
    const root = path.join(__dirname, '..', '..');
    // kept in node_modules/.cache to compare with when this fails
    const input = path.join(root, 'node_modules', '.cache', 'esap-openapi-served.json');
    const output = path.join(root, 'node_modules', '.cache', 'esap-schema-served.d.ts');
    mkdirSync(path.dirname(input), { recursive: true });
    writeFileSync(input, JSON.stringify(doc));
    execFileSync(path.join(root, 'node_modules', '.bin', 'openapi-typescript'), [input, '-o', output], {
      stdio: 'ignore'
    });
    const committed = readFileSync(path.join(root, 'src', 'schema.d.ts'), 'utf8');
    if (readFileSync(output, 'utf8') !== committed) {
      throw new Error(
        "src/schema.d.ts does not match the server's openapi.json: run `jlpm build:api-types` after changing " +
          'routes or models (diff node_modules/.cache/esap-schema-served.d.ts src/schema.d.ts)'
      );
    }
  });
});
