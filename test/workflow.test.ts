// Workflows end to end: validation, parallel scheduling, data between steps, failures, durable state and
// resume (after a SIGKILL: test/workflow-processes.test.ts), cancellation, events, stop modes. Real SDKs over
// HTTP against the local wire-protocol server; the real sandbox and the default store (automesh.db).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import {
  AutoAgent,
  defineAgent,
  Mesh,
  type MeshEvents,
  resetCooldowns,
  WorkflowValidationError,
} from '../src/index.js';
import { loadWorkflowState } from './helpers/workflow-state.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

let server: LlmServer;
let mesh: Mesh;
let logDir: string;
/** Every directory this file makes is under here, removed at the end. */
let scratch: string;

class ResearcherAgent extends AutoAgent {
  static override role = 'researcher';
  static override capabilities = ['research'];
  static override systemPrompt = 'You research topics and return findings as data.';
}
class WriterAgent extends AutoAgent {
  static override role = 'writer';
  static override capabilities = ['writing'];
  static override systemPrompt = 'You write short texts from the findings in context.';
}

function config(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 10,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 2,
    SANDBOX_MEMORY_MB: 64,
    MAX_REPAIR_ATTEMPTS: 1,
    REGISTRY_REUSE: false,
    LOG_DIRECTORY: logDir,
    ...extra,
  };
}

function fenced(code: string): string {
  return `Here's the program:\n\n\`\`\`javascript\n${code}\n\`\`\`\n`;
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

/** Answers by task text; `delayMs` holds the answer back like a slow model. */
function route(
  routes: Record<string, string | ((req: ReceivedRequest) => ScriptedReply)>,
): (req: ReceivedRequest) => ScriptedReply {
  return (req) => {
    const task = taskOf(req);
    for (const [key, answer] of Object.entries(routes)) {
      if (task.includes(key)) return typeof answer === 'string' ? { kind: 'text', text: fenced(answer) } : answer(req);
    }
    return { kind: 'error', status: 400, message: `test: no route for task ${JSON.stringify(task)}` };
  };
}

before(async () => {
  server = await LlmServer.start();
  scratch = mkdtempSync(join(tmpdir(), 'automesh-workflow-'));
  logDir = join(scratch, 'logs');
  mesh = new Mesh({ config: config() });
  mesh.add(ResearcherAgent).add(WriterAgent);
  mesh.add(defineAgent({ role: 'reviewer', capabilities: ['review'], systemPrompt: 'You review.' }));
  await mesh.start();
});

after(async () => {
  await mesh.stop();
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset();
  resetCooldowns();
});

describe('validation', () => {
  test('every problem is reported at once, cycles named', async () => {
    const err = await mesh
      .workflow('bad', [
        { id: 'a', agent: 'researcher', task: 'x', dependsOn: ['c'] },
        { id: 'b', agent: 'nobody', task: 'y', dependsOn: ['a', 'missing'] },
        { id: 'c', agent: 'writer', task: 'z', depends_on: ['b'] },
        { id: 'a', agent: 'writer', task: 'dup' },
        { agent: 'writer', task: '', dependsOn: [9] },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof WorkflowValidationError);
    const text = err.message;
    assert.match(text, /duplicate step id "a" \(steps 0 and 3\)/);
    assert.match(
      text,
      /step "b": unknown agent "nobody", not_found \(roles: researcher, writer, reviewer; capabilities: research, writing, review\)/,
    );
    assert.deepEqual(err.notFound, ['nobody']);
    assert.match(text, /step "b": depends on unknown step "missing"/);
    assert.match(text, /step "step4": task is required/);
    assert.match(text, /step "step4": depends on step index 9, but indices run from 0 to 4/);
    assert.match(text, /dependency cycle: a → c → b → a/);
    assert.equal(server.requests().length, 0, 'nothing ran');
  });

  test('a step depending on itself, reserved ids, empty steps', async () => {
    await assert.rejects(
      mesh.workflow('self', [{ id: 's', agent: 'writer', task: 't', dependsOn: ['s'] }]),
      /depends on itself/,
    );
    await assert.rejects(
      mesh.workflow('reserved', [{ id: 'workflowId', agent: 'writer', task: 't' }]),
      /id "workflowId" is reserved/,
    );
    await assert.rejects(mesh.workflow('empty', []), /steps must be a non-empty array/);
    await assert.rejects(mesh.workflow('../up', [{ agent: 'writer', task: 't' }]), /Workflow id "..\/up" is invalid/);
  });

  test('a step context JSON cannot hold is refused with the step id and the path, before anything runs or is written', async () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const err = await mesh
      .workflow('bad-context', [
        { id: 'load', agent: 'researcher', task: 'Load the items', context: { source: 'db' } },
        { id: 'lookup', agent: 'researcher', task: 'Look things up', context: { table: new Map([['a', 1]]) } },
        {
          id: 'count',
          agent: 'writer',
          task: 'Count the items',
          context: { data: { items: [1, 2, 3, 2n ** 64n] } },
          dependsOn: ['load'],
        },
        { id: 'walk', agent: 'writer', task: 'Walk the graph', context: { graph: loop } },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof WorkflowValidationError);
    assert.match(err.message, /step "count": steps\[2\]\.context\.data\.items\[3\]: BigInt is not JSON data/);
    assert.match(
      err.message,
      /step "lookup": steps\[1\]\.context\.table: a Map is not JSON data \(JSON would make it \{\}\)/,
    );
    assert.match(
      err.message,
      /step "walk": steps\[3\]\.context\.graph\.self: a circular reference \(back to steps\[3\]\.context\.graph\)/,
    );
    assert.equal(err.problems.length, 3);
    assert.equal(server.requests().length, 0, 'no model call');
    assert.equal(await loadWorkflowState(logDir, 'bad-context'), null, 'nothing of the invalid workflow was written');
  });

  test('executeTask refuses a context JSON cannot hold with a TypeError naming the path, before any model call', async () => {
    const writer = mesh.getAgent('writer') as AutoAgent;
    const node: Record<string, unknown> = { id: 1 };
    node.parent = { child: node };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { data: { items: [1, 2, 3, 10n] } },
        /^executeTask for agent "writer": context\.data\.items\[3\]: BigInt is not JSON data; pass a number or a string\.$/,
      ],
      [{ tree: node }, /context\.tree\.parent\.child: a circular reference \(back to context\.tree\) is not JSON data/],
      [{ prices: new Map([['apple', 1]]) }, /context\.prices: a Map is not JSON data/],
    ];
    for (const [context, expected] of cases) {
      const err = await writer.executeTask({ task: 'Sum the items', context }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof TypeError, String(err));
      assert.match(err.message, expected);
    }
    assert.equal(server.requests().length, 0, 'no model call');
  });

  test('running a workflow before start() is an error', async () => {
    const m = new Mesh({ config: config() });
    m.add(WriterAgent);
    await assert.rejects(m.workflow('early', [{ agent: 'writer', task: 't' }]), /before mesh\.start\(\)/);
  });
});

describe('scheduling and data', () => {
  test('independent steps run at once; results come back in step order with stepId', async () => {
    const slow = (value: number) => (): ScriptedReply => ({
      kind: 'text',
      text: fenced(`result = ${value};`),
      delayMs: 400,
    });
    server.respond('vllm', route({ 'first number': slow(1), 'second number': slow(2), 'third number': slow(3) }));
    const started = Date.now();
    const results = await mesh.workflow(
      'parallel',
      [
        { agent: 'researcher', task: 'Give the first number' },
        { agent: 'research', task: 'Give the second number' },
        { agent: 'reviewer', task: 'Give the third number' },
      ],
      { fresh: true },
    );
    const took = Date.now() - started;
    assert.deepEqual(
      results.map((r) => [r.stepId, r.output]),
      [
        ['step0', 1],
        ['step1', 2],
        ['step2', 3],
      ],
    );
    assert.ok(took < 1100, `three 400 ms steps took ${took} ms: not parallel`);
    assert.equal(results[1]?.role, 'researcher', 'a capability picks its agent');
    assert.equal(results.summary.succeeded, 3);
  });

  test('a step sees its dependencies as context[dep] and previousStepResults[dep]', async () => {
    server.respond(
      'vllm',
      route({
        Research: 'result = { facts: ["water boils at 100 C", "ice melts at 0 C"] };',
        Write:
          'const facts = context.research.output.facts;\nconst again = context.previousStepResults.research.output.facts;\nresult = `${context.workflowId}/${context.stepId}: ` + facts.join("; ") + (JSON.stringify(again) === JSON.stringify(facts) ? "" : "!");',
      }),
    );
    const results = await mesh.workflow(
      'research-write',
      [
        { id: 'research', agent: 'researcher', task: 'Research two facts about water' },
        {
          id: 'write',
          agent: 'writer',
          task: 'Write a sentence from the research',
          dependsOn: ['research'],
          context: { tone: 'plain' },
        },
      ],
      { fresh: true },
    );
    assert.equal(results[1]?.output, 'research-write/write: water boils at 100 C; ice melts at 0 C');
    const writerPrompt = server.requests('vllm').find((r) => taskOf(r).startsWith('Write'))?.system ?? '';
    assert.match(writerPrompt, /research: \{/);
    assert.match(writerPrompt, /tone: string "plain"/);
  });
});

describe('failures', () => {
  test('a failed step skips its dependants; independent branches run on; the workflow resolves', async () => {
    server.respond(
      'vllm',
      route({
        Break: 'result = missingVariable + 1;',
        Independent: 'result = "ok";',
        'After the break': 'result = 1;',
      }),
    );
    const results = await mesh.workflow(
      'branches',
      [
        { id: 'broken', agent: 'researcher', task: 'Break on purpose' },
        { id: 'after', agent: 'writer', task: 'After the break', dependsOn: ['broken'] },
        { id: 'later', agent: 'writer', task: 'After the break again', dependsOn: [1] },
        { id: 'side', agent: 'reviewer', task: 'Independent work' },
      ],
      { fresh: true },
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['failure', 'skipped', 'skipped', 'success'],
    );
    assert.equal(results[0]?.errorCategory, 'runtime');
    assert.equal(results[1]?.errorCategory, 'dependency');
    assert.match(
      results[1]?.error ?? '',
      /step "broken" it depends on failed \(runtime: ReferenceError: missingVariable is not defined/,
    );
    assert.match(results[2]?.error ?? '', /step "after" it depends on was skipped/);
    assert.deepEqual(
      { ...results.summary, executionTime: 0, tokens: null, costUsd: null },
      {
        workflowId: 'branches',
        steps: 4,
        succeeded: 1,
        failed: 1,
        skipped: 2,
        recovered: 0,
        cached: 0,
        tokens: null,
        costUsd: null,
        recoveredTokens: { input: 0, output: 0, total: 0 },
        recoveredCostUsd: 0,
        executionTime: 0,
        cancelled: false,
      },
    );
    assert.ok(results.summary.tokens.total > 0);
    assert.equal(results.summary.costUsd, 0, 'vLLM is free unless priced');
  });
});

describe('durable state and resume', () => {
  test('running the same id again reruns only what did not succeed; fresh starts over', async () => {
    let fixed = false;
    server.respond(
      'vllm',
      route({
        'Count the apples': 'result = 3;',
        'Count the pears': () => ({ kind: 'text', text: fenced(fixed ? 'result = 5;' : 'result = pears.length;') }),
        'Add them': 'result = context.apples.output + context.pears.output;',
      }),
    );
    const steps = [
      { id: 'apples', agent: 'researcher', task: 'Count the apples' },
      { id: 'pears', agent: 'researcher', task: 'Count the pears' },
      { id: 'sum', agent: 'writer', task: 'Add them', dependsOn: ['apples', 'pears'] },
    ];
    const first = await mesh.workflow('fruit', steps, { fresh: true });
    assert.deepEqual(
      first.map((r) => r.status),
      ['success', 'failure', 'skipped'],
    );
    const saved = await loadWorkflowState(logDir, 'fruit');
    assert.equal(saved?.status, 'failed');
    assert.equal(saved?.steps.apples?.status, 'success');
    for (const id of ['apples', 'pears']) {
      const record = saved?.steps[id];
      assert.ok(record?.startedAt && record.finishedAt, `step ${id} keeps when it started and when it finished`);
      assert.ok(Date.parse(record.startedAt) <= Date.parse(record.finishedAt), `step ${id} started before it finished`);
    }
    assert.equal(saved?.steps.sum?.startedAt, null, 'a skipped step never started');

    fixed = true;
    const before = server.requests('vllm').length;
    const second = await mesh.workflow('fruit', steps);
    assert.deepEqual(
      second.map((r) => [r.status, r.output, r.recovered ?? false]),
      [
        ['success', 3, true],
        ['success', 5, false],
        ['success', 8, false],
      ],
    );
    const asked = server.requests('vllm').slice(before).map(taskOf);
    assert.ok(!asked.some((t) => t.includes('apples')), 'the recovered step made no model call');
    assert.equal(second.summary.recovered, 1);

    const third = await mesh.workflow('fruit', steps);
    assert.ok(
      third.every((r) => r.recovered),
      'a finished workflow is recovered whole',
    );
    const fresh = await mesh.workflow('fruit', steps, { fresh: true });
    assert.ok(fresh.every((r) => !r.recovered));
  });

  test('with { wait: true } a second run of an id in flight waits for the first, then recovers what it finished', async () => {
    server.respond(
      'vllm',
      route({
        'Weigh the parcel': () => ({ kind: 'text', text: fenced('const kg: number = 4;\nresult = kg;'), delayMs: 300 }),
      }),
    );
    const steps = [{ id: 'weigh', agent: 'researcher', task: 'Weigh the parcel', outputSchema: z.number() }];
    const first = mesh.workflow('parcel', steps, { fresh: true });
    const second = mesh.workflow('parcel', steps, { wait: true });
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a[0]?.output, a[0]?.recovered ?? false], [4, false]);
    assert.deepEqual(
      [b[0]?.output, b[0]?.recovered ?? false],
      [4, true],
      'the waiting run ran after the first and recovered its step',
    );
    assert.equal(server.requests('vllm').length, 1, 'never both running');
  });

  test('a changed step reruns, with everything downstream of it', async () => {
    server.respond(
      'vllm',
      route({
        'Base value': 'result = 10;',
        'Other base': 'result = 20;',
        'Double it': 'result = context.base.output * 2;',
      }),
    );
    const steps = (task: string) => [
      { id: 'base', agent: 'researcher', task },
      { id: 'double', agent: 'writer', task: 'Double it', dependsOn: ['base'] },
    ];
    await mesh.workflow('changing', steps('Base value'), { fresh: true });
    const again = await mesh.workflow('changing', steps('Other base value'));
    assert.deepEqual(
      again.map((r) => [r.output, r.recovered ?? false]),
      [
        [20, false],
        [40, false],
      ],
    );
  });
});

describe('cancellation, events, stop', () => {
  test('an AbortSignal cancels the steps in flight and skips the rest', async () => {
    server.respond('vllm', route({ 'Slow step': () => ({ kind: 'hang' }), 'Next step': 'result = 1;' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const results = await mesh.workflow(
      'cancel-me',
      [
        { id: 'slow', agent: 'researcher', task: 'Slow step' },
        { id: 'next', agent: 'writer', task: 'Next step', dependsOn: ['slow'] },
      ],
      { fresh: true, signal: controller.signal },
    );
    assert.ok(Date.now() - started < 3000);
    assert.equal(results[0]?.status, 'failure');
    assert.match(results[0]?.error ?? '', /cancelled/);
    assert.equal(results[1]?.status, 'skipped');
    assert.equal(results.summary.cancelled, true);
  });

  test('typed events for progress displays and hooks', async () => {
    server.respond(
      'vllm',
      route({
        'Fix me': (req) => ({
          kind: 'text',
          text: fenced(req.messages[0]?.content.includes('Your code failed') ? 'result = 2;' : 'result = nope;'),
        }),
        'Fail me': 'throw new Error("always")',
        'Never run': 'result = 0;',
      }),
    );
    const seen: string[] = [];
    const record =
      <K extends keyof MeshEvents>(name: K) =>
      (payload: MeshEvents[K]) => {
        seen.push(`${name}${'stepId' in payload ? `:${payload.stepId}` : ''}`);
      };
    const names: Array<keyof MeshEvents> = [
      'workflow:started',
      'workflow:finished',
      'step:started',
      'step:repaired',
      'step:finished',
      'step:failed',
      'step:skipped',
      'step:recovered',
    ];
    const listeners = names.map((name) => [name, record(name)] as const);
    for (const [name, listener] of listeners) mesh.on(name, listener as never);
    mesh.on('step:finished', () => {
      throw new Error('a broken user hook');
    });
    try {
      await mesh.workflow(
        'events',
        [
          { id: 'fix', agent: 'researcher', task: 'Fix me' },
          { id: 'fail', agent: 'writer', task: 'Fail me' },
          { id: 'never', agent: 'writer', task: 'Never run', dependsOn: ['fail'] },
        ],
        { fresh: true, concurrency: 1 },
      );
    } finally {
      for (const [name, listener] of listeners) mesh.off(name, listener as never);
    }
    // Finished, failed and skipped are announced once the step's new state is on disk, so they may trail the
    // next step's start; each step's own events and the workflow's bracket keep their order.
    assert.equal(seen[0], 'workflow:started');
    assert.equal(seen.at(-1), 'workflow:finished');
    const of = (step: string) => seen.filter((e) => e.endsWith(`:${step}`));
    assert.deepEqual(of('fix'), ['step:started:fix', 'step:repaired:fix', 'step:finished:fix']);
    assert.deepEqual(of('fail'), ['step:started:fail', 'step:repaired:fail', 'step:failed:fail']);
    assert.deepEqual(of('never'), ['step:skipped:never']);
    assert.equal(seen.length, 9);
  });

  test("every event of a step comes after its dependencies' finished events, over many runs", async () => {
    server.respond(
      'vllm',
      route({
        'Count the red': 'result = 2;',
        'Count the blue': 'result = 3;',
        'Add red and blue': 'const total: number = context.red.output + context.blue.output;\nresult = total;',
        'Square the red': 'result = context.red.output ** 2;',
        'Combine all': 'result = [context.sum.output, context.square.output];',
      }),
    );
    const steps = [
      { id: 'red', agent: 'researcher', task: 'Count the red marbles' },
      { id: 'blue', agent: 'researcher', task: 'Count the blue marbles' },
      { id: 'sum', agent: 'writer', task: 'Add red and blue', dependsOn: ['red', 'blue'] },
      { id: 'square', agent: 'writer', task: 'Square the red count', dependsOn: ['red'] },
      { id: 'all', agent: 'reviewer', task: 'Combine all counts', dependsOn: ['sum', 'square'] },
    ];
    const seen: Array<{ event: string; stepId: string }> = [];
    const names = ['step:started', 'step:repaired', 'step:finished', 'step:failed', 'step:skipped'] as const;
    const listeners = names.map(
      (event) => [event, (p: { stepId: string }) => seen.push({ event, stepId: p.stepId })] as const,
    );
    for (const [event, listener] of listeners) mesh.on(event, listener);
    try {
      for (let run = 0; run < 15; run++) {
        seen.length = 0;
        const results = await mesh.workflow(`causal-${run}`, steps, { fresh: true, concurrency: 4 });
        assert.deepEqual(results.at(-1)?.output, [5, 4]);
        for (const step of steps) {
          const finishedAt = seen.findIndex((e) => e.event === 'step:finished' && e.stepId === step.id);
          assert.ok(finishedAt >= 0, `run ${run}: step:finished for ${step.id}`);
          for (const dependant of steps.filter((s) => s.dependsOn?.includes(step.id))) {
            const first = seen.findIndex((e) => e.stepId === dependant.id);
            assert.ok(
              first > finishedAt,
              `run ${run}: ${dependant.id}'s ${seen[first]?.event} came before ${step.id}'s step:finished: `
                + seen.map((e) => `${e.event}:${e.stepId}`).join(', '),
            );
          }
        }
      }
    } finally {
      for (const [event, listener] of listeners) mesh.off(event, listener);
    }
  });

  test('stop() waits for work in flight by default, and cancels it in cancel mode', async () => {
    for (const mode of ['wait', 'cancel'] as const) {
      const m = new Mesh({
        config: config({ MESH_STOP_MODE: mode, LOG_DIRECTORY: mkdtempSync(join(scratch, 'stop-')) }),
      });
      m.add(WriterAgent);
      await m.start();
      server.respond('vllm', () => ({ kind: 'text', text: fenced('result = "done";'), delayMs: 500 }));
      const running = m.workflow('stopping', [{ agent: 'writer', task: 'Take a while' }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await m.stop();
      const [r] = await running;
      if (mode === 'wait') assert.equal(r?.output, 'done');
      else assert.match(r?.error ?? '', /cancelled/);
    }
  });
});
