// The mesh across real OS processes on a real nats-server: provider processes (test/fixtures/mesh-provider.ts)
// and this test process as the caller. Three replicas share the load; a provider killed mid-call fails the call
// with agent_died within 2 s (measured) and leaves the catalog. (Recovery: mesh-processes-recovery.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NATS_MISSING, natsServerAvailable } from '../src/testing/index.js';
import { isMeshError } from '../src/transport/index.js';
import { useMeshProcesses, waitFor } from './helpers/mesh-processes.js';

describe('the mesh across processes', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  const processes = useMeshProcesses();

  test('three replica processes of one agent share 30 calls (queue group q.work.echo)', async () => {
    await Promise.all(['r1', 'r2', 'r3'].map((replica) => processes.startProvider(replica)));
    const caller = await processes.startCaller();
    const replies = (await Promise.all(
      Array.from({ length: 30 }, (_, n) => caller.call('work.echo', { n })),
    )) as Array<{ n: number; replica: string }>;
    assert.deepEqual(
      replies.map((r) => r.n),
      Array.from({ length: 30 }, (_, n) => n),
    );
    const perReplica = new Map<string, number>();
    for (const { replica } of replies) perReplica.set(replica, (perReplica.get(replica) ?? 0) + 1);
    assert.deepEqual([...perReplica.keys()].sort(), ['r1', 'r2', 'r3'], JSON.stringify([...perReplica]));
    // One catalog entry for the three replicas.
    assert.equal((await caller.catalog({ channel: 'work' })).filter((e) => e.name === 'work.echo').length, 1);
  });

  test('SIGKILL of the provider mid-call fails the call with agent_died within 2 s; its entry leaves the catalog', async () => {
    const provider = await processes.startProvider('k1');
    const caller = await processes.startCaller();
    const call = caller.call('work.slow', { ms: 20_000 }, { timeoutMs: 30_000 }).then(
      () => null,
      (err: unknown) => err,
    );
    await waitFor(async () => provider.out().includes('busy k1'), 'the request to reach the provider');
    const killedAt = Date.now();
    provider.child.kill('SIGKILL');
    const err = await call;
    const failedAfterMs = Date.now() - killedAt;
    assert.ok(isMeshError(err, 'agent_died'), String(err));
    assert.ok(failedAfterMs <= 2_000, `the call failed ${failedAfterMs} ms after the kill (bound: 2000 ms)`);
    await waitFor(
      async () => (await caller.catalog({ channel: 'work' })).length === 0,
      'the killed provider to leave the catalog',
      10_000,
    );
    const gone = await caller.call('work.echo', { n: 1 }).catch((e: unknown) => e);
    assert.ok(isMeshError(gone, 'not_found'), String(gone));
  });
});
