/**
 * The discovery suite: catalog, registry, shared KV, workspace and liveness on any bus (in-process, NATS), run by
 * each bus's test file with a harness that starts a fresh broker per test. Every document is checked as raw KV bytes
 * against what OpenAgentMesh writes (`oam-wire.md` §7), since Python peers read those bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bus, KvEntry } from '../../src/transport/bus.js';
import { Catalog } from '../../src/transport/oam/catalog.js';
import type { AgentContract, RegistryDocument } from '../../src/transport/oam/contract-types.js';
import { discover } from '../../src/transport/oam/discover.js';
import { type DeathNotice, Host } from '../../src/transport/oam/liveness.js';
import { isMeshError, type MeshErrorCode } from '../../src/transport/oam/mesh-error.js';
import { pythonJson } from '../../src/transport/oam/python-json.js';
import { Registry } from '../../src/transport/oam/registry.js';
import { buildRegistryDocument, type RegistryDocumentInput } from '../../src/transport/oam/registry-document.js';
import { SharedKv } from '../../src/transport/oam/shared-kv.js';
import { BUCKET, CATALOG_KEY, newInstanceId, subjects } from '../../src/transport/oam/wire.js';
import { Workspace } from '../../src/transport/oam/workspace.js';

/** One broker for one test. */
export interface DiscoveryBroker {
  /** A new connection to this broker. */
  connect(): Promise<Bus>;
  /** Closes every connection made here and ends the broker. */
  close(): Promise<void>;
}

export interface DiscoveryHarness {
  readonly kind: Bus['kind'];
  broker(): Promise<DiscoveryBroker>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const text = (data: Uint8Array): string => decoder.decode(data);

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejectsWithMesh(promise: Promise<unknown>, code: MeshErrorCode, message?: RegExp): Promise<Error> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a ${code} MeshError, but it succeeded`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(isMeshError(caught), `expected a MeshError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** A document as an automesh function agent writes it. */
export function agentDocument(name: string, overrides: Partial<RegistryDocumentInput> = {}): RegistryDocument {
  return buildRegistryDocument({
    name,
    description: `The ${name} agent.`,
    version: '1.0.0',
    tags: ['test'],
    shape: 'responder',
    inputSchema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
    outputSchema: { type: 'object', properties: { sum: { type: 'integer' } } },
    node: 'node-test',
    instanceId: 'i'.repeat(32),
    kind: 'function',
    ...overrides,
  });
}

interface TestHost {
  bus: Bus;
  catalog: Catalog;
  registry: Registry;
  host: Host;
  warnings: string[];
}

/** A host on its own connection: catalog, registry and liveness, started with `documents`. */
export async function startHost(
  broker: DiscoveryBroker,
  documents: RegistryDocument[] = [],
  options: { heartbeatMs?: number; deadAfterMs?: number } = {},
): Promise<TestHost> {
  const bus = await broker.connect();
  const warnings: string[] = [];
  const host = await Host.open(bus, {
    instanceId: newInstanceId(),
    node: 'node-test',
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  await host.start(documents);
  const { catalog, registry } = host;
  return { bus, catalog, registry, host, warnings };
}

/** The type of property `a` in a contract's input schema. */
const typeOfA = (contract: AgentContract): unknown =>
  (contract.inputSchema?.properties as { a?: { type?: string } } | undefined)?.a?.type;

async function rawCatalog(bus: Bus): Promise<string> {
  const entry = await (await bus.kv(BUCKET.catalog)).get(CATALOG_KEY);
  return entry === null ? '' : text(entry.value);
}

/** Captured from a running OAM (oam-wire.md §7), two entries of the catalog array. */
const CAPTURED_CATALOG =
  '[{"name": "demo.echo", "description": "Echo text back", "version": "1.0.0", "tags": ["demo"], "invocable": true, "streaming": false}, {"name": "demo.add", "description": "Add two ints", "version": "0.1.0", "tags": [], "invocable": true, "streaming": false}]';

/** Captured from `mesh-registry` key `peer.count` (oam-wire.md §7; the elided skill description filled in). */
const CAPTURED_REGISTRY =
  '{"name": "peer.count", "description": "Streams {i} for i in 0..n-1; fails at fail_at if set.", "version": "1.0.0", "capabilities": {"streaming": true, "invocable": true}, "skills": [{"id": "peer.count", "name": "peer.count", "description": "Streams {i} for i in 0..n-1; fails at fail_at if set.", "tags": ["oam-peer"], "inputSchema": {"properties": {"n": {"title": "N", "type": "integer"}, "delay_ms": {"default": 0, "title": "Delay Ms", "type": "integer"}, "fail_at": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Fail At"}}, "required": ["n"], "title": "CountIn", "type": "object"}}], "x-agentmesh": {"subject": "mesh.agent.peer.count", "tags": ["oam-peer"], "registered_at": "2026-11-30T21:35:38.574868+00:00", "chunk_schema": {"properties": {"i": {"title": "I", "type": "integer"}}, "required": ["i"], "title": "CountChunk", "type": "object"}}}';

export function discoverySuite(name: string, harness: DiscoveryHarness): void {
  /** Runs `body` on a fresh broker, closing it (and every connection) whether the test passed or not. */
  const onBroker = (body: (broker: DiscoveryBroker) => Promise<void>) => async (): Promise<void> => {
    const broker = await harness.broker();
    try {
      await body(broker);
    } finally {
      await broker.close();
    }
  };

  test(
    `${name}: registrations from several connections at once all land in the catalog (compare-and-set, none lost)`,
    onBroker(async (broker) => {
      const warnings: string[] = [];
      const writers = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const bus = await broker.connect();
          const catalog = await Catalog.open(bus, { onWarning: (m) => warnings.push(m) });
          await catalog.start();
          return catalog;
        }),
      );
      const names = writers.flatMap((_, w) => Array.from({ length: 4 }, (_, i) => `cas.w${w}.agent${i}`));
      await Promise.all(
        writers.map(async (catalog, w) => {
          for (let i = 0; i < 4; i++) {
            await catalog.register({
              name: `cas.w${w}.agent${i}`,
              description: 'd',
              version: '0.1.0',
              tags: [],
              invocable: true,
              streaming: false,
            });
          }
        }),
      );
      const stored = JSON.parse(await rawCatalog(await broker.connect())) as Array<{ name: string }>;
      assert.deepEqual(stored.map((entry) => entry.name).sort(), [...names].sort());
      for (const catalog of writers) {
        await waitFor(() => catalog.list().length === names.length, 'every cache to show all 20 agents');
        assert.deepEqual(
          catalog
            .list({ channel: 'cas.w3' })
            .map((e) => e.name)
            .sort(),
          names.filter((n) => n.startsWith('cas.w3.')),
        );
      }
      for (const catalog of writers) catalog.stop();
      assert.deepEqual(warnings, []);
    }),
  );

  test(
    `${name}: malformed catalog elements written by someone else are skipped with a warning, the watch goes on, and our writes drop them`,
    onBroker(async (broker) => {
      const raw = await (await broker.connect()).kv(BUCKET.catalog, { history: 1 });
      const warnings: string[] = [];
      const catalog = await Catalog.open(await broker.connect(), { onWarning: (m) => warnings.push(m) });
      await catalog.start();
      const good = (n: string) => ({
        name: n,
        description: 'ok',
        version: '1.0.0',
        tags: [],
        invocable: true,
        streaming: false,
      });
      await raw.put(
        CATALOG_KEY,
        bytes(
          JSON.stringify([good('a.one'), { description: 'no name' }, { name: 'a.bad', description: 5 }, good('a.two')]),
        ),
      );
      await waitFor(() => catalog.lookup('a.two') !== undefined, 'the watch to deliver the array');
      assert.deepEqual(
        catalog.list().map((e) => e.name),
        ['a.one', 'a.two'],
      );
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings.join('\n'), /without a string "name"/);
      assert.match(warnings.join('\n'), /"a\.bad" without a string "description" \(5\)/);

      await raw.put(CATALOG_KEY, bytes('{"not": "an array"}'));
      await waitFor(() => catalog.list().length === 0, 'the non-array value to empty the cache');
      assert.match(warnings.at(-1) ?? '', /not an array/);

      await raw.put(CATALOG_KEY, bytes(JSON.stringify([good('a.three'), { name: 'a.worse' }])));
      await waitFor(() => catalog.lookup('a.three') !== undefined, 'the watch to go on after the bad values');

      await catalog.register({ ...good('a.mine'), tags: ['x'] });
      const stored = JSON.parse(await rawCatalog(await broker.connect())) as Array<{ name: string }>;
      assert.deepEqual(
        stored.map((e) => e.name),
        ['a.three', 'a.mine'],
        'the malformed element is not written back',
      );
      catalog.stop();
    }),
  );

  test(
    `${name}: our own malformed entry is refused before anything is written`,
    onBroker(async (broker) => {
      const bus = await broker.connect();
      const catalog = await Catalog.open(bus, { onWarning: () => {} });
      await catalog.start();
      const entry = { name: 'x.y', description: 'd', version: '1', tags: ['t'], invocable: true, streaming: false };
      await rejectsWithMesh(
        catalog.register({ ...entry, tags: [1] as unknown as string[] }),
        'invalid_definition',
        /tags/,
      );
      await rejectsWithMesh(
        catalog.register({ ...entry, version: undefined as unknown as string }),
        'invalid_definition',
        /version/,
      );
      await rejectsWithMesh(catalog.register({ ...entry, name: 'bad name' }), 'invalid_definition', /segment/);
      assert.equal(await rawCatalog(bus), '', 'nothing was written');
      await catalog.register({ ...entry, extra: 'dropped' } as typeof entry);
      assert.equal(
        await rawCatalog(bus),
        '[{"name": "x.y", "description": "d", "version": "1", "tags": ["t"], "invocable": true, "streaming": false}]',
      );
      catalog.stop();
    }),
  );

  test(
    `${name}: catalog and registry documents are byte for byte what OpenAgentMesh writes; delete leaves a DEL marker`,
    onBroker(async (broker) => {
      const bus = await broker.connect();
      const warnings: string[] = [];
      const catalog = await Catalog.open(bus, { onWarning: (m) => warnings.push(m) });
      await catalog.start();
      for (const entry of JSON.parse(CAPTURED_CATALOG)) await catalog.register(entry);
      assert.equal(await rawCatalog(bus), CAPTURED_CATALOG);

      const captured = JSON.parse(CAPTURED_REGISTRY);
      assert.equal(pythonJson(captured), CAPTURED_REGISTRY, "Python's json.dumps bytes");
      const registry = await Registry.open(bus);
      const instanceId = newInstanceId();
      const document = buildRegistryDocument({
        name: 'peer.count',
        description: captured.description,
        version: '1.0.0',
        tags: ['oam-peer'],
        shape: 'streamer',
        inputSchema: captured.skills[0].inputSchema,
        chunkSchema: captured['x-agentmesh'].chunk_schema,
        node: 'node-1',
        instanceId,
        kind: 'function',
        registeredAt: new Date('2026-11-30T21:35:38.574Z'),
      });
      await registry.put(document);
      const stored = await (await bus.kv(BUCKET.registry)).get('peer.count');
      const automesh = `, "x-automesh": {"shape": "streamer", "node": "node-1", "instance_id": "${instanceId}", "kind": "function"}}}`;
      assert.equal(
        text(stored?.value ?? new Uint8Array()),
        CAPTURED_REGISTRY.replace('574868', '574000').replace(/\}\}$/, automesh),
      );

      const seen: KvEntry[] = [];
      const watch = await (await bus.kv(BUCKET.registry)).watch({ key: 'peer.count', initialValues: false });
      void (async () => {
        for await (const entry of watch) seen.push(entry);
      })();
      await registry.delete('peer.count');
      await waitFor(() => seen.some((entry) => entry.operation === 'DEL'), 'the delete marker');
      watch.stop();
      await rejectsWithMesh(registry.contract('peer.count'), 'not_found', /peer\.count/);
      catalog.stop();
      assert.deepEqual(warnings, []);
    }),
  );

  test(
    `${name}: contract() reads documents of OAM 0.2.0, OAM main and automesh; not_found for an unknown name`,
    onBroker(async (broker) => {
      const bus = await broker.connect();
      const raw = await bus.kv(BUCKET.registry, { history: 1 });
      const registry = await Registry.open(bus);
      await raw.put('peer.count', bytes(CAPTURED_REGISTRY));
      const main = await registry.contract('peer.count');
      assert.equal(main.shape, 'streamer');
      assert.deepEqual(main.inputSchema?.required, ['n']);
      assert.equal(main.outputSchema, null);
      assert.equal(main.chunkSchema?.title, 'CountChunk');
      assert.equal(main.subject, 'mesh.agent.peer.count');
      assert.equal(main.node, null);
      assert.deepEqual(main.tags, ['oam-peer']);

      // 0.2.0 (old to_registry_json): a channel key, a responder with both schemas.
      await raw.put(
        'demo.add',
        bytes(
          '{"name": "demo.add", "description": "Add two ints", "version": "0.1.0", "capabilities": {"streaming": false, "invocable": true}, "skills": [{"id": "demo.add", "name": "demo.add", "description": "Add two ints", "tags": [], "inputSchema": {"type": "object"}, "outputSchema": {"title": "AddOut"}}], "x-agentmesh": {"channel": null, "subject": "mesh.agent.demo.add", "tags": [], "registered_at": "2026-04-22T10:00:00+00:00"}}',
        ),
      );
      const old = await registry.contract('demo.add');
      assert.equal(old.shape, 'responder');
      assert.deepEqual(old.outputSchema, { title: 'AddOut' });
      await raw.put(
        'demo.tick',
        bytes('{"name": "demo.tick", "description": "t", "capabilities": {"streaming": true, "invocable": false}}'),
      );
      assert.equal((await registry.contract('demo.tick')).shape, 'publisher');
      assert.equal((await registry.contract('demo.tick')).version, '0.1.0');

      await registry.put(agentDocument('auto.calc', { shape: 'trigger', inputSchema: null }));
      const ours = await registry.contract('auto.calc');
      assert.equal(ours.shape, 'trigger');
      assert.equal(ours.node, 'node-test');
      assert.equal(ours.inputSchema, null);

      await raw.put('broken.one', bytes('[1, 2]'));
      await rejectsWithMesh(registry.contract('broken.one'), 'invalid_definition', /broken\.one/);
      await rejectsWithMesh(registry.contract('nobody.here'), 'not_found', /nobody\.here/);
    }),
  );

  test(
    `${name}: discover() gives the contracts of the catalog's agents passing the filter, leaving out one with no contract`,
    onBroker(async (broker) => {
      const host = await startHost(broker, [
        agentDocument('nlp.summarize', { tags: ['text', 'llm'] }),
        agentDocument('nlp.count', { shape: 'streamer', outputSchema: null, chunkSchema: { type: 'object' } }),
        agentDocument('math.add'),
      ]);
      const contracts = await discover(host.catalog, host.registry, { channel: 'nlp' });
      assert.deepEqual(
        contracts.map((c) => [c.name, c.shape]),
        [
          ['nlp.summarize', 'responder'],
          ['nlp.count', 'streamer'],
        ],
      );
      assert.deepEqual(
        (await discover(host.catalog, host.registry, { tags: ['llm'] })).map((c) => c.name),
        ['nlp.summarize'],
      );
      assert.deepEqual(
        (await discover(host.catalog, host.registry, { streaming: true })).map((c) => c.name),
        ['nlp.count'],
      );
      await host.registry.delete('math.add'); // listed, but its contract is gone
      assert.deepEqual(
        (await discover(host.catalog, host.registry)).map((c) => c.name),
        ['nlp.summarize', 'nlp.count'],
      );
      await host.host.stop();
      host.catalog.stop();
    }),
  );

  test(
    `${name}: a function agent served elsewhere with other schemas is refused with both schemas; a replica with the same schemas is not`,
    onBroker(async (broker) => {
      const first = await startHost(broker, [agentDocument('math.add')]);
      const replica = await startHost(broker, [agentDocument('math.add')]);
      const changed = agentDocument('math.add', {
        inputSchema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
      });
      const err = await rejectsWithMesh(
        startHost(broker, [agentDocument('math.extra'), changed]),
        'invalid_definition',
        /math\.add/,
      );
      assert.match(err.message, /"type":"integer"/);
      assert.match(err.message, /"type":"string"/);
      assert.equal(typeOfA(await first.registry.contract('math.add')), 'integer', 'not overwritten');
      await waitFor(() => first.catalog.lookup('math.extra') === undefined, 'the refused host to take math.extra off');
      await replica.host.stop();
      await first.host.stop();
      // Nobody serves it any more: a new definition replaces the leftover.
      const next = await startHost(broker, [changed]);
      assert.equal(typeOfA(await next.registry.contract('math.add')), 'string');
      await next.host.stop();
      for (const h of [first, replica, next]) h.catalog.stop();
    }),
  );

  test(
    `${name}: mesh.kv stores strings as-is, JSON for objects, bytes raw; create, update under contention, watch, list, delete`,
    onBroker(async (broker) => {
      const kvs = await Promise.all([0, 1, 2].map(async () => SharedKv.open(await broker.connect())));
      const [kv, other] = kvs as [SharedKv, SharedKv, SharedKv];
      const raw = await (await broker.connect()).kv(BUCKET.context);
      const revision = await kv.put('greeting', 'héllo');
      assert.ok(revision > 0);
      assert.equal(
        text((await raw.get('greeting'))?.value ?? new Uint8Array()),
        'héllo',
        'UTF-8 as-is, no JSON quotes',
      );
      assert.equal(await other.get('greeting'), 'héllo');
      await kv.put('plan', { steps: [1, 2] });
      assert.equal(text((await raw.get('plan'))?.value ?? new Uint8Array()), '{"steps":[1,2]}');
      assert.deepEqual(await other.getJson('plan'), { steps: [1, 2] });
      await kv.put('blob', new Uint8Array([0, 255, 1]));
      assert.deepEqual([...((await other.getBytes('blob')) ?? [])], [0, 255, 1]);
      await rejectsWithMesh(other.get('blob'), 'invalid_input', /getBytes/);
      assert.equal(await kv.get('missing'), null);

      await kv.create('once', 'first');
      await rejectsWithMesh(other.create('once', 'second'), 'kv_key_exists', /once/);
      assert.equal(await kv.get('once'), 'first');

      await Promise.all(
        kvs.map(async (each) => {
          for (let i = 0; i < 10; i++) await each.update('counter', (v) => String(Number(v ?? '0') + 1));
        }),
      );
      assert.equal(await kv.get('counter'), '30', 'no increment lost');

      const watch = await other.watch('counter');
      const seen: string[] = [];
      void (async () => {
        for await (const change of watch) seen.push(change.deleted ? '<deleted>' : change.text());
      })();
      await waitFor(() => seen.length === 1, 'the current value');
      await kv.put('counter', '31');
      await kv.delete('counter');
      await waitFor(() => seen.length === 3, 'the put and the delete');
      assert.deepEqual(seen, ['30', '31', '<deleted>']);
      watch.stop();
      assert.equal(await kv.get('counter'), null);

      await kv.put('team/a', '1');
      await kv.put('team/b', '2');
      assert.deepEqual(await other.list('team/'), ['team/a', 'team/b']);
      assert.ok((await other.list()).includes('greeting'));
      await rejectsWithMesh(kv.put('bad key', 'x'), 'invalid_input', /not a mesh\.kv key/);
    }),
  );

  test(
    `${name}: mesh.workspace puts, gets, lists and deletes objects in mesh-artifacts`,
    onBroker(async (broker) => {
      const workspace = await Workspace.open(await broker.connect());
      const reader = await Workspace.open(await broker.connect());
      const big = new Uint8Array(300 * 1024).map((_, i) => i % 251);
      await workspace.put('report.md', '# Report\n');
      await workspace.put('data/big.bin', big);
      assert.equal(text((await reader.get('report.md')) ?? new Uint8Array()), '# Report\n');
      assert.ok(Buffer.from((await reader.get('data/big.bin')) ?? []).equals(big), 'the 300 KiB object, in chunks');
      assert.deepEqual(
        (await reader.list()).map((o) => [o.name, o.size]),
        [
          ['data/big.bin', big.length],
          ['report.md', 9],
        ],
      );
      assert.equal(await reader.delete('report.md'), true);
      assert.equal(await reader.delete('report.md'), false);
      assert.equal(await workspace.get('report.md'), null);
    }),
  );

  test(
    `${name}: graceful stop with two replicas: the entry stays until the last one leaves, then a death notice`,
    onBroker(async (broker) => {
      const a = await startHost(broker, [agentDocument('svc.echo'), agentDocument('svc.only-a')]);
      const b = await startHost(broker, [agentDocument('svc.echo')]);
      const watcher = await broker.connect();
      const notices: Array<{ subject: string; headers: Record<string, string>; body: string }> = [];
      watcher.subscribe('mesh.death.>', (m) =>
        notices.push({ subject: m.subject, headers: m.headers, body: text(m.data) }),
      );
      await watcher.flush();
      const instances = await watcher.kv(BUCKET.instances);
      assert.equal(
        text((await instances.get(a.host.instanceId))?.value ?? new Uint8Array()),
        '{"agents": ["svc.echo", "svc.only-a"]}',
      );

      assert.deepEqual(await a.host.stop(), ['svc.only-a']);
      assert.equal(await instances.get(a.host.instanceId), null);
      await waitFor(() => b.catalog.lookup('svc.only-a') === undefined, 'svc.only-a to leave');
      assert.ok(b.catalog.lookup('svc.echo'), 'svc.echo stays while b serves it');
      assert.ok(await b.registry.contract('svc.echo'));
      await waitFor(() => notices.length === 1, 'the death notice of svc.only-a');

      assert.deepEqual(await b.host.stop(), ['svc.echo']);
      await waitFor(() => notices.length === 2, 'the death notice of svc.echo');
      assert.equal(await rawCatalog(watcher), '[]', 'the catalog goes back to [], never deleted');
      await rejectsWithMesh(a.registry.contract('svc.echo'), 'not_found');
      const last = notices[1];
      assert.equal(last?.subject, subjects.death('svc.echo'));
      assert.deepEqual(last?.headers ?? {}, {}, 'death notices carry no headers');
      const body = JSON.parse(last?.body ?? '{}') as DeathNotice;
      assert.deepEqual(Object.keys(body), ['agent', 'reason', 'detected_at', 'instance_id']);
      assert.equal(body.agent, 'svc.echo');
      assert.equal(body.reason, 'graceful_shutdown');
      assert.equal(body.instance_id, b.host.instanceId);
      assert.match(body.detected_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
      for (const h of [a, b]) h.catalog.stop();
    }),
  );

  test(
    `${name}: a host that stops heartbeating leaves the catalog within seconds, with a disconnect death notice; replicas keep it`,
    onBroker(async (broker) => {
      const timing = { heartbeatMs: 100, deadAfterMs: 500 };
      const survivor = await startHost(broker, [agentDocument('live.keep')], timing);
      const victim = await startHost(broker, [agentDocument('live.gone'), agentDocument('live.keep')], timing);
      const watcher = await broker.connect();
      const notices: DeathNotice[] = [];
      watcher.subscribe('mesh.death.>', (m) => notices.push(JSON.parse(text(m.data)) as DeathNotice));
      await watcher.flush();
      await waitFor(() => survivor.catalog.lookup('live.gone') !== undefined, 'live.gone to be listed');

      const killedAt = performance.now();
      victim.host.halt();
      await waitFor(() => notices.length === 1, 'the death notice', 5_000);
      const noticedAfter = performance.now() - killedAt;
      assert.ok(noticedAfter < 2_000, `noticed after ${noticedAfter.toFixed(0)} ms`);
      assert.deepEqual(
        { agent: notices[0]?.agent, reason: notices[0]?.reason, instance: notices[0]?.instance_id },
        { agent: 'live.gone', reason: 'disconnect', instance: victim.host.instanceId },
      );
      await waitFor(() => survivor.catalog.lookup('live.gone') === undefined, 'live.gone to leave the catalog');
      assert.ok(survivor.catalog.lookup('live.keep'), 'an agent another host still serves stays');
      assert.equal(await (await watcher.kv(BUCKET.instances)).get(victim.host.instanceId), null);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(notices.length, 1, 'one sweeper, one notice');
      await survivor.host.stop();
      for (const h of [survivor, victim]) h.catalog.stop();
    }),
  );
}
