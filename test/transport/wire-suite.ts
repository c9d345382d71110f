/**
 * Wire conformance with OpenAgentMesh (`oam-wire.md`, its captured frames), in both directions, on any bus:
 *
 * - automesh as provider: requests written byte for byte as the Python caller writes them (json.dumps bodies, the
 *   captured request ids), and a raw tap on `>` that checks every subject, header name and value and body that
 *   automesh sends back (replies, chunks, end and error frames, the `mesh.errors` copies, events);
 * - automesh as caller: what it puts on the wire (tap), and how it reads a raw OAM-shaped agent built here from the
 *   captured frames (a bare subscriber in queue group `q.{name}` answering exactly as Python OAM does, pydantic's
 *   compact bodies and json.dumps' spaced ones, the captured `invalid_input` envelope, dropped frames).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { z } from 'zod';
import type { Bus, BusHeaders, BusMessage } from '../../src/transport/bus.js';
import { Caller } from '../../src/transport/oam/caller.js';
import { defineFunctionAgent } from '../../src/transport/oam/function-agent.js';
import { type ServedAgent, serveAgent } from '../../src/transport/oam/provider.js';
import { bytes, collect, type InvocationHarness, meshError, sleep, text, waitFor } from './invocation-suite.js';
import { ADD_X_ERRORS, addXEnvelope } from './oam-captures.js';

const PROVIDER_INSTANCE = '4d4e346c9d2b4b7f8a0e5c3d2f1a6b70';
const CALLER_INSTANCE = '60ae422a0b1c4d5e9f8a7b6c5d4e3f21';
const HEX32 = /^[0-9a-f]{32}$/;

/** What the tap saw on `mesh.*`, minus the noise of other tests' channels. */
function meshTraffic(tap: BusMessage[], names: string[]): BusMessage[] {
  return tap.filter((m) => m.subject.startsWith('mesh.') && names.some((n) => m.subject.includes(n)));
}

/** A bare OAM-shaped agent: a subscriber in OAM's queue group, answering with `answer`; resolves once subscribed. */
async function rawAgent(bus: Bus, name: string, answer: (message: BusMessage) => void): Promise<void> {
  bus.subscribe(`mesh.agent.${name}`, answer, { queue: `q.${name}` });
  await bus.flush();
}

/** Publishes exactly these headers and body, as nats-py would. */
function pySend(bus: Bus, subject: string, body: string, headers?: BusHeaders, reply?: string): void {
  bus.publish(subject, bytes(body), { ...(headers ? { headers } : {}), ...(reply ? { reply } : {}) });
}

export function wireSuite(label: string, harness: InvocationHarness): void {
  describe(`wire conformance with OpenAgentMesh on the ${label}`, () => {
    const buses: Bus[] = [];
    const served: ServedAgent[] = [];
    afterEach(async () => {
      await Promise.all(served.splice(0).map((agent) => agent.stop()));
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    });
    async function connect(): Promise<Bus> {
      const bus = await harness.connect();
      buses.push(bus);
      return bus;
    }

    /** A raw agent's connection and a caller's. */
    async function pair(): Promise<{ agentBus: Bus; callerBus: Bus }> {
      return { agentBus: await connect(), callerBus: await connect() };
    }

    /** peer.add and peer.count, served by automesh as OAM's test peers are. */
    async function automeshPeers(): Promise<{ provider: Bus; python: Bus; tap: BusMessage[] }> {
      const provider = await connect();
      const python = await connect();
      const tapBus = await connect();
      const tap = await collect(tapBus, '>');
      const options = { instanceId: PROVIDER_INSTANCE };
      served.push(
        serveAgent(
          provider,
          defineFunctionAgent(
            {
              name: 'peer.add',
              description: 'Add two ints',
              input: z.object({ a: z.int(), b: z.int() }),
              output: z.object({ sum: z.int() }),
            },
            ({ a, b }) => ({ sum: a + b }),
          ),
          options,
        ),
        serveAgent(
          provider,
          defineFunctionAgent(
            {
              name: 'peer.count',
              description: 'Streams {i} for i in 0..n-1; fails at fail_at if set.',
              version: '1.0.0',
              tags: ['oam-peer'],
              input: z.object({ n: z.int(), delay_ms: z.int().default(0), fail_at: z.int().nullable().default(null) }),
              output: z.object({ i: z.int() }),
            },
            async function* ({ n, fail_at }) {
              for (let i = 0; i < n; i++) {
                if (i === fail_at) throw new Error(`count failed at ${i}`);
                yield { i };
              }
            },
          ),
          options,
        ),
      );
      await Promise.all([...served.map((agent) => agent.ready), tapBus.flush()]);
      return { provider, python, tap };
    }

    test('provider, call: the captured request gets the captured reply (headers exact, compact body) on the inbox', async () => {
      const { python, tap } = await automeshPeers();
      const requestId = '360276fb56344611ba23d399d7e1fd4b';
      const reply = await python.request('mesh.agent.peer.add', bytes('{"a": 2, "b": 3}'), {
        headers: { 'X-Mesh-Request-Id': requestId, 'X-Mesh-Instance-Id': CALLER_INSTANCE },
        timeoutMs: 5_000,
      });
      assert.deepEqual(reply.headers, {
        'X-Mesh-Status': 'ok',
        'X-Mesh-Source': 'peer.add',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.deepEqual(Object.keys(reply.headers), [
        'X-Mesh-Status',
        'X-Mesh-Source',
        'X-Mesh-Request-Id',
        'X-Mesh-Instance-Id',
      ]);
      assert.equal(text(reply.data), '{"sum":5}');
      await sleep(100);
      const traffic = tap.filter((m) => m.subject === 'mesh.agent.peer.add' || m.subject.startsWith('_INBOX.'));
      assert.equal(traffic.length, 2, 'the request and its one reply, nothing else');
      assert.equal(traffic[0]?.subject, 'mesh.agent.peer.add');
      assert.match(traffic[0]?.reply ?? '', /^_INBOX\./);
      assert.equal(traffic[1]?.subject, traffic[0]?.reply);
      assert.deepEqual(meshTraffic(tap, ['errors']), [], 'no error copy for a success');
    });

    test('provider, stream: the captured stream request gets Seq 0, 1 and the End frame with the count and an empty body', async () => {
      const { python, tap } = await automeshPeers();
      const requestId = 'dc14471f99ad4c25ad2bdb2d93271050';
      const frames = await collect(python, `mesh.stream.${requestId}`);
      pySend(python, 'mesh.agent.peer.count', '{"n": 2}', {
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Stream': 'true',
        'X-Mesh-Instance-Id': 'b2277f96a1b2c3d4e5f60718293a4b5c',
      });
      await waitFor(() => frames.length === 3, 'three frames');
      const common = { 'X-Mesh-Request-Id': requestId, 'X-Mesh-Instance-Id': PROVIDER_INSTANCE };
      assert.deepEqual(
        frames.map((f) => [f.headers, text(f.data), f.reply]),
        [
          [{ 'X-Mesh-Stream-Seq': '0', 'X-Mesh-Stream-End': 'false', ...common }, '{"i":0}', undefined],
          [{ 'X-Mesh-Stream-Seq': '1', 'X-Mesh-Stream-End': 'false', ...common }, '{"i":1}', undefined],
          [{ 'X-Mesh-Stream-Seq': '2', 'X-Mesh-Stream-End': 'true', ...common }, '', undefined],
        ],
      );
      assert.deepEqual(Object.keys(frames[0]?.headers ?? {}), [
        'X-Mesh-Stream-Seq',
        'X-Mesh-Stream-End',
        'X-Mesh-Request-Id',
        'X-Mesh-Instance-Id',
      ]);
      assert.equal(tap.filter((m) => m.subject === 'mesh.agent.peer.count')[0]?.reply, undefined, 'no reply subject');
    });

    test('provider, error mid-stream: a chunk, the error frame without Seq, and the envelope copied to mesh.errors minus Source', async () => {
      const { python } = await automeshPeers();
      const requestId = '2ca8994f0e1d2c3b4a5968778695a4b3';
      const frames = await collect(python, `mesh.stream.${requestId}`);
      const errors = await collect(python, 'mesh.errors.peer.count');
      pySend(python, 'mesh.agent.peer.count', '{"n": 3, "fail_at": 1}', {
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Stream': 'true',
      });
      await waitFor(() => frames.length === 2 && errors.length === 1, 'the chunk, the error frame and the copy');
      assert.deepEqual(frames[0]?.headers, {
        'X-Mesh-Stream-Seq': '0',
        'X-Mesh-Stream-End': 'false',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.deepEqual(frames[1]?.headers, {
        'X-Mesh-Stream-End': 'true',
        'X-Mesh-Status': 'error',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      const envelope = {
        code: 'handler_error',
        message: 'count failed at 1',
        agent: 'peer.count',
        request_id: requestId,
        details: {},
      };
      assert.deepEqual(JSON.parse(text(frames[1]?.data ?? bytes('null'))), envelope);
      assert.deepEqual(Object.keys(JSON.parse(text(frames[1]?.data ?? bytes('{}')))), [
        'code',
        'message',
        'agent',
        'request_id',
        'details',
      ]);
      assert.deepEqual(errors[0]?.headers, {
        'X-Mesh-Status': 'error',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.equal(text(errors[0]?.data ?? bytes('')), text(frames[1]?.data ?? bytes('x')), 'the same envelope bytes');
    });

    test('provider, invalid input: the envelope OAM main captured, on the reply and on mesh.errors', async () => {
      const { python } = await automeshPeers();
      const requestId = 'c8207a12aa1b4c2d8e9f00112233445a';
      const errors = await collect(python, 'mesh.errors.peer.add');
      const reply = await python.request('mesh.agent.peer.add', bytes('{"a": "x"}'), {
        headers: { 'X-Mesh-Request-Id': requestId },
        timeoutMs: 5_000,
      });
      assert.deepEqual(reply.headers, {
        'X-Mesh-Status': 'error',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.deepEqual(JSON.parse(text(reply.data)), addXEnvelope(requestId));
      await waitFor(() => errors.length === 1, 'the copy');
      assert.equal(text(errors[0]?.data ?? bytes('')), text(reply.data));
    });

    test('provider, send: fire and forget gets nothing back; a reply subject mesh.results.{id} gets the reply there', async () => {
      const { python, tap } = await automeshPeers();
      pySend(python, 'mesh.agent.peer.add', '{"a": 1, "b": 1}', {
        'X-Mesh-Request-Id': 'aaaa0000bbbb1111cccc2222dddd3333',
      });
      const requestId = 'eeee4444ffff5555aaaa6666bbbb7777';
      const results = await collect(python, `mesh.results.${requestId}`);
      pySend(
        python,
        'mesh.agent.peer.add',
        '{"a": 4, "b": 5}',
        { 'X-Mesh-Request-Id': requestId },
        `mesh.results.${requestId}`,
      );
      await waitFor(() => results.length === 1, 'the managed reply');
      assert.deepEqual(results[0]?.headers, {
        'X-Mesh-Status': 'ok',
        'X-Mesh-Source': 'peer.add',
        'X-Mesh-Request-Id': requestId,
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.equal(text(results[0]?.data ?? bytes('')), '{"sum":9}');
      await sleep(100);
      const subjects = tap.filter((m) => m.subject.startsWith('mesh.')).map((m) => m.subject);
      assert.deepEqual(
        subjects,
        ['mesh.agent.peer.add', 'mesh.agent.peer.add', `mesh.results.${requestId}`],
        'nothing answers the fire-and-forget one',
      );
    });

    test('provider, queue group q.{name}: a Python replica in the same group shares the requests, each answered once', async () => {
      const { python } = await automeshPeers();
      const replica = await connect();
      let replicaGot = 0;
      await rawAgent(replica, 'peer.add', (message) => {
        replicaGot += 1;
        replica.publish(message.reply ?? '', bytes('{"sum":-1}'), {
          headers: {
            'X-Mesh-Status': 'ok',
            'X-Mesh-Source': 'peer.add',
            'X-Mesh-Request-Id': message.headers['X-Mesh-Request-Id'] ?? '',
          },
        });
      });
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          python
            .request('mesh.agent.peer.add', bytes(`{"a": ${n}, "b": 0}`), {
              headers: { 'X-Mesh-Request-Id': `${String(n).padStart(2, '0')}${'0'.repeat(30)}` },
              timeoutMs: 5_000,
            })
            .then((m) => JSON.parse(text(m.data)).sum as number),
        ),
      );
      const byAutomesh = answers.filter((sum) => sum >= 0).length;
      assert.equal(byAutomesh + replicaGot, 30, 'every request answered by exactly one member');
      assert.ok(
        byAutomesh > 0 && replicaGot > 0,
        `both members served (automesh ${byAutomesh}, replica ${replicaGot})`,
      );
    });

    test('provider, publisher: events on mesh.agent.{name}.events with Seq and End false, no request id; an End frame at stop', async () => {
      const provider = await connect();
      const python = await connect();
      const events = await collect(python, 'mesh.agent.peer.ticks.events');
      const handle = serveAgent(
        provider,
        defineFunctionAgent(
          { name: 'peer.ticks', description: 'ticks', output: z.object({ seq: z.int() }) },
          async function* ({ signal }) {
            for (let seq = 0; !signal.aborted; seq++) {
              yield { seq };
              await sleep(10);
            }
          },
        ),
        { instanceId: PROVIDER_INSTANCE },
      );
      await waitFor(() => events.length >= 2, 'two events');
      await handle.stop();
      await waitFor(() => events.at(-1)?.headers['X-Mesh-Stream-End'] === 'true', 'the End frame');
      assert.deepEqual(events[0]?.headers, {
        'X-Mesh-Stream-Seq': '0',
        'X-Mesh-Stream-End': 'false',
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.equal(text(events[0]?.data ?? bytes('')), '{"seq":0}');
      const last = events.at(-1);
      assert.deepEqual(last?.headers, {
        'X-Mesh-Stream-Seq': String(events.length - 1),
        'X-Mesh-Stream-End': 'true',
        'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
      });
      assert.equal(last?.data.length, 0);
    });

    test('caller: the request automesh sends is what OAM sends (32-hex request id, instance id, JSON body, inbox reply)', async () => {
      const { agentBus, callerBus } = await pair();
      const seen: BusMessage[] = [];
      await rawAgent(agentBus, 'peer.add', (message) => {
        seen.push(message);
        agentBus.publish(message.reply ?? '', bytes('{"sum":5}'), {
          headers: {
            'X-Mesh-Status': 'ok',
            'X-Mesh-Source': 'peer.add',
            'X-Mesh-Request-Id': message.headers['X-Mesh-Request-Id'] ?? '',
            'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
          },
        });
      });
      const caller = new Caller(callerBus, { instanceId: CALLER_INSTANCE });
      assert.deepEqual(await caller.call('peer.add', { a: 2, b: 3 }), { sum: 5 });
      const request = seen[0];
      assert.equal(request?.subject, 'mesh.agent.peer.add');
      assert.match(request?.reply ?? '', /^_INBOX\./);
      assert.deepEqual(Object.keys(request?.headers ?? {}), ['X-Mesh-Request-Id', 'X-Mesh-Instance-Id']);
      assert.match(request?.headers['X-Mesh-Request-Id'] ?? '', HEX32);
      assert.equal(request?.headers['X-Mesh-Instance-Id'], CALLER_INSTANCE);
      assert.equal(text(request?.data ?? bytes('')), '{"a":2,"b":3}');
      await caller.call('peer.add', {});
      assert.equal(
        text(seen[1]?.data ?? bytes('x')),
        '{}',
        'an empty object is sent as {} (gotcha 6), never as an empty body',
      );
      await caller.call('peer.add');
      assert.equal(seen[2]?.data.length, 0, 'no input is an empty body');
    });

    test("caller of a raw OAM agent: pydantic's compact and json.dumps' spaced bodies, an empty body as {}, no headers as success", async () => {
      const { agentBus, callerBus } = await pair();
      const bodies = ['{"sum":5}', '{"sum": 5}', '', '[1, 2]'];
      let turn = 0;
      await rawAgent(agentBus, 'peer.any', (message) => {
        const body = bodies[turn++] ?? '';
        const headers =
          turn === 4
            ? undefined
            : {
                'X-Mesh-Status': 'ok',
                'X-Mesh-Source': 'peer.any',
                'X-Mesh-Request-Id': message.headers['X-Mesh-Request-Id'] ?? '',
              };
        agentBus.publish(message.reply ?? '', bytes(body), headers ? { headers } : {});
      });
      const caller = new Caller(callerBus);
      assert.deepEqual(await caller.call('peer.any', {}), { sum: 5 });
      assert.deepEqual(await caller.call('peer.any', {}), { sum: 5 });
      assert.deepEqual(await caller.call('peer.any', {}), {});
      assert.deepEqual(
        await caller.call('peer.any', {}),
        [1, 2],
        'a reply without X-Mesh-Status is a success, as OAM reads it',
      );
    });

    test("caller of a raw OAM agent: the captured invalid_input envelope (json.dumps) becomes MeshError invalid_input with pydantic's errors; unknown codes are kept", async () => {
      const { agentBus, callerBus } = await pair();
      await rawAgent(agentBus, 'peer.add', (message) => {
        const id = message.headers['X-Mesh-Request-Id'] ?? '';
        const code = text(message.data).includes('future') ? 'future_code' : 'invalid_input';
        const envelope =
          `{"code": "${code}", "message": "Input failed validation for agent 'peer.add'", "agent": "peer.add", "request_id": "${id}", `
          + '"details": {"errors": [{"type": "int_parsing", "loc": ["a"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"}, '
          + '{"type": "missing", "loc": ["b"], "msg": "Field required", "input": {"a": "x"}}]}}';
        agentBus.publish(message.reply ?? '', bytes(envelope), {
          headers: { 'X-Mesh-Status': 'error', 'X-Mesh-Request-Id': id, 'X-Mesh-Instance-Id': PROVIDER_INSTANCE },
        });
      });
      const caller = new Caller(callerBus);
      const err = await meshError(
        caller.call('peer.add', { a: 'x' }),
        'invalid_input',
        /^Input failed validation for agent 'peer.add'$/,
      );
      assert.equal(err.agent, 'peer.add');
      assert.match(err.requestId, HEX32);
      assert.deepEqual(err.details.errors, ADD_X_ERRORS);
      await meshError(caller.call('peer.add', { future: true }), 'future_code');
    });

    test('caller of a raw OAM streamer: subscribed before the request; frames without body or headers dropped; End ends; an error frame throws', async () => {
      const { agentBus, callerBus } = await pair();
      const requests: BusMessage[] = [];
      await rawAgent(agentBus, 'peer.count', (message) => {
        requests.push(message);
        const id = message.headers['X-Mesh-Request-Id'] ?? '';
        const subject = `mesh.stream.${id}`;
        const frame = (headers: BusHeaders | undefined, body: string) => pySend(agentBus, subject, body, headers);
        const seq = (n: number, end: boolean) => ({
          'X-Mesh-Stream-Seq': String(n),
          'X-Mesh-Stream-End': String(end),
          'X-Mesh-Request-Id': id,
          'X-Mesh-Instance-Id': PROVIDER_INSTANCE,
        });
        // Published at once, in the request's own delivery: frames are lost unless the caller subscribed first.
        frame(seq(0, false), '{"i":0}');
        frame(seq(1, false), ''); // empty body: dropped, as OAM drops it
        frame(undefined, '{"i":99}'); // no headers: dropped
        frame(seq(1, false), '{"i": 1}');
        if (text(message.data).includes('fail')) {
          frame(
            { 'X-Mesh-Stream-End': 'true', 'X-Mesh-Status': 'error', 'X-Mesh-Request-Id': id },
            `{"code": "handler_error", "message": "count failed at 2", "agent": "peer.count", "request_id": "${id}", "details": {}}`,
          );
        } else {
          frame(seq(2, true), '');
        }
      });
      const caller = new Caller(callerBus, { instanceId: CALLER_INSTANCE });
      const chunks: unknown[] = [];
      for await (const chunk of caller.stream('peer.count', { n: 2 })) chunks.push(chunk);
      assert.deepEqual(chunks, [{ i: 0 }, { i: 1 }]);
      assert.equal(requests[0]?.reply, undefined, 'a stream request has no reply subject');
      assert.deepEqual(requests[0]?.headers, {
        'X-Mesh-Request-Id': requests[0]?.headers['X-Mesh-Request-Id'],
        'X-Mesh-Stream': 'true',
        'X-Mesh-Instance-Id': CALLER_INSTANCE,
      });
      assert.equal(text(requests[0]?.data ?? bytes('')), '{"n":2}');
      const got: unknown[] = [];
      await meshError(
        (async () => {
          for await (const chunk of caller.stream('peer.count', { fail: true })) got.push(chunk);
        })(),
        'handler_error',
        /^count failed at 2$/,
      );
      assert.deepEqual(got, [{ i: 0 }, { i: 1 }]);
    });

    test('caller of a raw OAM streamer out of order: chunk_sequence_error with expected and got', async () => {
      const { agentBus, callerBus } = await pair();
      await rawAgent(agentBus, 'peer.jumpy', (message) => {
        const id = message.headers['X-Mesh-Request-Id'] ?? '';
        for (const n of [0, 2]) {
          pySend(agentBus, `mesh.stream.${id}`, `{"i":${n}}`, {
            'X-Mesh-Stream-Seq': String(n),
            'X-Mesh-Stream-End': 'false',
            'X-Mesh-Request-Id': id,
          });
        }
      });
      const got: unknown[] = [];
      const err = await meshError(
        (async () => {
          for await (const chunk of new Caller(callerBus).stream('peer.jumpy', {}, { totalTimeoutMs: 5_000 }))
            got.push(chunk);
        })(),
        'chunk_sequence_error',
      );
      assert.deepEqual(got, [{ i: 0 }]);
      assert.deepEqual(err.details, { expected_seq: 1, got_seq: 2 });
    });

    test('caller, send with onReply to a raw OAM agent: reply subject mesh.results.{request id}, an instant reply is heard', async () => {
      const { agentBus, callerBus } = await pair();
      const requests: BusMessage[] = [];
      await rawAgent(agentBus, 'peer.add', (message) => {
        requests.push(message);
        if (!message.reply) return; // fire and forget
        agentBus.publish(message.reply, bytes('{"sum":3}'), {
          headers: {
            'X-Mesh-Status': 'ok',
            'X-Mesh-Source': 'peer.add',
            'X-Mesh-Request-Id': message.headers['X-Mesh-Request-Id'] ?? '',
          },
        });
      });
      const replies: unknown[] = [];
      const id = await new Caller(callerBus).send(
        'peer.add',
        { a: 1, b: 2 },
        { onReply: (reply) => void replies.push(reply) },
      );
      await waitFor(() => replies.length === 1, 'the reply');
      assert.deepEqual(replies, [{ sum: 3 }]);
      assert.equal(requests[0]?.reply, `mesh.results.${id}`);
      assert.equal(requests[0]?.headers['X-Mesh-Request-Id'], id);
      await new Caller(callerBus).send('peer.add', { a: 1, b: 2 });
      await waitFor(() => requests.length === 2, 'the fire-and-forget request');
      assert.equal(requests[1]?.reply, undefined, 'fire and forget has no reply subject');
    });

    test('caller, subscribe({ agent }) to a raw OAM publisher: its events, ended by the End frame', async () => {
      const publisherBus = await connect();
      const callerBus = await connect();
      const events = new Caller(callerBus).subscribe({ agent: 'peer.ticks' });
      await events.ready;
      for (const n of [0, 1]) {
        pySend(publisherBus, 'mesh.agent.peer.ticks.events', `{"seq":${n}}`, {
          'X-Mesh-Stream-Seq': String(n),
          'X-Mesh-Stream-End': 'false',
        });
      }
      pySend(publisherBus, 'mesh.agent.peer.ticks.events', '', {
        'X-Mesh-Stream-Seq': '2',
        'X-Mesh-Stream-End': 'true',
      });
      const got: unknown[] = [];
      for await (const event of events) got.push(event);
      assert.deepEqual(got, [{ seq: 0 }, { seq: 1 }]);
    });

    test("caller, agent_died: OAM main's death notice (no headers) fails the call in flight to a raw agent", async () => {
      const { agentBus, callerBus } = await pair();
      await rawAgent(agentBus, 'peer.add', () => undefined); // takes the request and dies before answering
      const call = new Caller(callerBus).call('peer.add', { a: 1, b: 1 }, { timeoutMs: 10_000 });
      await sleep(100);
      const notice =
        '{"agent": "peer.add", "reason": "graceful_shutdown", "detected_at": "2026-11-30T21:35:42.630487+00:00", "instance_id": "4d4e346c9d2b4b7f8a0e5c3d2f1a6b70"}';
      pySend(agentBus, 'mesh.death.peer.add', notice);
      const err = await meshError(call, 'agent_died', /\(graceful_shutdown\)/);
      assert.deepEqual(err.details, JSON.parse(notice));
    });
  });
}
