/**
 * Host side of a tool call: parse the arguments the sandbox sent, check them against the tool's schema,
 * run the tool, and answer with JSON text. It never throws: every failure becomes an `{ ok: false }` reply
 * that the sandbox turns into a catchable ToolError, with the `code` of the error the tool threw when it had one
 * (a peer's MeshError code: `timeout`, `not_found`, ...), so code can tell failures apart.
 */
import type { ToolDefinition } from './tools.js';

function reply(ok: true, value: unknown): string;
function reply(ok: false, error: string, code?: string | null): string;
function reply(ok: boolean, payload: unknown, code: string | null = null): string {
  if (ok) return JSON.stringify({ ok: true, value: payload });
  return JSON.stringify(code === null ? { ok: false, error: payload } : { ok: false, error: payload, code });
}

/** A code word, never free text: what passes is what a program compares against (`err.code === 'timeout'`). */
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function codeOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : null;
}

/** A reply, or word that it would cross the execution's tool-byte cap (nothing of it was built past the cap). */
export type ToolReply = { kind: 'reply'; text: string; bytes: number } | { kind: 'over-cap' };

const OVER_CAP = Symbol('over the tool-byte cap');

/**
 * JSON text of `value` if it fits in `maxBytes` UTF-8 bytes, else {@link OVER_CAP}. The replacer adds up a lower
 * bound of the text's length as it goes and stops the serialization once that passes the cap, so a 64 MiB tool
 * result costs the host no 64 MiB copy (it added 347 MB to the host when the cap was checked after sending).
 */
function stringifyWithin(value: unknown, maxBytes: number): string | typeof OVER_CAP {
  let atLeast = 0;
  const count = function (this: unknown, key: string, v: unknown): unknown {
    // A UTF-8 byte count is never below the UTF-16 length; every value and key takes a character or more.
    atLeast += 1 + (Array.isArray(this) ? 0 : key.length) + (typeof v === 'string' ? v.length : 0);
    if (atLeast > maxBytes) throw OVER_CAP;
    return v;
  };
  try {
    const text = JSON.stringify(value, count);
    return Buffer.byteLength(text, 'utf8') > maxBytes ? OVER_CAP : text;
  } catch (err) {
    if (err === OVER_CAP) return OVER_CAP;
    throw err;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'unknown error';
  }
}

/**
 * Runs one tool call and returns the reply for the sandbox. `budget` says how many bytes the reply may take
 * when it is built (what is left of the execution's tool-byte cap at that moment).
 */
export async function invokeTool(
  tools: ReadonlyMap<string, ToolDefinition>,
  name: string,
  argsJson: string,
  budget: () => number,
): Promise<ToolReply> {
  const text = await replyText(tools, name, argsJson, budget);
  return text === OVER_CAP ? { kind: 'over-cap' } : { kind: 'reply', text, bytes: Buffer.byteLength(text, 'utf8') };
}

async function replyText(
  tools: ReadonlyMap<string, ToolDefinition>,
  name: string,
  argsJson: string,
  budget: () => number,
): Promise<string | typeof OVER_CAP> {
  const tool = tools.get(name);
  if (!tool) return reply(false, `There is no tool named "${name}".`);
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch {
    return reply(false, `The arguments for ${name} were not valid JSON.`);
  }
  if (!Array.isArray(args)) return reply(false, `The arguments for ${name} must be a list.`);
  if (tool.input) {
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((issue) => `${issue.path.length ? `argument ${issue.path.join('.')}: ` : ''}${issue.message}`)
        .join('; ');
      return reply(false, `Invalid arguments for ${name}: ${issues}.`);
    }
    args = parsed.data;
  }
  let value: unknown;
  try {
    value = await tool.run(...(args as unknown[]));
  } catch (err) {
    return reply(false, `${name} failed: ${describe(err)}`, codeOf(err));
  }
  if (tool.output) {
    const parsed = tool.output.safeParse(value);
    if (!parsed.success) return reply(false, `${name} returned a value that does not match its declared output.`);
  }
  try {
    return stringifyWithin({ ok: true, value }, budget());
  } catch (err) {
    return reply(false, `${name} returned a value that cannot be sent as JSON: ${describe(err)}`);
  }
}
