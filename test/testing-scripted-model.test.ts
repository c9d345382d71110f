// automesh/testing's scripted model, as a user's test uses it: `new Mesh({ providers: [model] })` with an AutoAgent,
// through the real provider chain and sandbox. Rules by task, attempt and prompt; faults the chain retries (a rate
// limit), a repair answered by the prompt that carries the error, a hang cut by LLM_TIMEOUT, a call no rule answers;
// bad rules refused at once. The package's `automesh/testing` export resolves to the built helpers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AutoAgent, createMemoryStorage, Mesh } from '../src/index.js';
import { scriptedModel } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';

class Calculator extends AutoAgent {
  static override role = 'calculator';
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

const model = scriptedModel([
  // Rate limited on the first try, answered on the retry.
  { task: 'factorial of 10', attempt: 1, fault: 'rate_limit', retryAfterSeconds: 0.01 },
  { task: 'factorial of 10', code: 'let f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;' },
  // A program that fails, then the repair: the repair prompt carries the error.
  { task: 'sum of the list', attempt: 1, code: 'result = context.list.reduce((a, b) => a + b);' },
  { task: /sum of the list/, prompt: 'Your code failed', code: 'result = [1, 2, 3].reduce((a, b) => a + b, 0);' },
  { task: 'never answers', fault: 'hang' },
  { task: 'reply text', reply: (call) => `No code here, only prose about call ${call.call}.`, times: 1 },
]);

let mesh: Mesh;
before(async () => {
  mesh = new Mesh({
    providers: [model],
    storage: createMemoryStorage(),
    config: {
      LOG_DIRECTORY: tempDir('scripted-model'),
      SANDBOX_WORKERS: 1,
      LLM_MAX_RETRIES: 1,
      LLM_TIMEOUT: 0.3,
      LLM_RETRY_MAX_DELAY: 0.05,
      MAX_REPAIR_ATTEMPTS: 1,
    },
  }).add(Calculator);
  await mesh.start();
});
after(() => mesh.stop());

const calculator = (): AutoAgent => mesh.getAgent('calculator') as AutoAgent;
const callsFor = (text: string) => model.calls.filter((c) => c.task.includes(text));

test('a rate limit on attempt 1 is retried by the chain; the reply of attempt 2 is the program that runs', async () => {
  const r = await calculator().executeTask({ task: 'Calculate the factorial of 10' });
  assert.equal(r.status, 'success', r.error ?? '');
  assert.equal(r.output, 3628800);
  assert.equal(r.provider, 'vllm');
  assert.equal(r.model, 'scripted-model');
  assert.deepEqual(
    callsFor('factorial').map((c) => [c.task, c.attempt, c.rule]),
    [
      ['Calculate the factorial of 10', 1, 0],
      ['Calculate the factorial of 10', 2, 1],
    ],
  );
  assert.match(callsFor('factorial')[0]?.system ?? '', /You are a math expert/);
});

test("a failing program is repaired by the rule that matches the repair prompt (with the run's error in it)", async () => {
  const r = await calculator().executeTask({ task: 'Compute the sum of the list' });
  assert.equal(r.status, 'success', r.error ?? '');
  assert.equal(r.output, 6);
  assert.equal(r.repairs, 1);
  const [first, repair] = callsFor('sum of the list');
  assert.equal(first?.rule, 2);
  assert.equal(repair?.rule, 3);
  assert.equal(repair?.attempt, 2);
  assert.match(repair?.prompt ?? '', /reduce/, 'the repair prompt shows the failed code');
});

test('a hang is cut by LLM_TIMEOUT and classified as a timeout by the chain', async () => {
  const started = Date.now();
  const r = await calculator().executeTask({ task: 'This one never answers' });
  assert.equal(r.status, 'failure');
  assert.equal(r.errorCategory, 'llm');
  assert.match(r.error ?? '', /timeout/);
  assert.equal(callsFor('never answers').length, 2, 'tried, then retried once (LLM_MAX_RETRIES=1)');
  assert.ok(Date.now() - started < 5_000);
});

test('a call no rule answers fails the task, naming the call and listing the rules; a used-up rule says so', async () => {
  const prose = await calculator().executeTask({ task: 'Give a reply text' });
  assert.equal(prose.status, 'failure', 'prose with no program is not a result');
  const r = await calculator().executeTask({ task: 'Translate this poem' });
  assert.equal(r.status, 'failure');
  assert.equal(r.errorCategory, 'llm');
  assert.match(r.error ?? '', /The scripted model has no rule for call \d+ \(task "Translate this poem", attempt 1\)/);
  assert.match(r.error ?? '', /#0 task "factorial of 10", attempt 1 → fault rate_limit/);
  assert.match(r.error ?? '', /#5 task "reply text" → reply \(used up\)/);
});

test('bad rules are refused when the model is made, saying what to change', () => {
  assert.throws(
    () => scriptedModel([{ task: 'x' }]),
    /rule #0 must say what the model does with exactly one of reply, code or fault; it has none/,
  );
  assert.throws(
    () => scriptedModel([{ code: 'result = 1', reply: 'x' }]),
    /exactly one of reply, code or fault; it has reply, code/,
  );
  assert.throws(() => scriptedModel([{ fault: 'slow' as never }]), /unknown fault "slow"; the faults are rate_limit/);
  assert.throws(() => scriptedModel([{ reply: 'x', attempt: 0 }]), /attempt must be a whole number of 1 or more/);
});

test('the package exports the helpers as automesh/testing (the built dist/src/testing)', async () => {
  const exported = (await import('automesh/testing' as string)) as Record<string, unknown>;
  for (const name of ['scriptedModel', 'MockMesh', 'startNatsServer', 'natsServerSkip', 'natsServerAvailable'])
    assert.equal(typeof exported[name], 'function', name);
});
