// Function agents without a bus: the shape inferred from handler and spec as OpenAgentMesh infers it, the catalog
// entry and registry document exactly as OAM writes them, names and specs refused at definition, and validation
// errors in pydantic's shape (the captured `invalid_input` of oam-wire.md §6).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { mismatchReason } from '../src/transport/oam/capability-check.js';
import { defineFunctionAgent } from '../src/transport/oam/function-agent.js';
import { isMeshError, type MeshError } from '../src/transport/oam/mesh-error.js';
import { addXEnvelope } from './transport/oam-captures.js';

const AddIn = z.object({ a: z.int(), b: z.int() });
const AddOut = z.object({ sum: z.int() });
const CountIn = z.object({ n: z.int(), delay_ms: z.int().default(0), fail_at: z.int().nullable().default(null) });
const CountChunk = z.object({ i: z.int() });
const registration = { registeredAt: new Date('2026-11-30T21:35:38.574Z'), node: 'node-1', instanceId: 'a'.repeat(32) };

const responder = defineFunctionAgent(
  { name: 'peer.add', description: 'Add two ints', input: AddIn, output: AddOut },
  async ({ a, b }) => ({ sum: a + b }),
);
const streamer = defineFunctionAgent(
  {
    name: 'peer.count',
    description: 'Streams {i}',
    version: '1.0.0',
    tags: ['oam-peer'],
    input: CountIn,
    output: CountChunk,
  },
  async function* ({ n }) {
    for (let i = 0; i < n; i++) yield { i };
  },
);
const trigger = defineFunctionAgent(
  { name: 'ops.refresh-cache', description: 'Rebuilds the cache', output: z.object({ keys_refreshed: z.int() }) },
  async () => ({ keys_refreshed: 3 }),
);
const publisher = defineFunctionAgent(
  {
    name: 'finance.price-feed',
    description: 'Emits prices',
    output: z.object({ symbol: z.string(), price: z.number() }),
  },
  async function* () {
    yield { symbol: 'AAPL', price: 1 };
  },
);
const watcher = defineFunctionAgent({ name: 'pipeline.extract', description: 'Watches raw documents' }, async () => {});

test('the shape comes from the handler (async function or async function*) and the spec (input, output), as OAM infers it', () => {
  const seen = [responder, streamer, trigger, publisher, watcher].map((a) => [a.shape, a.invocable, a.streaming]);
  assert.deepEqual(seen, [
    ['responder', true, false],
    ['streamer', true, true],
    ['trigger', true, false],
    ['publisher', false, true],
    ['watcher', false, false],
  ]);
});

test('catalog entry: exactly name, description, version, tags, invocable, streaming in that order; version defaults to 0.1.0', () => {
  assert.equal(
    JSON.stringify(responder.catalogEntry()),
    '{"name":"peer.add","description":"Add two ints","version":"0.1.0","tags":[],"invocable":true,"streaming":false}',
  );
  assert.equal(
    JSON.stringify(publisher.catalogEntry()),
    '{"name":"finance.price-feed","description":"Emits prices","version":"0.1.0","tags":[],"invocable":false,"streaming":true}',
  );
});

test("registry document of a streamer: OAM's captured peer.count document, key for key and in order", () => {
  const doc = streamer.registryDocument(registration);
  assert.deepEqual(Object.keys(doc), ['name', 'description', 'version', 'capabilities', 'skills', 'x-agentmesh']);
  assert.deepEqual(doc.capabilities, { streaming: true, invocable: true });
  assert.equal(JSON.stringify(doc.capabilities), '{"streaming":true,"invocable":true}');
  assert.deepEqual(Object.keys(doc.skills[0] ?? {}), ['id', 'name', 'description', 'tags', 'inputSchema']);
  assert.deepEqual(doc.skills[0]?.tags, ['oam-peer']);
  const input = doc.skills[0]?.inputSchema as { properties: Record<string, unknown>; required: string[]; type: string };
  assert.equal(input.type, 'object');
  assert.deepEqual(input.required, ['n'], 'fields with defaults are optional in the input schema, as in pydantic');
  assert.equal((input.properties.n as { type: string }).type, 'integer');
  assert.equal('$schema' in input, false, 'no $schema line: pydantic writes none');
  const ext = doc['x-agentmesh'];
  assert.deepEqual(Object.keys(ext), ['subject', 'tags', 'registered_at', 'chunk_schema', 'x-automesh']);
  assert.equal(ext.subject, 'mesh.agent.peer.count');
  assert.equal(ext.registered_at, '2026-11-30T21:35:38.574000+00:00');
  assert.deepEqual((ext.chunk_schema as { required: string[] }).required, ['i']);
  assert.deepEqual(ext['x-automesh'], {
    shape: 'streamer',
    node: 'node-1',
    instance_id: 'a'.repeat(32),
    kind: 'function',
  });
});

test('registry documents per shape: outputSchema for responders and triggers, chunk_schema for streamers and publishers, neither for watchers', () => {
  const schemas = (agent: typeof responder) => {
    const doc = agent.registryDocument(registration);
    return [
      'inputSchema' in (doc.skills[0] ?? {}),
      'outputSchema' in (doc.skills[0] ?? {}),
      'chunk_schema' in doc['x-agentmesh'],
      doc.capabilities.invocable,
      doc.capabilities.streaming,
    ];
  };
  assert.deepEqual(schemas(responder), [true, true, false, true, false]);
  assert.deepEqual(schemas(streamer), [true, false, true, true, true]);
  assert.deepEqual(schemas(trigger), [false, true, false, true, false]);
  assert.deepEqual(schemas(publisher), [false, false, true, false, true]);
  assert.deepEqual(schemas(watcher), [false, false, false, false, false]);
});

function definitionError(define: () => unknown): MeshError {
  try {
    define();
  } catch (err) {
    assert.ok(isMeshError(err, 'invalid_definition'), `expected invalid_definition, got ${String(err)}`);
    return err;
  }
  assert.fail('the definition was accepted');
}

test('a name that is not a subject token, a missing description, a non-zod schema or a sync generator is refused at definition', () => {
  for (const name of ['', 'has space', 'a..b', '.lead', 'wild.*', 'gt.>', 'ünï']) {
    const err = definitionError(() => defineFunctionAgent({ name, description: 'x' }, async () => {}));
    assert.match(err.message, /Cannot define the agent: .*Use dotted segments/);
  }
  assert.match(
    definitionError(() => defineFunctionAgent({ name: 'a.b', description: ' ' }, async () => {})).message,
    /needs a description/,
  );
  assert.match(
    definitionError(() =>
      defineFunctionAgent(
        { name: 'a.b', description: 'd', input: { type: 'object' } as unknown as z.ZodType },
        async () => ({}),
      ),
    ).message,
    /input must be a zod schema/,
  );
  assert.match(
    definitionError(() =>
      defineFunctionAgent({ name: 'a.b', description: 'd', input: z.object({ when: z.date() }) }, async () => ({})),
    ).message,
    /input schema cannot be written as JSON Schema/,
  );
  assert.match(
    definitionError(() =>
      defineFunctionAgent({ name: 'a.b', description: 'd' }, function* () {
        yield 1;
      } as never),
    ).message,
    /synchronous generator; declare it `async function\*`/,
  );
});

async function inputError(input: unknown): Promise<MeshError> {
  try {
    await responder.parseInput(input, 'c8207a12');
  } catch (err) {
    assert.ok(isMeshError(err, 'invalid_input'));
    return err;
  }
  assert.fail('the input was accepted');
}

test("invalid input: the envelope OAM main captured for peer.add with {a: 'x'}, errors in pydantic's shape", async () => {
  const err = await inputError({ a: 'x' });
  assert.deepEqual(err.toEnvelope(), addXEnvelope('c8207a12'));
});

test('more zod issues in pydantic terms: bounds, literals, extra keys, patterns, nested paths, no body', async () => {
  const agent = defineFunctionAgent(
    {
      name: 'v.all',
      description: 'validation',
      input: z
        .object({
          s: z.string().min(3).regex(/^x/),
          n: z.number().max(5),
          e: z.enum(['p', 'q']),
          list: z.array(z.string()).min(2),
          nested: z.object({ flag: z.boolean() }),
        })
        .strict(),
    },
    async () => ({}),
  );
  const errors = async (input: unknown) => {
    try {
      await agent.parseInput(input, 'r');
    } catch (err) {
      return (
        (err as MeshError).details.errors as Array<{ type: string; loc: unknown[]; msg: string; input: unknown }>
      ).map((e) => [e.type, e.loc, e.msg, e.input]);
    }
    assert.fail('accepted');
  };
  assert.deepEqual(await errors({ s: 'ab', n: 9, e: 'z', list: ['a'], nested: { flag: 'yes' }, extra: 1 }), [
    ['string_too_short', ['s'], 'String should have at least 3 characters', 'ab'],
    ['string_pattern_mismatch', ['s'], "String should match pattern '^x'", 'ab'],
    ['less_than_equal', ['n'], 'Input should be less than or equal to 5', 9],
    ['literal_error', ['e'], "Input should be 'p' or 'q'", 'z'],
    ['too_short', ['list'], 'List should have at least 2 items after validation, not 1', ['a']],
    ['bool_parsing', ['nested', 'flag'], 'Input should be a valid boolean, unable to interpret input', 'yes'],
    ['extra_forbidden', ['extra'], 'Extra inputs are not permitted', 1],
  ]);
  assert.deepEqual(await errors([1]), [['dict_type', [], 'Input should be a valid dictionary', [1]]]);
  const noBody = await inputError(undefined);
  assert.match(noBody.message, /no body: send the input as JSON, `\{\}`/);
  assert.deepEqual(noBody.details.errors, [{ type: 'missing', loc: [], msg: 'Field required', input: null }]);
});

test('output checked by the output schema: invalid_output names the agent and lists the issues', async () => {
  await assert.rejects(responder.parseOutput({ sum: 'five' }, 'r1'), (err: unknown) => {
    assert.ok(isMeshError(err, 'invalid_output'));
    assert.match(err.message, /Agent 'peer.add' produced output that fails its output schema/);
    assert.deepEqual(err.details.errors, [
      {
        type: 'int_parsing',
        loc: ['sum'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'five',
      },
    ]);
    return true;
  });
  assert.deepEqual(await responder.parseOutput({ sum: 5 }, 'r1'), { sum: 5 });
});

test('a schema with an async refinement is still checked (asynchronously), input and output, every time', async () => {
  let checks = 0;
  const positive = z.number().refine(async (n) => {
    checks += 1;
    await new Promise((resolve) => setImmediate(resolve));
    return n > 0;
  });
  const agent = defineFunctionAgent(
    { name: 'async.check', description: 'x', input: z.object({ n: positive }), output: z.object({ n: positive }) },
    async ({ n }) => ({ n }),
  );
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(await agent.parseInput({ n: 2 }, 'r'), { n: 2 });
    await assert.rejects(agent.parseInput({ n: -1 }, 'r'), (err: unknown) => isMeshError(err, 'invalid_input'));
    assert.deepEqual(await agent.parseOutput({ n: 3 }, 'r'), { n: 3 });
    await assert.rejects(agent.parseOutput({ n: 0 }, 'r'), (err: unknown) => isMeshError(err, 'invalid_output'));
  }
  assert.ok(checks >= 8);
});

test("OAM main's capability table: which verb fits which flags", () => {
  const flags = {
    responder: { invocable: true, streaming: false },
    streamer: { invocable: true, streaming: true },
    publisher: { invocable: false, streaming: true },
    watcher: { invocable: false, streaming: false },
  };
  const table = (['call', 'stream', 'send', 'subscribe'] as const).map((verb) =>
    Object.values(flags).map((f) => (mismatchReason(verb, f) === null ? 'ok' : 'x')),
  );
  assert.deepEqual(table, [
    ['ok', 'x', 'x', 'x'],
    ['x', 'ok', 'x', 'x'],
    ['ok', 'ok', 'x', 'x'],
    ['x', 'x', 'ok', 'x'],
  ]);
});
