/**
 * The NATS bus reads and writes header blocks itself (src/transport/nats/headers.ts) instead of through the client's
 * general-purpose code: it must give exactly what the client gives, the bytes it writes and the names and first
 * values it reads, and where the client's decoder refuses a block, refuse it the same way. Checked against the client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MsgArg } from '@nats-io/nats-core/internal';
import { MsgHdrsImpl, MsgImpl } from '@nats-io/nats-core/internal';
import type { BusHeaders } from '../src/transport/bus.js';
import { messageBody } from '../src/transport/nats/bytes.js';
import { messageHeaders, toNatsHeaders } from '../src/transport/nats/headers.js';

const encoder = new TextEncoder();

/**
 * A received message as the client's parser makes one: the header block, then a body. Its bytes are a Buffer (a range
 * of the socket's chunk) or a plain Uint8Array (a message the parser put together from several reads).
 */
function received(block: string, form: 'buffer' | 'plain' = 'plain'): MsgImpl {
  const head = encoder.encode(block);
  const chunk = form === 'buffer' ? Buffer.alloc(head.length + 6) : new Uint8Array(head.length + 6);
  chunk.set(head, 2);
  chunk.set(encoder.encode('{}'), head.length + 2);
  const data = chunk.subarray(2, head.length + 4); // inside a larger chunk, as the parser hands it over
  const arg: MsgArg = { subject: encoder.encode('a.b'), sid: 1, size: data.length, hdr: head.length };
  return new MsgImpl(arg, data, { publish: () => undefined });
}

/** What the bus read before: the client's decoded headers, the first value of each name. */
function throughClient(block: string): BusHeaders | 'refused' {
  try {
    const headers: BusHeaders = {};
    const decoded = received(block).headers;
    if (decoded) for (const [name, values] of decoded) headers[name] = values[0] ?? '';
    return headers;
  } catch {
    return 'refused';
  }
}

function direct(block: string, form: 'buffer' | 'plain' = 'plain'): BusHeaders | 'refused' {
  try {
    return messageHeaders(received(block, form));
  } catch {
    return 'refused';
  }
}

function assertSameRead(block: string): void {
  const expected = throughClient(block);
  for (const form of ['plain', 'buffer'] as const) {
    const got = direct(block, form);
    assert.deepEqual(
      got === 'refused' ? got : Object.entries(got),
      expected === 'refused' ? expected : Object.entries(expected),
      `${form}: block ${JSON.stringify(block)}`,
    );
    if (got !== 'refused') assert.equal(Object.getPrototypeOf(got), Object.prototype);
  }
}

test('headers are read as the client reads them, block by block', () => {
  const blocks = [
    'NATS/1.0\r\nX-Mesh-Request-Id: 0123456789abcdef0123456789abcdef\r\nX-Mesh-Instance-Id: abc\r\n\r\n',
    'NATS/1.0\r\nX-Mesh-Status: ok\r\nX-Mesh-Source: bench.echo\r\n\r\n',
    'NATS/1.0 503\r\n\r\n',
    'NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n',
    'NATS/1.0\r\n\r\n',
    'NATS/1.0',
    '',
    'NATS/1.0\r\nA: 1\r\nA: 2\r\na: 3\r\n\r\n', // repeated names: the first value; names are exact-case
    'NATS/1.0\r\nNo-Colon-Here\r\nB:  spaced value \t\r\n\r\n',
    'NATS/1.0\r\nC:\r\n:empty name\r\nD: a:b:c\r\n\r\n',
    'NATS/1.0\r\n__proto__: x\r\nconstructor: y\r\ntoString: z\r\n\r\n',
    'NATS/1.0\r\nX-Name: é ü 漢字\r\n\r\n',
    'NATS/1.0\r\nBad Name: v\r\n\r\n', // a name the client cannot canonicalize: refused by both
    'NATS/1.0\r\nV: a\nb\r\n\r\n', // a line break inside a value: refused by both
    'NATS/1.0\r\nV: a\rb\r\n\r\n',
    'NATS/1.0\r\nTrailing: no blank line',
  ];
  for (const block of blocks) assertSameRead(block);
  assert.deepEqual(direct(blocks[7] as string), { A: '1', a: '3' });
  assert.equal(direct(blocks[12] as string), 'refused');
});

test('headers are read as the client reads them, over many generated blocks', () => {
  const parts = ['NATS/1.0', 'NATS/1.0 503', '\r\n', '\r\n', ':', ' ', '\t', 'X-A', 'x-a', 'B', 'v', ' val ', '\r'];
  parts.push('\n', 'é', '__proto__', 'constructor', 'a b', '');
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648; // a fixed sequence: the same blocks every run
    return seed % n;
  };
  for (let i = 0; i < 20_000; i++) {
    let block = next(5) === 0 ? '' : 'NATS/1.0\r\n';
    for (let j = next(14); j > 0; j--) block += parts[next(parts.length)];
    assertSameRead(block);
  }
});

test('a body is a plain Uint8Array of the bytes after the header block, whatever the client received it in', () => {
  for (const form of ['plain', 'buffer'] as const) {
    const withHeaders = messageBody(received('NATS/1.0\r\nA: 1\r\n\r\n', form));
    assert.equal(Object.getPrototypeOf(withHeaders), Uint8Array.prototype, form);
    assert.deepEqual(withHeaders, encoder.encode('{}'), form);
    const bytes = encoder.encode('{"n":1}');
    const raw = form === 'buffer' ? Buffer.from(bytes) : bytes;
    const arg: MsgArg = { subject: encoder.encode('a.b'), sid: 1, size: raw.length, hdr: -1 };
    const plain = messageBody(new MsgImpl(arg, raw, { publish: () => undefined }));
    assert.deepEqual(plain, bytes, form);
    assert.equal(Object.getPrototypeOf(plain), Uint8Array.prototype, form);
    const empty = messageBody(new MsgImpl({ ...arg, size: 0 }, new Uint8Array(0), { publish: () => undefined }));
    assert.equal(empty.length, 0);
  }
});

test('a message without a header block has no headers', () => {
  const data = encoder.encode('{}');
  const arg: MsgArg = { subject: encoder.encode('a.b'), sid: 1, size: data.length, hdr: -1 };
  assert.deepEqual(messageHeaders(new MsgImpl(arg, data, { publish: () => undefined })), {});
});

test('headers are written as the client writes them, into a plain Uint8Array', () => {
  const cases: BusHeaders[] = [
    { 'X-Mesh-Status': 'ok', 'X-Mesh-Source': 'bench.echo', 'X-Mesh-Request-Id': 'ab12' },
    { 'X-Mesh-Request-Id': '  padded  ', 'X-Mesh-Instance-Id': 'é漢' },
    { 'X-Lone-Surrogate': 'a\ud800b' },
  ];
  for (const headers of cases) {
    const client = new MsgHdrsImpl();
    for (const [name, value] of Object.entries(headers)) client.set(name, value);
    const written = (toNatsHeaders(headers) as MsgHdrsImpl).encode();
    assert.deepEqual(written, client.encode());
    assert.equal(Object.getPrototypeOf(written), Uint8Array.prototype);
  }
  assert.equal(toNatsHeaders({}), undefined);
});
