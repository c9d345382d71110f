// Discovery and liveness across real OS processes on a real nats-server: a SIGKILLed provider leaves the catalog and
// a call in flight to it fails with agent_died within 2 s (heartbeats; and at once with disconnect advisories when a
// system account is configured); two replicas stopping gracefully; a broker restart that loses its store, after
// which every host registers again on its own.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { type DeathNotice, Host } from '../src/transport/oam/liveness.js';
import { MeshError } from '../src/transport/oam/mesh-error.js';
import { Registry } from '../src/transport/oam/registry.js';
import {
  BUCKET,
  clientName,
  encodeBody,
  HEADER,
  newInstanceId,
  newRequestId,
  subjects,
} from '../src/transport/oam/wire.js';
import { connectTestNats } from './helpers/discovery-nats.js';
import { waitFor } from './transport/discovery-suite.js';

const skip = natsServerAvailable() ? false : NATS_MISSING;
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const PROVIDER = fileURLToPath(new URL('./fixtures/discovery-provider.ts', import.meta.url));
const decoder = new TextDecoder();

/** Every provider started here, SIGKILLed after the file's tests if one is still running (a test that failed). */
const providers = new Set<ChildProcess>();
after(() => {
  for (const child of providers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Provider {
  child: ChildProcess;
  instanceId: string;
  lines: Array<Record<string, unknown>>;
  /** Resolves when the process exited. */
  exited: Promise<void>;
}

async function startProvider(url: string, agents: string[], env: Record<string, string> = {}): Promise<Provider> {
  const child = spawn(process.execPath, ['--import', tsxLoader, PROVIDER], {
    env: { ...process.env, NATS_URL: url, AGENTS: agents.join(','), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  providers.add(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let buffered = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        if (typeof line.ready === 'string') resolve(line.ready);
        newline = buffered.indexOf('\n');
      }
    });
    void exited.then(() => reject(new Error(`the provider exited before it was ready:\n${stderr}`)));
  });
  return { child, instanceId: await ready, lines, exited };
}

/** SIGTERM, and the process must end within 10 s (else it is SIGKILLed and the test fails: a stop that hangs). */
async function stopProvider(provider: Provider): Promise<void> {
  provider.child.kill('SIGTERM');
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    provider.child.kill('SIGKILL');
  }, 10_000);
  await provider.exited;
  clearTimeout(timer);
  assert.ok(!hung, 'the provider did not stop within 10 s of SIGTERM');
}

/** A host in this process with no agents of its own: it watches the catalog and sweeps dead hosts. */
async function startObserver(url: string, advisories?: Bus) {
  const instanceId = newInstanceId();
  const bus = await connectTestNats(url, clientName(instanceId));
  const warnings: string[] = [];
  const host = await Host.open(bus, { instanceId, node: 'observer', onWarning: (m) => warnings.push(m), advisories });
  await host.start();
  const { catalog, registry } = host;
  return {
    bus,
    catalog,
    registry,
    host,
    warnings,
    async close() {
      await host.stop();
      catalog.stop();
      await bus.close();
      await advisories?.close();
    },
  };
}

/** Sends a call that the provider never answers and fails it with agent_died when the agent's death notice comes. */
function callUntilDeath(bus: Bus, name: string): Promise<never> {
  const requestId = newRequestId();
  return new Promise<never>((_, reject) => {
    const death = bus.subscribe(subjects.death(name), (message) => {
      death.unsubscribe();
      const notice = JSON.parse(decoder.decode(message.data)) as DeathNotice;
      reject(
        new MeshError('agent_died', `Agent "${name}" died while handling the request.`, {
          agent: name,
          requestId,
          details: { ...notice },
        }),
      );
    });
    void bus.flush().then(() =>
      bus
        .request(subjects.agent(name), encodeBody({}), {
          timeoutMs: 30_000,
          headers: { [HEADER.requestId]: requestId },
        })
        .then(
          () => reject(new Error('the killed provider answered')),
          (err: unknown) => reject(err),
        ),
    );
  });
}

async function killMidCall(server: NatsServer, observer: Awaited<ReturnType<typeof startObserver>>): Promise<number> {
  const provider = await startProvider(server.url, ['proc.slow']);
  await waitFor(() => observer.catalog.lookup('proc.slow') !== undefined, 'proc.slow in the catalog');
  const failed = callUntilDeath(observer.bus, 'proc.slow').catch((err: unknown) => err);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the request is with the provider now
  const killedAt = performance.now();
  provider.child.kill('SIGKILL');
  const error = await failed;
  const elapsed = performance.now() - killedAt;
  assert.ok(error instanceof MeshError && error.code === 'agent_died', `expected agent_died, got ${String(error)}`);
  assert.equal((error as MeshError).details.instance_id, provider.instanceId);
  assert.equal((error as MeshError).details.reason, 'disconnect');
  await waitFor(() => observer.catalog.lookup('proc.slow') === undefined, 'proc.slow to leave the catalog');
  await assert.rejects(observer.registry.contract('proc.slow'), /No agent "proc\.slow"/);
  await provider.exited;
  return elapsed;
}

test('a SIGKILLed provider: the call in flight fails with agent_died within 2 s and its agent leaves the catalog (heartbeats)', {
  skip,
  timeout: 30_000,
}, async (t) => {
  const server = await startNatsServer();
  try {
    const observer = await startObserver(server.url);
    try {
      const elapsed = await killMidCall(server, observer);
      t.diagnostic(`heartbeats: agent_died ${elapsed.toFixed(0)} ms after SIGKILL`);
      assert.ok(elapsed <= 2_000, `agent_died came ${elapsed.toFixed(0)} ms after the kill`);
    } finally {
      await observer.close();
    }
  } finally {
    await server.stop();
  }
});

test('with a system account, the disconnect advisory sweeps a SIGKILLed provider at once', {
  skip,
  timeout: 30_000,
}, async (t) => {
  const server = await startNatsServer({
    config: [
      'accounts { APP: { jetstream: enabled, users: [ { user: "app", password: "app-secret" } ] }',
      '           SYS: { users: [ { user: "sys", password: "sys-secret" } ] } }',
      'no_auth_user: "app"',
      'system_account: SYS',
    ].join('\n'),
  });
  try {
    const advisories = await connectTestNats(server.url, 'automesh-advisories', { user: 'sys', pass: 'sys-secret' });
    const observer = await startObserver(server.url, advisories);
    try {
      const elapsed = await killMidCall(server, observer);
      t.diagnostic(`advisories: agent_died ${elapsed.toFixed(0)} ms after SIGKILL`);
      assert.ok(elapsed <= 800, `agent_died came ${elapsed.toFixed(0)} ms after the kill, not at the advisory`);
    } finally {
      await observer.close();
    }
  } finally {
    await server.stop();
  }
});

test('two replica processes stop gracefully: the entry stays until the last leaves, then a graceful_shutdown death notice', {
  skip,
  timeout: 30_000,
}, async () => {
  const server = await startNatsServer();
  try {
    const observer = await startObserver(server.url);
    try {
      const first = await startProvider(server.url, ['proc.pair'], { REPLY_DELAY_MS: '0' });
      const second = await startProvider(server.url, ['proc.pair'], { REPLY_DELAY_MS: '0' });
      const notices: DeathNotice[] = [];
      observer.bus.subscribe(subjects.death('proc.pair'), (m) =>
        notices.push(JSON.parse(decoder.decode(m.data)) as DeathNotice),
      );
      await observer.bus.flush();
      await waitFor(() => observer.catalog.lookup('proc.pair') !== undefined, 'proc.pair in the catalog');

      await stopProvider(first);
      assert.deepEqual(first.lines.at(-1), { stopped: [] }, 'the first replica leaves the entry to the other');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(observer.catalog.lookup('proc.pair'), 'still listed while the second replica serves it');
      assert.equal(notices.length, 0);
      const answer = await observer.bus.request(subjects.agent('proc.pair'), encodeBody({}), { timeoutMs: 5_000 });
      assert.equal(JSON.parse(decoder.decode(answer.data)).served_by, second.instanceId);

      await stopProvider(second);
      assert.deepEqual(second.lines.at(-1), { stopped: ['proc.pair'] });
      await waitFor(() => notices.length === 1, 'the death notice');
      assert.deepEqual(
        { agent: notices[0]?.agent, reason: notices[0]?.reason, instance: notices[0]?.instance_id },
        {
          agent: 'proc.pair',
          reason: 'graceful_shutdown',
          instance: second.instanceId,
        },
      );
      await waitFor(() => observer.catalog.lookup('proc.pair') === undefined, 'proc.pair to leave the catalog');
      const instances = await observer.bus.kv(BUCKET.instances);
      assert.equal(await instances.get(first.instanceId), null);
      assert.equal(await instances.get(second.instanceId), null);
    } finally {
      await observer.close();
    }
  } finally {
    await server.stop();
  }
});

test('after a broker restart that lost its store, a provider registers its agent again on its own', {
  skip,
  timeout: 45_000,
}, async () => {
  const server = await startNatsServer();
  try {
    const provider = await startProvider(server.url, ['proc.back'], { REPLY_DELAY_MS: '0' });
    const observer = await startObserver(server.url);
    try {
      await waitFor(() => observer.catalog.lookup('proc.back') !== undefined, 'proc.back in the catalog');
      await server.restart({ loseStore: true });
      const fresh = await connectTestNats(server.url, 'checker');
      try {
        await waitFor(
          async () => {
            const entry = await (await fresh.kv(BUCKET.catalog, { history: 1 })).get('catalog').catch(() => null);
            return entry !== null && decoder.decode(entry.value).includes('"proc.back"');
          },
          'proc.back back in the catalog',
          15_000,
        );
        // The provider makes the registry and instance buckets again as it re-registers: until it has, reading
        // them may fail (a JetStream API request that times out while a stream is being made), as above.
        const contractName = async (): Promise<string> =>
          (await (await Registry.open(fresh)).contract('proc.back')).name;
        await waitFor(
          () =>
            contractName().then(
              (name) => name === 'proc.back',
              () => false,
            ),
          "proc.back's contract in the registry again",
          15_000,
        );
        assert.equal(await contractName(), 'proc.back');
        const instance = async (): Promise<string> => {
          const instances = await fresh.kv(BUCKET.instances, { history: 1 });
          return decoder.decode((await instances.get(provider.instanceId))?.value ?? new Uint8Array());
        };
        await waitFor(
          () =>
            instance().then(
              (text) => text === '{"agents": ["proc.back"]}',
              () => false,
            ),
          "the provider's instance record again",
          15_000,
        );
        assert.equal(await instance(), '{"agents": ["proc.back"]}');
        await waitFor(
          () => observer.catalog.lookup('proc.back') !== undefined,
          "the observer's cache to show it again",
        );
        // Generous: the point is that it answers at all after re-registering, on a machine that may be busy.
        const answer = await fresh.request(subjects.agent('proc.back'), encodeBody({}), { timeoutMs: 15_000 });
        assert.equal(JSON.parse(decoder.decode(answer.data)).served_by, provider.instanceId);
      } finally {
        await fresh.close();
      }
    } finally {
      await observer.close();
      await stopProvider(provider);
    }
  } finally {
    await server.stop();
  }
});
