// The whole-document workflow file the workflow engine still uses (until it moves to the per-step WorkflowStore):
// round trip, damage reported, names validated, atomic writes that never follow a planted link. Everything else of
// storage is in test/storage/conformance.ts, run by each backend (test/storage-*.test.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileWorkflowStore, InvalidNameError } from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';

const base = tempDir('storage-test');
after(() => rmSync(base, { recursive: true, force: true }));
let roots = 0;
const freshRoot = (): string => join(base, `s${roots++}`);

test('workflow file: save, load, replace, remove; unsafe names refused', async () => {
  const root = freshRoot();
  const workflows = new FileWorkflowStore(join(root, 'workflows'));
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
  for (const name of ['../evil', '..', '', 'a/b', '.hidden', 'sp ace']) {
    await assert.rejects(workflows.save(name, {}), InvalidNameError);
    await assert.rejects(workflows.load(name), InvalidNameError);
    await assert.rejects(workflows.remove(name), InvalidNameError);
  }
  await workflows.save('wf', { a: 1 });
  writeFileSync(join(root, 'workflows', 'wf.json'), '{"a": ');
  await assert.rejects(workflows.load('wf'), /workflows\/wf\.json is damaged.*cannot resume/s);
});

test('workflow file: a link planted at the old predictable temporary names is never written through', async () => {
  const root = freshRoot();
  const dir = join(root, 'workflows');
  mkdirSync(dir, { recursive: true });
  const outside = join(freshRoot(), 'precious.txt');
  mkdirSync(join(outside, '..'), { recursive: true });
  writeFileSync(outside, 'do not touch');
  // The old store wrote `<name>.json.<pid>.<n>.tmp` with a plain open that follows links.
  for (let n = 1; n <= 5; n++) symlinkSync(outside, join(dir, `wf.json.${process.pid}.${n}.tmp`));
  const workflows = new FileWorkflowStore(dir);
  for (let i = 0; i < 5; i++) await workflows.save('wf', { i });
  assert.deepEqual(await workflows.load('wf'), { i: 4 });
  assert.equal(readFileSync(outside, 'utf8'), 'do not touch');
});
