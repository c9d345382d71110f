/**
 * The invocation suite: function agents served and called on a bus, run by each bus's test file (in-process, NATS)
 * with a harness that connects to one broker. Every shape and verb, the verb/shape mismatches (refused before
 * sending, and by the provider), validation, handler failures and hangs, streaming errors mid-way, send's managed
 * reply, publish/subscribe, payload limits, death notices, cancellation and draining.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Bus, BusMessage } from '../../src/transport/bus.js';
import { Caller, type CallerOptions } from '../../src/transport/oam/caller.js';
import type { CatalogEntry } from '../../src/transport/oam/contract-types.js';
import { defineFunctionAgent, type FunctionAgent } from '../../src/transport/oam/function-agent.js';
import { isMeshError, type MeshError } from '../../src/transport/oam/mesh-error.js';
import { type ServedAgent, type ServeOptions, serveAgent } from '../../src/transport/oam/provider.js';
import { ADD_X_ERRORS } from './oam-captures.js';

/** How the suite reaches a broker. */
export interface InvocationHarness {
  /** A new connection; every connection made here reaches the same broker. */
  connect(): Promise<Bus>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const text = (data: Uint8Array): string => decoder.decode(data);
export const bytes = (value: string): Uint8Array => encoder.encode(value);

/** A channel no other test uses, so tests on one broker never see each other's messages. */
export const unique = (): string => `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;

export async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every message on `subject` from the moment this resolves (the subscription has reached the broker). */
export async function collect(bus: Bus, subject: string): Promise<BusMessage[]> {
  const got: BusMessage[] = [];
  bus.subscribe(subject, (message) => got.push(message));
  await bus.flush();
  return got;
}

export async function meshError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<MeshError> {
  let caught: unknown;
  await promise.then(
    (value) => assert.fail(`expected a ${code} MeshError, got ${JSON.stringify(value)}`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(isMeshError(caught), `expected a MeshError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

async function drainStream(iterable: AsyncIterable<unknown>, into: unknown[] = []): Promise<unknown[]> {
  for await (const chunk of iterable) into.push(chunk);
  return into;
}

/** OAM's peer.add: `{a: int, b: int}` → `{sum: int}`. */
const addSpec = (name: string) => ({
  name,
  description: 'Add two ints',
  input: z.object({ a: z.int(), b: z.int() }),
  output: z.object({ sum: z.int() }),
});

const entry = (name: string, invocable: boolean, streaming: boolean): CatalogEntry => ({
  name,
  description: 'test',
  version: '0.1.0',
  tags: [],
  invocable,
  streaming,
});

export function invocationSuite(label: string, harness: InvocationHarness): void {
  describe(`invocation on the ${label}`, () => {
    const buses: Bus[] = [];
    const served: ServedAgent[] = [];
    afterEach(async () => {
      await Promise.all(served.splice(0).map((agent) => agent.stop()));
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    });

    /** A provider connection and a caller connection, as two processes would have. */
    async function mesh(callerOptions: CallerOptions = {}) {
      const providerBus = await harness.connect();
      const callerBus = await harness.connect();
      buses.push(providerBus, callerBus);
      const channel = unique();
      return {
        channel,
        providerBus,
        callerBus,
        caller: new Caller(callerBus, callerOptions),
        /** Serves `agent` and waits until requests can reach it. */
        async serve(agent: FunctionAgent, options: ServeOptions = {}): Promise<ServedAgent> {
          const handle = serveAgent(providerBus, agent, options);
          served.push(handle);
          await handle.ready;
          return handle;
        },
      };
    }

    test('call: the result; an input of {} arrives as {} (never an empty body), no result answers {}', async () => {
      const m = await mesh();
      const seen: unknown[] = [];
      await m.serve(defineFunctionAgent(addSpec(`${m.channel}.add`), async ({ a, b }) => ({ sum: a + b })));
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.note`, description: 'notes', input: z.looseObject({}) },
          async (input) => {
            seen.push(input);
          },
        ),
      );
      assert.deepEqual(await m.caller.call(`${m.channel}.add`, { a: 2, b: 3 }), { sum: 5 });
      assert.deepEqual(await m.caller.call(`${m.channel}.note`, {}), {});
      assert.deepEqual(seen, [{}]);
    });

    test('a trigger is called with no input and answers its output', async () => {
      const m = await mesh();
      let runs = 0;
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.refresh`, description: 'refreshes', output: z.object({ keys_refreshed: z.int() }) },
          async () => ({ keys_refreshed: ++runs }),
        ),
      );
      assert.deepEqual(await m.caller.call(`${m.channel}.refresh`), { keys_refreshed: 1 });
    });

    test('requests run concurrently: a slow request never holds up the others', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.slow`, description: 'slow', input: z.object({ ms: z.int() }) },
          async ({ ms }) => {
            await sleep(ms);
            return { ms };
          },
        ),
      );
      const started = Date.now();
      const fast = m.caller.call(`${m.channel}.slow`, { ms: 1 }).then(() => Date.now() - started);
      const results = await Promise.all([
        m.caller.call(`${m.channel}.slow`, { ms: 400 }),
        m.caller.call(`${m.channel}.slow`, { ms: 400 }),
        m.caller.call(`${m.channel}.slow`, { ms: 400 }),
      ]);
      const elapsed = Date.now() - started;
      assert.equal(results.length, 3);
      assert.ok(elapsed < 1_000, `three 400 ms requests took ${elapsed} ms: they ran one after another`);
      assert.ok((await fast) < 350, 'the fast request was answered before the slow ones finished');
    });

    test('stream: the chunks in order, then the end', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          {
            name: `${m.channel}.count`,
            description: 'counts',
            input: z.object({ n: z.int() }),
            output: z.object({ i: z.int() }),
          },
          async function* ({ n }) {
            for (let i = 0; i < n; i++) yield { i };
          },
        ),
      );
      assert.deepEqual(await drainStream(m.caller.stream(`${m.channel}.count`, { n: 4 })), [
        { i: 0 },
        { i: 1 },
        { i: 2 },
        { i: 3 },
      ]);
      assert.deepEqual(await drainStream(m.caller.stream(`${m.channel}.count`, { n: 0 })), []);
    });

    test('an error mid-stream: the chunks before it arrive, then the MeshError with the remote code and message', async () => {
      const m = await mesh();
      const errors = await collect(m.callerBus, `mesh.errors.${m.channel}.count`);
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.count`, description: 'counts', input: z.object({ n: z.int(), fail_at: z.int() }) },
          async function* ({ n, fail_at }) {
            for (let i = 0; i < n; i++) {
              if (i === fail_at) throw new Error(`count failed at ${i}`);
              yield { i };
            }
          },
        ),
      );
      const got: unknown[] = [];
      const err = await meshError(
        drainStream(m.caller.stream(`${m.channel}.count`, { n: 3, fail_at: 1 }), got),
        'handler_error',
        /^count failed at 1$/,
      );
      assert.deepEqual(got, [{ i: 0 }]);
      assert.equal(err.agent, `${m.channel}.count`);
      await waitFor(() => errors.length === 1, 'the copy on mesh.errors');
      assert.equal(JSON.parse(text(errors[0]?.data ?? bytes('{}'))).code, 'handler_error');
    });

    // Served synchronously while every step is (provider.ts): the same answers as the async path, each once.
    test('plain handlers: the result, a throw is handler_error, a bad result invalid_output, a thenable awaited, an async schema awaited', async () => {
      const m = await mesh();
      let calls = 0;
      const served = await m.serve(
        defineFunctionAgent(addSpec(`${m.channel}.add`), ({ a, b }) => {
          calls += 1;
          if (a < 0) throw new Error('negative');
          return { sum: b === 99 ? 'not an int' : a + b } as { sum: number };
        }),
      );
      await m.serve(
        defineFunctionAgent(
          addSpec(`${m.channel}.later`),
          ({ a, b }) =>
            // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, as a handler may return one.
            ({ then: (done: (value: unknown) => void) => done({ sum: a + b }) }) as unknown as { sum: number },
        ),
      );
      const slowCheck = z.object({ a: z.int(), b: z.int() }).refine(async (v) => {
        await sleep(5);
        return v.a !== 13;
      });
      await m.serve(
        defineFunctionAgent(
          { ...addSpec(`${m.channel}.checked`), input: slowCheck },
          ({ a, b }: { a: number; b: number }) => ({ sum: a + b }),
        ),
      );
      assert.deepEqual(await m.caller.call(`${m.channel}.add`, { a: 2, b: 3 }), { sum: 5 });
      await meshError(m.caller.call(`${m.channel}.add`, { a: -1, b: 3 }), 'handler_error', /^negative$/);
      await meshError(m.caller.call(`${m.channel}.add`, { a: 1, b: 99 }), 'invalid_output');
      await meshError(m.caller.call(`${m.channel}.add`, { a: 'x', b: 1 }), 'invalid_input');
      assert.equal(calls, 3, 'the handler ran once per valid request, never again after a failure');
      assert.deepEqual(await m.caller.call(`${m.channel}.later`, { a: 4, b: 5 }), { sum: 9 });
      assert.deepEqual(await m.caller.call(`${m.channel}.checked`, { a: 1, b: 1 }), { sum: 2 });
      await meshError(m.caller.call(`${m.channel}.checked`, { a: 13, b: 1 }), 'invalid_input');
      assert.equal(served.inFlight, 0);
    });

    test('a handler that throws: handler_error with its message, and the envelope copied to mesh.errors.{name}', async () => {
      const m = await mesh();
      const errors = await collect(m.callerBus, `mesh.errors.${m.channel}.fail`);
      await m.serve(
        defineFunctionAgent({ name: `${m.channel}.fail`, description: 'fails', input: z.object({}) }, async () => {
          throw new Error('kaput');
        }),
      );
      const err = await meshError(m.caller.call(`${m.channel}.fail`, {}), 'handler_error', /^kaput$/);
      await waitFor(() => errors.length === 1, 'the copy on mesh.errors');
      const copy = JSON.parse(text(errors[0]?.data ?? bytes('{}')));
      assert.deepEqual(copy, {
        code: 'handler_error',
        message: 'kaput',
        agent: `${m.channel}.fail`,
        request_id: err.requestId,
        details: {},
      });
      assert.match(err.requestId, /^[0-9a-f]{32}$/);
    });

    test('a handler that hangs: the caller times out with `timeout` after its timeoutMs', async () => {
      const m = await mesh();
      const hung = defineFunctionAgent(
        { name: `${m.channel}.hang`, description: 'hangs', input: z.object({}) },
        (_input, { signal }) => {
          return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
      );
      const handle = await m.serve(hung, { drainTimeoutMs: 50 });
      const started = Date.now();
      await meshError(m.caller.call(`${m.channel}.hang`, {}, { timeoutMs: 300 }), 'timeout', /within 300 ms/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 290 && elapsed < 2_000, `timed out after ${elapsed} ms`);
      assert.equal(handle.inFlight, 1, 'the hung handler is still running');
      await handle.stop();
      await waitFor(() => handle.inFlight === 0, 'the hung handler aborted by stop() after the drain time');
    });

    test('a handler that first reads ctx.signal after stop() aborted its request finds it aborted, with the reason', async () => {
      // The provider makes a request's AbortController only when it is needed: a late first read must still see
      // the abort that stop() made before it.
      const m = await mesh();
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      let seen: { aborted: boolean; reason: unknown } | undefined;
      const late = defineFunctionAgent(
        { name: `${m.channel}.late`, description: 'reads its signal late', input: z.object({}) },
        async (_input, ctx) => {
          await gate;
          seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
          return {};
        },
      );
      const handle = await m.serve(late, { drainTimeoutMs: 1 });
      const call = m.caller.call(`${m.channel}.late`, {}, { timeoutMs: 5_000 });
      await waitFor(() => handle.inFlight === 1, 'the request in its handler');
      const stopped = handle.stop();
      await sleep(200); // well past the 1 ms drain time: stop() has aborted the request by now
      open();
      await stopped;
      assert.equal(seen?.aborted, true);
      assert.ok(isMeshError(seen?.reason) && seen.reason.code === 'cancelled', `reason: ${String(seen?.reason)}`);
      assert.deepEqual(await call, {}, 'the handler still answered');
    });

    test('a result its own schema rejects is invalid_output; an input that fails is invalid_input with the issues', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(addSpec(`${m.channel}.add`), async ({ a, b }) => ({ sum: `${a}${b}` }) as never),
      );
      const bad = await meshError(m.caller.call(`${m.channel}.add`, { a: 2, b: 3 }), 'invalid_output');
      assert.deepEqual((bad.details.errors as Array<{ loc: unknown }>)[0]?.loc, ['sum']);
      const invalid = await meshError(
        m.caller.call(`${m.channel}.add`, { a: 'x' }),
        'invalid_input',
        new RegExp(`^Input failed validation for agent '${m.channel}.add'$`),
      );
      assert.deepEqual(invalid.details.errors, ADD_X_ERRORS);
    });

    test('a MeshError the handler throws keeps its code and details across the wire (unknown codes too)', async () => {
      const m = await mesh();
      const { MeshError } = await import('../../src/transport/oam/mesh-error.js');
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.picky`, description: 'picky', input: z.object({ code: z.string() }) },
          async ({ code }) => {
            throw new MeshError(code, 'custom rejection', { details: { why: 'too short' } });
          },
        ),
      );
      const err = await meshError(
        m.caller.call(`${m.channel}.picky`, { code: 'invalid_input' }),
        'invalid_input',
        /custom rejection/,
      );
      assert.deepEqual(err.details, { why: 'too short' });
      assert.equal(err.agent, `${m.channel}.picky`);
      await meshError(m.caller.call(`${m.channel}.picky`, { code: 'quota_exceeded' }), 'quota_exceeded');
    });

    test('nobody serves the name: not_found when the catalog does not list it, not_available when it does', async () => {
      const m = await mesh({ lookup: (name) => (name.endsWith('.listed') ? entry(name, true, false) : undefined) });
      const started = Date.now();
      await meshError(m.caller.call(`${m.channel}.missing`, {}), 'not_found', /No agent '.*\.missing' on the mesh/);
      await meshError(
        m.caller.call(`${m.channel}.listed`, {}),
        'not_available',
        /in the catalog but no process serves it/,
      );
      assert.ok(Date.now() - started < 2_000, 'fails fast, not after the timeout');
    });

    test("the verb/shape mismatches of OAM main's table are refused before sending anything", async () => {
      const shapes = {
        responder: [true, false],
        streamer: [true, true],
        publisher: [false, true],
        watcher: [false, false],
      } as const;
      const m = await mesh({
        lookup: (name) => {
          const shape = name.split('.').pop() as keyof typeof shapes;
          const flags = shapes[shape];
          return flags ? entry(name, flags[0], flags[1]) : undefined;
        },
      });
      const sent = await collect(m.providerBus, `mesh.agent.${m.channel}.>`);
      const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
        [
          'call streamer',
          () => m.caller.call(`${m.channel}.streamer`, {}),
          /is streaming-only. Use stream\(\) instead/,
        ],
        ['call publisher', () => m.caller.call(`${m.channel}.publisher`, {}), /is a publisher and cannot be called/],
        ['call watcher', () => m.caller.call(`${m.channel}.watcher`, {}), /is a background task and cannot be called/],
        [
          'stream responder',
          () => drainStream(m.caller.stream(`${m.channel}.responder`, {})),
          /does not support streaming. Use call\(\) instead/,
        ],
        [
          'stream publisher',
          () => drainStream(m.caller.stream(`${m.channel}.publisher`, {})),
          /is a publisher and cannot be streamed/,
        ],
        [
          'stream watcher',
          () => drainStream(m.caller.stream(`${m.channel}.watcher`, {})),
          /is a background task and cannot be streamed/,
        ],
        ['send publisher', () => m.caller.send(`${m.channel}.publisher`, {}), /is a publisher and cannot be sent to/],
        ['send watcher', () => m.caller.send(`${m.channel}.watcher`, {}), /is a background task and cannot be sent to/],
        [
          'subscribe responder',
          async () => m.caller.subscribe({ agent: `${m.channel}.responder` }),
          /does not publish events. Use call\(\) instead/,
        ],
        [
          'subscribe streamer',
          async () => m.caller.subscribe({ agent: `${m.channel}.streamer` }),
          /streams responses to requests/,
        ],
        [
          'subscribe watcher',
          async () => m.caller.subscribe({ agent: `${m.channel}.watcher` }),
          /is a background task and does not publish events/,
        ],
      ];
      for (const [what, run, message] of cases) {
        const err = await meshError(run(), 'invocation_mismatch', message);
        assert.match(err.message, /^Agent 't[0-9a-f]+\.\w+' /, what);
      }
      await sleep(100);
      assert.deepEqual(
        sent.map((s) => s.subject),
        [],
        'nothing was sent',
      );
    });

    test('the provider checks the stream flag too: a call to a streamer is answered invocation_mismatch, a stream to a responder gets an error frame', async () => {
      const m = await mesh(); // no catalog: nothing to pre-flight against
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.count`, description: 'counts', input: z.object({}) },
          async function* () {
            yield { i: 0 };
          },
        ),
      );
      await m.serve(
        defineFunctionAgent({ name: `${m.channel}.add`, description: 'adds', input: z.object({}) }, async () => ({
          sum: 1,
        })),
      );
      await meshError(
        m.caller.call(`${m.channel}.count`, {}),
        'invocation_mismatch',
        /is streaming-only. Use stream\(\) instead/,
      );
      await meshError(
        drainStream(m.caller.stream(`${m.channel}.add`, {})),
        'invocation_mismatch',
        /does not support streaming/,
      );
    });

    test('a stream request whose request id cannot name a stream subject is refused on mesh.errors, the handler not run', async () => {
      const m = await mesh();
      const errors = await collect(m.callerBus, `mesh.errors.${m.channel}.count`);
      let runs = 0;
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.count`, description: 'counts', input: z.object({}) },
          async function* () {
            runs += 1;
            yield { i: 0 };
          },
        ),
      );
      await sleep(20);
      for (const headers of [{ 'X-Mesh-Stream': 'true' }, { 'X-Mesh-Stream': 'true', 'X-Mesh-Request-Id': 'a.>' }]) {
        m.callerBus.publish(`mesh.agent.${m.channel}.count`, bytes('{}'), { headers });
      }
      await waitFor(() => errors.length === 2, 'two refusals');
      assert.match(
        JSON.parse(text(errors[1]?.data ?? bytes('{}'))).message,
        /needs an X-Mesh-Request-Id that is one subject token/,
      );
      assert.equal(runs, 0);
    });

    test('send: fire and forget still runs the handler; its failures go to mesh.errors.{name}', async () => {
      const m = await mesh();
      const errors = await collect(m.callerBus, `mesh.errors.${m.channel}.>`);
      const got: unknown[] = [];
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.audit`, description: 'audits', input: z.object({ event: z.string() }) },
          async ({ event }) => {
            if (event === 'bad') throw new Error('cannot audit');
            got.push(event);
          },
        ),
      );
      const id = await m.caller.send(`${m.channel}.audit`, { event: 'login' });
      assert.match(id, /^[0-9a-f]{32}$/);
      await m.caller.send(`${m.channel}.audit`, { event: 'bad' });
      await waitFor(() => got.length === 1 && errors.length === 1, 'the handler run and the error copy');
      assert.deepEqual(got, ['login']);
      assert.equal(JSON.parse(text(errors[0]?.data ?? bytes('{}'))).message, 'cannot audit');
    });

    test('send with onReply: every instant reply is heard (subscribed before publishing), once, with no timeout after it', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.echo`, description: 'echoes', input: z.object({ n: z.int() }) },
          ({ n }) => {
            if (n < 0) throw new Error('negative');
            return { n };
          },
        ),
      );
      const replies: unknown[] = [];
      const errors: MeshError[] = [];
      for (let n = 0; n < 20; n++) {
        await m.caller.send(
          `${m.channel}.echo`,
          { n },
          { onReply: (reply) => void replies.push(reply), onError: (e) => void errors.push(e), timeoutMs: 300 },
        );
      }
      await waitFor(() => replies.length === 20, '20 replies');
      await m.caller.send(
        `${m.channel}.echo`,
        { n: -1 },
        { onReply: (reply) => void replies.push(reply), onError: (e) => void errors.push(e) },
      );
      await waitFor(() => errors.length === 1, 'the error reply');
      assert.equal(errors[0]?.code, 'handler_error');
      await sleep(450); // past every reply window
      assert.equal(replies.length, 20);
      assert.equal(errors.length, 1, 'no timeout reported after a reply');
      assert.deepEqual(
        replies.map((r) => (r as { n: number }).n).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, n) => n),
      );
    });

    test('send with onReply to an agent that never answers: onError gets `timeout`', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.mute`, description: 'never answers', input: z.object({}) },
          () => new Promise(() => {}),
        ),
        {
          drainTimeoutMs: 10,
        },
      );
      const errors: MeshError[] = [];
      await m.caller.send(
        `${m.channel}.mute`,
        {},
        { onReply: () => assert.fail('no reply expected'), onError: (e) => void errors.push(e), timeoutMs: 150 },
      );
      await waitFor(() => errors.length === 1, 'the timeout');
      assert.equal(errors[0]?.code, 'timeout');
    });

    test('publisher: its events on mesh.agent.{name}.events from Seq 0; subscribe({ agent }) ends with the End frame its stop sends', async () => {
      const m = await mesh();
      const name = `${m.channel}.prices`;
      const events = m.caller.subscribe({ agent: name });
      const channel = m.caller.subscribe({ channel: m.channel }, { idleTimeoutMs: 2_000 });
      await Promise.all([events.ready, channel.ready]);
      let emitted = 0;
      const handle = await m.serve(
        defineFunctionAgent(
          { name, description: 'prices', output: z.object({ price: z.number() }) },
          async function* ({ signal }) {
            while (!signal.aborted) {
              yield { price: emitted++ };
              await sleep(20);
            }
          },
        ),
      );
      const got: unknown[] = [];
      for await (const event of events) {
        got.push(event);
        if (got.length === 3) void handle.stop();
      }
      assert.deepEqual(got.slice(0, 3), [{ price: 0 }, { price: 1 }, { price: 2 }]);
      const first = await channel.next();
      assert.deepEqual(first, { done: false, value: { price: 0 } }, 'a channel subscription sees the events too');
      channel.stop();
      assert.deepEqual(await channel.next(), { done: true, value: undefined });
    });

    test('publish as an agent (Seq per agent) and on a subject (content types), received by subscribe', async () => {
      const m = await mesh();
      const name = `${m.channel}.news`;
      const byAgent = m.caller.subscribe({ agent: name });
      await byAgent.ready;
      const frames = await collect(m.providerBus, `mesh.agent.${name}.events`);
      m.caller.publish(name, { headline: 'a' });
      m.caller.publish({ agent: name }, { headline: 'b' });
      assert.deepEqual((await byAgent.next()).value, { headline: 'a' });
      assert.deepEqual((await byAgent.next()).value, { headline: 'b' });
      await waitFor(() => frames.length === 2, 'two frames');
      assert.deepEqual(
        frames.map((f) => f.headers['X-Mesh-Stream-Seq']),
        ['0', '1'],
      );
      byAgent.stop();

      const subject = `${m.channel}.raw`;
      const bySubject = m.caller.subscribe({ subject });
      await bySubject.ready;
      m.caller.publish({ subject }, { json: true });
      m.caller.publish({ subject }, 'plain text');
      m.caller.publish({ subject }, new Uint8Array([1, 2, 3]));
      assert.deepEqual((await bySubject.next()).value, { json: true });
      assert.equal((await bySubject.next()).value, 'plain text');
      assert.deepEqual((await bySubject.next()).value, new Uint8Array([1, 2, 3]));
      bySubject.stop();
      assert.throws(() => m.caller.publish({ subject: `${m.channel}.*` }, {}), /wildcards only subscribe/);
    });

    test('watcher: started when served, subscribes to what it watches through its context, ends when stopped', async () => {
      const m = await mesh();
      const watched = `${m.channel}.raw-docs`;
      const seen: unknown[] = [];
      let ended = false;
      const handle = await m.serve(
        defineFunctionAgent({ name: `${m.channel}.extract`, description: 'extracts' }, async (context) => {
          for await (const doc of context.subscribe({ subject: watched })) seen.push(doc);
          ended = true;
        }),
      );
      assert.equal(handle.inFlight, 1);
      await sleep(50);
      m.caller.publish({ subject: watched }, { id: 1 });
      await waitFor(() => seen.length === 1, 'the watcher to see the document');
      await handle.stop();
      assert.ok(ended, 'the subscription ended with the stop');
      assert.equal(handle.inFlight, 0);
    });

    test('a result over the server max_payload is a payload_too_large error reply, not a silent drop', async () => {
      const m = await mesh();
      const size = m.providerBus.maxPayload + 1024;
      await m.serve(
        defineFunctionAgent({ name: `${m.channel}.big`, description: 'big', input: z.object({}) }, async () => ({
          blob: 'x'.repeat(size),
        })),
      );
      const err = await meshError(
        m.caller.call(`${m.channel}.big`, {}, { timeoutMs: 5_000 }),
        'payload_too_large',
        /over the server's max_payload/,
      );
      assert.equal(err.details.max_payload, m.providerBus.maxPayload);
    });

    test('agent_died: a death notice for the agent fails the call and the stream in flight at once, with the notice as details', async () => {
      const m = await mesh();
      const name = `${m.channel}.dies`;
      await m.serve(
        defineFunctionAgent({ name, description: 'never answers', input: z.object({}) }, () => new Promise(() => {})),
        { drainTimeoutMs: 10 },
      );
      await m.serve(
        defineFunctionAgent(
          { name: `${name}s`, description: 'never streams', input: z.object({}) },
          async function* () {
            await new Promise(() => {});
            yield 1;
          },
        ),
        { drainTimeoutMs: 10 },
      );
      const notice = {
        agent: name,
        reason: 'disconnect',
        detected_at: '2026-11-30T21:35:42.630487+00:00',
        instance_id: 'b'.repeat(32),
      };
      const started = Date.now();
      const call = m.caller.call(name, {}, { timeoutMs: 10_000 });
      const stream = drainStream(m.caller.stream(`${name}s`, {}, { totalTimeoutMs: 10_000 }));
      await sleep(100);
      m.providerBus.publish(`mesh.death.${name}`, bytes(JSON.stringify(notice)));
      m.providerBus.publish(`mesh.death.${name}s`, bytes(JSON.stringify({ ...notice, agent: `${name}s` })));
      const err = await meshError(call, 'agent_died', /died while handling the request \(disconnect\)/);
      assert.deepEqual(err.details, notice);
      await meshError(stream, 'agent_died');
      assert.ok(Date.now() - started < 2_000, 'not after the timeout');
    });

    test('an aborted signal cancels a call and a stream with `cancelled`', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.slow`, description: 'slow', input: z.object({}) },
          (_input, { signal }) => delay(2_000, {}, { signal }),
        ),
        {
          drainTimeoutMs: 10,
        },
      );
      const controller = new AbortController();
      const call = m.caller.call(`${m.channel}.slow`, {}, { signal: controller.signal });
      const stream = drainStream(m.caller.stream(`${m.channel}.never`, {}, { signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      await meshError(call, 'cancelled');
      await meshError(stream, 'cancelled');
    });

    test('a stream with no frame for idleTimeoutMs, or not done in totalTimeoutMs, fails with `timeout`', async () => {
      const m = await mesh();
      await m.serve(
        defineFunctionAgent(
          { name: `${m.channel}.trickle`, description: 'slow chunks', input: z.object({ gap: z.int() }) },
          async function* ({ gap }, { signal }) {
            for (let i = 0; i < 5; i++) {
              yield { i };
              await delay(gap, undefined, { signal });
            }
          },
        ),
        { drainTimeoutMs: 10 },
      );
      const got: unknown[] = [];
      await meshError(
        drainStream(m.caller.stream(`${m.channel}.trickle`, { gap: 400 }, { idleTimeoutMs: 150 }), got),
        'timeout',
        /no frame .* for 150 ms/,
      );
      assert.deepEqual(got, [{ i: 0 }]);
      await meshError(
        drainStream(m.caller.stream(`${m.channel}.trickle`, { gap: 100 }, { totalTimeoutMs: 250 })),
        'timeout',
        /not finished within 250 ms/,
      );
    });

    test('stop() drains: a request in flight is still answered; afterwards the name has no responders', async () => {
      const m = await mesh();
      const handle = await m.serve(
        defineFunctionAgent({ name: `${m.channel}.work`, description: 'works', input: z.object({}) }, async () => {
          await sleep(200);
          return { done: true };
        }),
      );
      const inFlight = m.caller.call(`${m.channel}.work`, {});
      await waitFor(() => handle.inFlight === 1, 'the request to arrive');
      const stopped = handle.stop();
      assert.deepEqual(await inFlight, { done: true });
      await stopped;
      await meshError(m.caller.call(`${m.channel}.work`, {}), 'not_found');
    });
  });
}
