// The file storage backend: atomic writes, damaged files reported (never treated as missing), names validated
// against path traversal, the result log newest first, workflow state round trip.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createFileStorage, createStorageFromSettings, DamagedFileError, InvalidNameError, type StoredResult,
} from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';

const here = dirname(fileURLToPath(import.meta.url));
const base = tempDir('storage-test');
after(() => rmSync(base, { recursive: true, force: true }));
let roots = 0;
const freshRoot = (): string => join(base, `s${roots++}`);

const result = (over: Partial<StoredResult> = {}): StoredResult => ({
  resultId: 'res_1', role: 'calculator', task: 'Calculate 2 + 2', createdAt: '2025-01-01T00:00:00.000Z',
  promptHashes: { system: 'abc' },
  envelope: { status: 'success', output: 4, code: 'result = 2 + 2', repairs: 0, error: null },
  ...over,
});

test('results are stored at <root>/<role>/<resultId>.json and read back', async () => {
  const root = freshRoot();
  const { results } = createFileStorage(root);
  await results.save(result());
  const path = join(root, 'calculator', 'res_1.json');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), result());
  assert.deepEqual(await results.get('res_1'), result());
  assert.deepEqual(await results.get('res_1', 'calculator'), result());
  assert.equal(await results.get('res_1', 'analyst'), null);
  assert.equal(await results.get('res_missing'), null);
  assert.equal(await createFileStorage(join(root, 'never-written')).results.get('res_1'), null, 'an empty root is empty, not an error');
  assert.equal(createStorageFromSettings({ LOG_DIRECTORY: root }).root, root);
});

test('list ignores the registry and workflow directories and temporary files', async () => {
  const root = freshRoot();
  const storage = createFileStorage(root);
  await storage.results.save(result());
  await storage.workflows.save('wf1', { steps: [] });
  await storage.registry.put({
    id: 'fn_0123456789abcdef', role: 'calculator', task: 't', normalizedTask: 't', taskKey: 'a'.repeat(64),
    systemPromptHash: 'h', capabilities: [], code: 'result = 1',
    provenance: { provider: null, model: null, resultId: null, createdAt: new Date().toISOString() },
    successCount: 1, failureCount: 0, stage: 'verified', lastUsedAt: null, lastError: null,
  });
  writeFileSync(join(root, 'calculator', 'res_2.json.123456'), '{"half');
  assert.deepEqual((await storage.results.list()).map((r) => r.resultId), ['res_1']);
  assert.deepEqual(readdirSync(root).sort(), ['calculator', 'registry', 'workflows']);
});

test('path traversal and unsafe names are rejected with a clear error, and nothing is written', async () => {
  const root = freshRoot();
  const { results, workflows, registry } = createFileStorage(root);
  const bad = ['../evil', '..', '.', '', 'a/b', 'a\\b', '/etc/passwd', '.hidden', 'x\0y', 'sp ace', 'a'.repeat(129)];
  for (const name of bad) {
    await assert.rejects(results.save(result({ role: name })), InvalidNameError, `role ${JSON.stringify(name)}`);
    await assert.rejects(results.save(result({ resultId: name })), InvalidNameError, `result id ${JSON.stringify(name)}`);
    await assert.rejects(results.get(name), InvalidNameError);
    await assert.rejects(results.get('res_1', name), InvalidNameError);
    await assert.rejects(results.list({ role: name }), InvalidNameError);
    await assert.rejects(workflows.save(name, {}), InvalidNameError);
    await assert.rejects(workflows.load(name), InvalidNameError);
    await assert.rejects(workflows.remove(name), InvalidNameError);
    await assert.rejects(registry.get(name), InvalidNameError);
    await assert.rejects(registry.remove(name), InvalidNameError);
  }
  await assert.rejects(results.save(result({ role: '../../outside' })), (error: unknown) => {
    assert.ok(error instanceof InvalidNameError);
    assert.match(error.message, /Invalid role "\.\.\/\.\.\/outside": use 1 to 128 letters, digits/);
    return true;
  });
  await assert.rejects(results.save(result({ role: 'registry' })), /reserved/);
  await assert.rejects(results.save(result({ role: 'Workflows' })), /reserved/);
  assert.equal(existsSync(root), false, 'nothing was created');
  assert.equal(existsSync(join(base, 'outside')), false);
  // Names with dots, dashes and underscores inside are fine.
  await results.save(result({ role: 'data-analyst_2', resultId: 'res.2025-01-01_x' }));
  assert.ok(await results.get('res.2025-01-01_x', 'data-analyst_2'));
});

test('a damaged file is reported with its path and what to do, never treated as missing', async () => {
  const root = freshRoot();
  const { results, workflows } = createFileStorage(root);
  await results.save(result());
  const path = join(root, 'calculator', 'res_1.json');
  const cases: Array<[string, RegExp]> = [
    ['{"resultId": "res_1", "role": "calc', /not valid JSON/],
    ['', /the file is empty/],
    ['[1, 2]', /wrong shape/],
    [JSON.stringify({ ...result(), envelope: 'ok' }), /wrong shape: envelope/],
  ];
  for (const [text, reason] of cases) {
    writeFileSync(path, text);
    for (const read of [() => results.get('res_1'), () => results.get('res_1', 'calculator'), () => results.list()]) {
      await assert.rejects(read(), (error: unknown) => {
        assert.ok(error instanceof DamagedFileError, String(error));
        assert.equal(error.path, path);
        assert.ok(error.message.includes(path), 'names the file');
        assert.match(error.message, reason);
        assert.match(error.message, /move it aside \(mv /);
        return true;
      });
    }
  }
  await workflows.save('wf', { a: 1 });
  writeFileSync(join(root, 'workflows', 'wf.json'), '{"a": ');
  await assert.rejects(workflows.load('wf'), /workflows\/wf\.json is damaged.*cannot resume/s);
});

test('atomic writes: concurrent readers only ever see a whole file, and no temporary file is left', async () => {
  const root = freshRoot();
  const { results } = createFileStorage(root);
  const big = (n: number): StoredResult => result({ envelope: { status: 'success', output: `${n}`.repeat(200_000), n } });
  await results.save(big(0));
  let writing = true;
  const writer = (async () => {
    try {
      for (let n = 1; n <= 30; n++) await results.save(big(n));
    } finally {
      writing = false;
    }
  })();
  let reads = 0;
  while (writing) {
    const read = await results.get('res_1', 'calculator');
    const n = read?.envelope.n as number;
    assert.equal(read?.envelope.output, `${n}`.repeat(200_000), 'a complete version');
    reads++;
  }
  await writer;
  assert.ok(reads > 5, `reads during writes: ${reads}`);
  assert.equal((await results.get('res_1'))?.envelope.n, 30);
  assert.deepEqual(readdirSync(join(root, 'calculator')), ['res_1.json']);
});

test('atomic writes: a writer killed mid-write leaves the previous or the next whole file', async () => {
  const root = freshRoot();
  mkdirSync(root, { recursive: true });
  const storage = pathToFileURL(join(here, '..', 'src', 'storage', 'index.js')).href;
  const script = `
    import { createFileStorage } from ${JSON.stringify(storage)};
    const { results } = createFileStorage(${JSON.stringify(root)});
    for (let n = 0; ; n++) {
      await results.save({ resultId: 'r', role: 'writer', task: 't', createdAt: new Date().toISOString(),
        promptHashes: {}, envelope: { status: 'success', n, output: String(n % 10).repeat(4_000_000) } });
      if (n === 0) process.stdout.write('first\\n');
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 200));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const { results } = createFileStorage(root);
  const read = await results.get('r', 'writer');
  const n = read?.envelope.n as number;
  assert.ok(Number.isInteger(n), 'the file parses');
  assert.equal(read?.envelope.output, String(n % 10).repeat(4_000_000));
  // A killed writer may leave its temporary file (`r.json.<pid>.<n>.tmp`); the store never reads it as a result.
  assert.deepEqual((await results.list()).map((r) => r.resultId), ['r']);
  for (const name of readdirSync(join(root, 'writer'))) assert.match(name, /^r\.json(\.\d+\.\d+\.tmp)?$/);
});

test('workflow store: save, load, replace, remove', async () => {
  const root = freshRoot();
  const { workflows } = createFileStorage(root);
  assert.equal(await workflows.load('calc-task'), null);
  const state = { workflowId: 'calc-task', steps: [{ id: 'step0', status: 'success', output: { n: 3628800 } }, { id: 'step1', status: 'pending' }] };
  await workflows.save('calc-task', state);
  assert.ok(existsSync(join(root, 'workflows', 'calc-task.json')));
  assert.deepEqual(await workflows.load('calc-task'), state);
  await workflows.save('calc-task', { ...state, done: true });
  assert.deepEqual(await workflows.load('calc-task'), { ...state, done: true });
  await assert.rejects(workflows.save('x', undefined), /not JSON data/);
  await assert.rejects(workflows.save('x', { n: 1n }), /not JSON data/);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  await assert.rejects(workflows.save('x', circular), /not JSON data/);
  assert.equal(await workflows.remove('calc-task'), true);
  assert.equal(await workflows.remove('calc-task'), false);
  assert.equal(await workflows.load('calc-task'), null);
  assert.deepEqual(readdirSync(join(root, 'workflows')), []);
});
