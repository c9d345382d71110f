import assert from 'node:assert/strict';
import { type ExtractedCode, extractCode } from '../../src/codegen/extract.js';

/** The code extracted from a reply that must hold some: fails the test with the reason when it does not. */
export function extracted(reply: string): ExtractedCode {
  const r = extractCode(reply);
  assert.ok(r.ok, `expected code, got: ${r.ok ? '' : r.reason}`);
  return r;
}
