/**
 * The NATS bus writes a core message as one frame (src/transport/nats/frame.ts) instead of through the client's
 * `publish`: the frame must be the bytes the client writes for the same message, the client's counters must move as
 * they would, and a message the client refuses must be refused with the client's own error. Checked against the
 * client's code, run on the same state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  InvalidArgumentError,
  MsgHdrsImpl,
  NatsConnectionImpl,
  ProtocolHandler,
  type ServerInfo,
} from '@nats-io/nats-core/internal';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BusHeaders } from '../src/transport/bus.js';
import { isBusError } from '../src/transport/bus-errors.js';
import { operationError } from '../src/transport/nats/errors.js';
import { frameOf, headerBlock, publishFrame } from '../src/transport/nats/frame.js';

const encoder = new TextEncoder();

/** The state of a connection that `publish` reads and writes, with what it sends collected as one byte array. */
function connectionState(info?: ServerInfo) {
  const sent: Uint8Array[] = [];
  // The client's own classes, with only the state publishing reads and the sending replaced.
  const protocol = Object.assign(Object.create(ProtocolHandler.prototype) as ProtocolHandler, {
    info: info ?? ({ headers: true, max_payload: 1024 * 1024 } as ServerInfo),
    noMorePublishing: false,
    outBytes: 0,
    outMsgs: 0,
    sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void {
      sent.push(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    },
  });
  const nc = Object.assign(Object.create(NatsConnectionImpl.prototype) as NatsConnectionImpl, {
    protocol,
    closed: false,
    isClosed: () => nc.closed,
    isDraining: () => false,
  });
  const bytes = (): Uint8Array => Buffer.concat(sent.splice(0));
  return { nc, protocol, bytes };
}

function clientHeaders(headers: BusHeaders | undefined): MsgHdrsImpl | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined;
  const out = new MsgHdrsImpl();
  for (const [name, value] of Object.entries(headers)) out.set(name, value);
  return out;
}

type State = ReturnType<typeof connectionState>;
type Publish = (state: State, subject: string, data: Uint8Array, reply?: string, headers?: BusHeaders) => void;

/** What `publish` sent on `state`: its bytes, or the error it threw. */
function sent(publish: Publish): (...args: Parameters<Publish>) => Uint8Array | Error {
  return (state, ...rest) => {
    try {
      publish(state, ...rest);
      return state.bytes();
    } catch (error) {
      return error as Error;
    }
  };
}

/** The client's own `publish`, on the same state. */
const throughClient = sent((state, subject, data, reply, headers) => {
  const hdrs = clientHeaders(headers);
  state.nc.publish(subject, data, { ...(reply ? { reply } : {}), ...(hdrs ? { headers: hdrs } : {}) });
});

const throughFrame = sent((state, subject, data, reply, headers) =>
  publishFrame(state.nc as unknown as NatsConnection, subject, data, data.length, reply, headers),
);

/** The same message with its body given as text (`frame.ts` writes it into the frame as UTF-8). */
function throughFrameText(state: State, subject: string, text: string, reply?: string, headers?: BusHeaders) {
  try {
    publishFrame(state.nc as unknown as NatsConnection, subject, text, Buffer.byteLength(text), reply, headers);
    return state.bytes();
  } catch (error) {
    return error as Error;
  }
}

const CASES: Array<{ subject: string; data: string; reply?: string; headers?: BusHeaders }> = [
  { subject: 'mesh.agent.bench.echo', data: '{"text":"hi"}' },
  { subject: 'mesh.agent.demo.add', data: '{"a": 2, "b": 3}', reply: '_INBOX.q95eyaRcSSMhqCxDfb2S8r.ab12CD34' },
  {
    subject: 'mesh.agent.demo.add',
    data: '{"a": 2, "b": 3}',
    reply: '_INBOX.q95eyaRcSSMhqCxDfb2S8r.ab12CD34',
    headers: {
      'X-Mesh-Request-Id': '692919864eb84c69a46e639da341ac29',
      'X-Mesh-Instance-Id': '60ae422a60ae422a60ae422a60ae422a',
    },
  },
  {
    subject: '_INBOX.q95eyaRcSSMhqCxDfb2S8r.ab12CD34',
    data: '{"sum":5}',
    headers: { 'X-Mesh-Status': 'ok', 'X-Mesh-Source': 'demo.add', 'X-Mesh-Request-Id': '  padded  ' },
  },
  { subject: 'mesh.stream.0123', data: '', headers: { 'X-Mesh-Stream-End': 'true', 'X-Mesh-Stream-Seq': '3' } },
  { subject: 'ünïcode.subject', data: '{"text":"漢字 é \ud800"}', headers: { 'X-Name': 'é漢', traceparent: 'x' } },
  { subject: 'a.b', data: '', headers: {} },
];

test('a frame is the bytes the client writes for the same message, and the counters move alike', () => {
  for (const c of CASES) {
    const data = encoder.encode(c.data);
    const client = connectionState();
    const expected = throughClient(client, c.subject, data, c.reply, c.headers);
    assert.ok(expected instanceof Uint8Array, `the client took ${JSON.stringify(c)}`);
    // The body as bytes, and as text written straight into the frame (ASCII as latin1, the rest as UTF-8).
    for (const [form, send] of [
      ['bytes', (s: State) => throughFrame(s, c.subject, data, c.reply, c.headers)],
      ['text', (s: State) => throughFrameText(s, c.subject, c.data, c.reply, c.headers)],
    ] as const) {
      const ours = connectionState();
      const got = send(ours);
      assert.deepEqual(new Uint8Array(got as Uint8Array), new Uint8Array(expected), `${form}: ${JSON.stringify(c)}`);
      assert.equal(ours.protocol.outBytes, client.protocol.outBytes, form);
      assert.equal(ours.protocol.outMsgs, 1, form);
    }
  }
});

test('the frame holds a copy of the body: changing the data afterwards changes nothing sent', () => {
  const data = encoder.encode('{"n":1}');
  const { frame } = frameOf('a.b', data, data.length, undefined, undefined);
  data.fill(0);
  assert.equal(Buffer.from(frame).toString('utf8'), 'PUB a.b 7\r\n{"n":1}\r\n');
});

test('the header block is the client’s, values trimmed as its set() trims them', () => {
  const headers: BusHeaders = { 'X-Mesh-Request-Id': '  ab12 \t', 'X-Mesh-Instance-Id': 'é漢', 'X-Lone': 'a\ud800b' };
  assert.equal(headerBlock(headers), (clientHeaders(headers) as MsgHdrsImpl).toString());
  assert.equal(headerBlock({}), '');
  assert.equal(headerBlock(undefined), '');
});

test('a message the client refuses is refused with the client’s error', () => {
  const data = encoder.encode('{"text":"hello"}');
  const headers = { 'X-Mesh-Request-Id': 'ab12' };
  const refusals: Array<[string, (state: State) => void, BusHeaders | undefined]> = [
    ['closed', (s) => (s.nc.closed = true), headers],
    ['draining', (s) => (s.protocol.noMorePublishing = true), headers],
    [
      'over max_payload',
      (s) => (s.protocol.info = { ...s.protocol.info, headers: true, max_payload: 20 } as ServerInfo),
      headers,
    ],
    [
      'over max_payload, no headers',
      (s) => (s.protocol.info = { ...s.protocol.info, headers: true, max_payload: 10 } as ServerInfo),
      undefined,
    ],
  ];
  for (const [what, make, hdrs] of refusals) {
    const client = connectionState();
    const ours = connectionState();
    make(client);
    make(ours);
    const expected = throughClient(client, 'a.b', data, undefined, hdrs);
    const got = throughFrame(ours, 'a.b', data, undefined, hdrs);
    assert.ok(expected instanceof Error, `the client refuses: ${what}`);
    assert.ok(got instanceof Error, `refused: ${what}`);
    assert.equal(got.constructor, expected.constructor, what);
    assert.equal(got.message, expected.message, what);
    assert.equal(ours.protocol.outMsgs, 0, what);
    assert.equal(ours.bytes().length, 0, what);
  }
});

test('headers to a server without headers are refused (the client makes that error but does not throw it)', () => {
  const state = connectionState({ headers: false, max_payload: 1024 } as ServerInfo);
  const got = throughFrame(state, 'a.b', encoder.encode('{}'), undefined, { 'X-Mesh-Request-Id': 'ab12' });
  assert.ok(got instanceof InvalidArgumentError);
  assert.match(got.message, /headers.*not available on this server/);
  assert.equal(state.protocol.outMsgs, 0);
  assert.ok(throughFrame(state, 'a.b', encoder.encode('{}')) instanceof Uint8Array, 'without headers it goes');
  // What the bus tells its user: what is wrong, and what to do.
  const told = operationError(got, 'Publishing to a.b', {
    location: 'nats://127.0.0.1:4222',
    login: null,
    secrets: [],
  });
  assert.ok(isBusError(told, 'connection_failed'));
  assert.match(told.message, /does not support message headers.*nats-server 2\.2 or later/);
});
