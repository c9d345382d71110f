import assert from 'node:assert/strict';
import { findBlocks } from '../../src/codegen/extract/fences.js';
import type { Block } from '../../src/codegen/extract/types.js';
import { type ExtractedCode, extractCode } from '../../src/codegen/extract.js';

/** The code extracted from a reply that must hold some: fails the test with the reason when it does not. */
export function extracted(reply: string): ExtractedCode {
  const r = extractCode(reply);
  assert.ok(r.ok, `expected code, got: ${r.ok ? '' : r.reason}`);
  return r;
}

/** The fenced blocks of a reply, as the parts after fence-finding receive them. */
export function blocksOf(reply: string): Block[] {
  return findBlocks(reply).blocks;
}

/** Asserts that `holds` is true for every input in `yes` and false for every input in `no`. */
export function assertSplits(holds: (input: string) => boolean, yes: string[], no: string[]): void {
  for (const input of yes) assert.equal(holds(input), true, `expected true: ${JSON.stringify(input)}`);
  for (const input of no) assert.equal(holds(input), false, `expected false: ${JSON.stringify(input)}`);
}
