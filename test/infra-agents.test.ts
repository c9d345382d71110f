// What every agent gets from the mesh (JarvisCore's `_redis_store`, `_blob_storage`, `mailbox`): `this.kv`,
// `this.blobs`, `this.mailbox` on an AutoAgent, `ctx.kv`, `ctx.blobs`, `ctx.mailbox` in a function agent's handler,
// and `mesh.blobs` / `mesh.mailbox`; on both transports (one process on the in-process bus, two meshes on a real
// nats-server), and not before `mesh.start()` nor after `mesh.stop()`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { AutoAgent, type Bus, connectInProcess, InProcessBroker, Mesh } from '../src/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer } from './llm-server/server.js';

let llm: LlmServer;
before(async () => {
  llm = await LlmServer.start();
});
after(() => llm.close());

class ResearcherAgent extends AutoAgent {
  static override role = 'researcher';
  static override capabilities = ['research'];
  static override systemPrompt = 'You research. Store the answer in `result`.';

  /** What an agent's own code does with what the mesh gives it. */
  async note(topic: string): Promise<void> {
    await this.kv.put(`notes/${topic}`, { by: this.role, topic });
    await this.blobs.put(`notes/${topic}.md`, `# ${topic}\n`);
    await this.mailbox.send('archivist', { topic });
  }
}

function config(logDirectory: string, extra: Record<string, string> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: llm.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    SANDBOX_WORKERS: 1,
    LOG_DIRECTORY: logDirectory,
    ...extra,
  };
}

/** An archivist function agent: answers with the messages in its mailbox, keeping each as a blob and a count in kv. */
function addArchivist(mesh: Mesh): Mesh {
  return mesh.agent(
    {
      name: 'archivist',
      description: 'Files the notes sent to its mailbox.',
      input: z.object({ waitMs: z.number() }),
      output: z.object({ filed: z.array(z.unknown()), from: z.array(z.string()) }),
    },
    async ({ waitMs }, ctx) => {
      const messages = await ctx.mailbox.receive({ waitMs, max: 50 });
      for (const message of messages) {
        await ctx.blobs.put(`archive/${message.id}.json`, JSON.stringify(message.body));
        await ctx.kv.update('archive/count', (n) => Number(n ?? 0) + 1);
        await message.ack();
      }
      return { filed: messages.map((m) => m.body), from: messages.map((m) => m.from) };
    },
  );
}

test('before mesh.start() and after mesh.stop(), this.kv / this.blobs / this.mailbox say they come with start', async () => {
  const logs = tempDir('infra-agents');
  const mesh = new Mesh({ bus: connectInProcess(new InProcessBroker()), config: config(logs) }).add(ResearcherAgent);
  const agent = mesh.getAgent('researcher') as ResearcherAgent;
  for (const part of ['kv', 'blobs', 'mailbox'] as const) {
    assert.throws(
      () => agent[part],
      new RegExp(
        `Agent "researcher": this\\.${part} is available after mesh\\.start\\(\\).*await mesh\\.start\\(\\) first`,
      ),
    );
  }
  assert.throws(() => mesh.blobs, /Cannot use mesh\.blobs before mesh\.start\(\)/);
  assert.throws(() => mesh.mailbox, /Cannot use mesh\.mailbox before mesh\.start\(\)/);
  await mesh.start();
  try {
    assert.equal(agent.mailbox.role, 'researcher');
    assert.equal(agent.blobs.kind, 'directory');
    assert.equal(agent.blobs.location, join(logs, 'blobs'));
  } finally {
    await mesh.stop();
  }
  assert.throws(() => agent.kv, /this\.kv is available after mesh\.start\(\)/);
  assert.throws(() => mesh.mailbox, /Cannot use mesh\.mailbox before mesh\.start\(\)/);
});

test('one process, in-process bus: an AutoAgent and a function agent share kv, blobs (a directory) and mailboxes', async () => {
  const logs = tempDir('infra-agents');
  const mesh = new Mesh({ bus: connectInProcess(new InProcessBroker()), config: config(logs, { NODE_NAME: 'solo' }) });
  addArchivist(mesh.add(ResearcherAgent));
  await mesh.start();
  try {
    const researcher = mesh.getAgent('researcher') as ResearcherAgent;
    await researcher.note('quantum');
    await mesh.mailbox.send('archivist', 'from the mesh itself');
    assert.deepEqual(await mesh.kv.getJson('notes/quantum'), { by: 'researcher', topic: 'quantum' });
    assert.equal(readFileSync(join(logs, 'blobs', 'notes', 'quantum.md'), 'utf8'), '# quantum\n');
    const answer = (await mesh.call('archivist', { waitMs: 0 })) as { filed: unknown[]; from: string[] };
    assert.deepEqual(answer.filed, [{ topic: 'quantum' }, 'from the mesh itself']);
    assert.deepEqual(answer.from, ['researcher', 'mesh@solo']);
    assert.equal(await mesh.kv.get('archive/count'), '2');
    const archived = await mesh.blobs.list('archive/');
    assert.equal(archived.length, 2);
    assert.ok(existsSync(join(logs, 'blobs', 'archive')));
    assert.equal(await researcher.mailbox.pending(), 0);
  } finally {
    await mesh.stop();
  }
});

describe('two meshes on a nats-server', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let nats: NatsServer;
  const buses: Bus[] = [];
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await nats?.stop();
  });

  test('what one mesh’s agent writes, the other’s reads: kv, blobs (object store) and a mailbox message', async () => {
    const researchers = new Mesh({ config: config(tempDir('infra-a'), { NATS_URL: nats.url, NODE_NAME: 'a' }) });
    researchers.add(ResearcherAgent);
    const archivists = addArchivist(
      new Mesh({ config: config(tempDir('infra-b'), { NATS_URL: nats.url, NODE_NAME: 'b' }) }),
    );
    await researchers.start();
    await archivists.start();
    try {
      const researcher = researchers.getAgent('researcher') as ResearcherAgent;
      assert.equal(researcher.blobs.kind, 'object-store');
      // The archivist waits on its mailbox: the note sent meanwhile from the other mesh wakes it.
      const answer = archivists.call('archivist', { waitMs: 10_000 }, { timeoutMs: 15_000 }) as Promise<{
        filed: unknown[];
        from: string[];
      }>;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await researcher.note('fusion');
      assert.deepEqual((await answer).filed, [{ topic: 'fusion' }]);
      assert.deepEqual((await answer).from, ['researcher']);
      assert.deepEqual(await archivists.kv.getJson('notes/fusion'), { by: 'researcher', topic: 'fusion' });
      assert.equal(await archivists.blobs.getText('notes/fusion.md'), '# fusion\n');
      const [archived] = await researchers.blobs.list('archive/');
      assert.ok(archived, 'the archivist’s blob is seen by the other mesh');
      assert.equal(await researchers.blobs.getText(archived.name), '{"topic":"fusion"}');
      assert.equal(await researchers.kv.get('archive/count'), '1');
    } finally {
      await archivists.stop();
      await researchers.stop();
    }
  });
});
