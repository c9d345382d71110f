/**
 * Request ids are Python's `uuid4().hex` (oam-wire.md §3): 32 lowercase hex characters, the version nibble 4 and the
 * RFC 4122 variant, and new every time, also across the batches of random bytes they are drawn from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId } from '../src/transport/oam/wire.js';

const UUID4_HEX = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

test('request ids are uuid4 hex, all different, over several batches of random bytes', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = newRequestId();
    assert.match(id, UUID4_HEX);
    ids.add(id);
  }
  assert.equal(ids.size, 2000);
});

test('request ids use every hex digit at every free position (no byte left unrandomized)', () => {
  const seen = Array.from({ length: 32 }, () => new Set<string>());
  for (let i = 0; i < 2000; i++) [...newRequestId()].forEach((char, at) => seen[at]?.add(char));
  seen.forEach((chars, at) => {
    const expected = at === 12 ? 1 : at === 16 ? 4 : 16;
    assert.equal(chars.size, expected, `position ${at}`);
  });
});
