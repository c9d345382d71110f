// Provider processes (test/fixtures/mesh-provider.ts) and a caller Mesh on a real nats-server, for the
// multi-process mesh tests; `useMeshProcesses()` starts a server per test and ends every process after it.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemoryStorage, Mesh } from '../../src/index.js';
import { type NatsServer, startNatsServer } from '../../src/testing/index.js';
import { type StartedScript, startScript } from './run-script.js';
import { tempDir } from './temp.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'mesh-provider.ts');

export type Provider = StartedScript;

export interface MeshProcesses {
  /** The test's nats-server. */
  readonly nats: NatsServer;
  /** A provider process on the test's nats-server, once it says it is on the mesh. */
  startProvider(replica: string, extraEnv?: Record<string, string>): Promise<Provider>;
  /** A caller Mesh with no agents of its own, on the test's nats-server. */
  startCaller(): Promise<Mesh>;
}

/** Registers per-test setup and teardown: a nats-server, and every process and mesh started, ended after. */
export function useMeshProcesses(): MeshProcesses {
  let nats: NatsServer | null = null;
  const providers: Provider[] = [];
  const meshes: Mesh[] = [];
  beforeEach(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.allSettled(meshes.splice(0).map((mesh) => mesh.stop()));
    for (const { child, exited } of providers.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    await nats?.stop();
    nats = null;
  });
  const server = (): NatsServer => {
    assert.ok(nats, 'the nats-server runs only inside a test');
    return nats;
  };
  return {
    get nats() {
      return server();
    },
    async startProvider(replica, extraEnv = {}) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NATS_URL: server().url,
        NODE_NAME: `node-${replica}`,
        REPLICA_ID: replica,
        LOG_DIRECTORY: tempDir('mesh-processes'),
        SANDBOX_WORKERS: '1',
        ...extraEnv,
      };
      if (!extraEnv.LLM_ENDPOINT) delete env.LLM_ENDPOINT;
      const provider = startScript(fixture, { env });
      providers.push(provider);
      await waitFor(
        async () => provider.out().includes(`ready ${replica}`) || provider.child.exitCode !== null,
        `replica ${replica}`,
        30_000,
      );
      if (provider.child.exitCode !== null)
        throw new Error(`provider ${replica} exited (${provider.child.exitCode}): ${provider.err()}`);
      return provider;
    },
    async startCaller() {
      const mesh = new Mesh({
        mode: 'distributed',
        storage: createMemoryStorage(),
        config: { NATS_URL: server().url, NODE_NAME: 'caller', LOG_DIRECTORY: tempDir('mesh-caller') },
      });
      meshes.push(mesh);
      await mesh.start();
      return mesh;
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
