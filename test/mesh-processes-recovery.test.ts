// The mesh across real OS processes, recovering: after a broker restart a provider process reconnects and
// registers again on its own; a workflow step runs on an AutoAgent of another process (its model call there),
// with its dependency's output in its context.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { NATS_MISSING, natsServerAvailable } from '../src/testing/index.js';
import { useMeshProcesses, waitFor } from './helpers/mesh-processes.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

let llm: LlmServer;
before(async () => {
  llm = await LlmServer.start();
});
after(() => llm.close());
beforeEach(() => llm.reset());

describe('the mesh across processes, recovering', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  const processes = useMeshProcesses();

  test('after a broker restart the provider process reconnects and registers again on its own', async () => {
    await processes.startProvider('b1');
    const caller = await processes.startCaller();
    assert.deepEqual(await caller.call('work.echo', { n: 1 }), { n: 1, replica: 'b1' });
    // The restarted broker lost its store: the catalog and registry are back only if the provider registers again.
    await processes.nats.restart({ loseStore: true });
    let reply: unknown = null;
    await waitFor(
      async () => {
        reply = await caller.call('work.echo', { n: 2 }, { timeoutMs: 1_000 }).catch(() => null);
        return reply !== null;
      },
      'a call to succeed after the restart',
      20_000,
    );
    assert.deepEqual(reply, { n: 2, replica: 'b1' });
    await waitFor(
      async () => (await caller.catalog({ channel: 'work' })).length === 2,
      'the provider to list both its agents in the new catalog',
      10_000,
    );
    assert.equal((await caller.contract('work.echo')).node, 'node-b1');
  });

  test("a workflow step runs on an AutoAgent of another process, with its dependency's output in its context", async () => {
    llm.respond('vllm', (req) => {
      const task = taskOf(req);
      const code = task.includes('Double')
        ? 'const base = (context.base as { output: number }).output;\nconst result: number = base * 2;'
        : 'const result: number = 12;';
      return {
        kind: 'text',
        text: `Here is a short program for that.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nThe value is stored in \`result\`.`,
      };
    });
    await processes.startProvider('w1', {
      LLM_PROVIDER_ORDER: 'vllm',
      LLM_ENDPOINT: llm.url,
      LLM_MODEL: 'qwen2.5-coder-32b-instruct',
      LLM_MAX_RETRIES: '0',
    });
    const caller = await processes.startCaller();
    const results = await caller.workflow('cross-process', [
      { id: 'base', agent: 'calculator', task: 'Give 12' },
      { id: 'double', agent: 'math', task: 'Double the base', dependsOn: ['base'] },
    ]);
    const outputs = Object.fromEntries(results.map((r) => [r.stepId, `${r.status} ${JSON.stringify(r.output)}`]));
    assert.deepEqual(outputs, { base: 'success 12', double: 'success 24' });
    assert.equal(llm.requests('vllm').length, 2, 'one model call per step, in the provider process');
  });
});

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages.map((m) => m.content).join('\n'))?.[1] ?? '';
}
