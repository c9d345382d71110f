/**
 * Host side of a tool call: parse the arguments the sandbox sent, check them against the tool's schema,
 * run the tool, and answer with JSON text. It never throws: every failure becomes an `{ ok: false }` reply
 * that the sandbox turns into a catchable ToolError.
 */
import type { ToolDefinition } from './tools.js';

function reply(ok: true, value: unknown): string;
function reply(ok: false, error: string): string;
function reply(ok: boolean, payload: unknown): string {
  return JSON.stringify(ok ? { ok: true, value: payload } : { ok: false, error: payload });
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'unknown error';
  }
}

/** Runs one tool call and returns the reply text for the sandbox. */
export async function invokeTool(
  tools: ReadonlyMap<string, ToolDefinition>,
  name: string,
  argsJson: string,
): Promise<string> {
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
    return reply(false, `${name} failed: ${describe(err)}`);
  }
  if (tool.output) {
    const parsed = tool.output.safeParse(value);
    if (!parsed.success) return reply(false, `${name} returned a value that does not match its declared output.`);
  }
  try {
    return reply(true, value);
  } catch (err) {
    return reply(false, `${name} returned a value that cannot be sent as JSON: ${describe(err)}`);
  }
}
