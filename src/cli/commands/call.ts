/** `automesh call NAME JSON [--stream]`: one request to an agent on the mesh, its reply (or chunks) printed. */

import type { Mesh } from '../../mesh/mesh.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, type Io, printJson, println, UsageError } from '../io.js';
import { NO_NATS_HINT, natsConfigured, withMeshClient } from '../mesh-client.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh call NAME [JSON] [--stream] [--timeout S] [--json]

Call an agent on the mesh (the NATS server NATS_URL names) with a JSON input and print its reply. A streamer
is read with --stream: each chunk is printed as it arrives. A trigger takes no input: leave JSON out.
An AutoAgent takes { "task": "...", "context"?: {...} } and answers with its result envelope.

Options:
  --stream     stream from a streamer agent, printing each chunk as it arrives
  --timeout S  seconds to wait: for the reply (default 30), or with --stream for the whole stream (default 60)
  --json       the reply as JSON (with --stream: one JSON line per chunk)

Errors print the mesh's error code (not_found, invalid_input, timeout, agent_died, …), its message and what to do.

Examples:
  automesh call nlp.summarizer '{"text": "A long text to shorten", "maxLength": 10}'
  automesh call calculator '{"task": "What is 10 factorial?"}'
  automesh call llm.writer '{"topic": "NATS"}' --stream`;

const OPTIONS = {
  stream: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const EXAMPLE = `e.g. automesh call nlp.summarizer '{"text": "hello"}'`;

/** The JSON input, parsed; bad JSON is a usage error naming what is wrong. No text: no input. */
function parseInput(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(
      `the input is not valid JSON (${why}): ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`,
      `quote the whole JSON for the shell, with double quotes inside: ${EXAMPLE}`,
    );
  }
}

/** --timeout in milliseconds, or undefined for the default. */
function timeoutMsOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds above 0; got "${text}"`, 'e.g. --timeout 5');
  return Math.round(seconds * 1000);
}

/**
 * A reply as people read it: text as it is, anything else as indented JSON; controls a model may have written
 * are shown as escapes (with --json: JSON as it is).
 */
function printReply(io: Io, reply: unknown, json: boolean): void {
  if (json) printJson(io, reply ?? null);
  else if (typeof reply === 'string') println(io, safeText(reply));
  else println(io, safeText(JSON.stringify(reply ?? null, null, 2)));
}

/** Prints chunks as they arrive: text chunks run on (an LLM's tokens), others one JSON line each. */
async function printStream(io: Io, chunks: AsyncIterable<unknown>, json: boolean): Promise<number> {
  let count = 0;
  let openLine = false;
  for await (const chunk of chunks) {
    count++;
    if (!json && typeof chunk === 'string') {
      io.out.write(safeText(chunk));
      openLine = !chunk.endsWith('\n');
    } else {
      if (openLine) io.out.write('\n');
      const line = JSON.stringify(chunk ?? null);
      io.out.write(`${json ? line : safeText(line)}\n`);
      openLine = false;
    }
  }
  if (openLine) io.out.write('\n');
  return count;
}

/** Ctrl-C (or SIGTERM) cancels the request, and the mesh client still stops cleanly. */
function cancelOnSignal(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const cancel = (): void => controller.abort(new Error('cancelled by a signal'));
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', cancel);
      process.off('SIGTERM', cancel);
    },
  };
}

async function callAgent(
  mesh: Mesh,
  io: Io,
  request: { name: string; input: unknown; stream: boolean; timeoutMs?: number; json: boolean },
): Promise<number> {
  const { signal, release } = cancelOnSignal();
  try {
    if (request.stream) {
      const options = { signal, ...(request.timeoutMs !== undefined ? { totalTimeoutMs: request.timeoutMs } : {}) };
      await printStream(io, mesh.stream(request.name, request.input, options), request.json);
      return 0;
    }
    const options = { signal, ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}) };
    printReply(io, await mesh.call(request.name, request.input, options), request.json);
    return 0;
  } finally {
    release();
  }
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs('call', { args, options: OPTIONS, allowPositionals: true });
  const [name, inputText, ...rest] = positionals;
  if (name === undefined) throw new UsageError('automesh call needs the name of an agent', EXAMPLE);
  if (rest.length > 0)
    throw new UsageError(
      `call takes a name and one JSON input; got more: ${JSON.stringify(rest[0])}`,
      `quote the whole JSON as one argument: ${EXAMPLE}`,
    );
  const input = parseInput(inputText);
  const timeoutMs = timeoutMsOf(values.timeout);
  if (!natsConfigured(io))
    throw new CliError(
      `NATS_URL is not set: there is no mesh to call "${name}" on (the in-process mesh of a fresh process is empty).`,
      [],
      NO_NATS_HINT,
    );
  return withMeshClient(io, (mesh) =>
    callAgent(mesh, io, {
      name,
      input,
      stream: values.stream,
      json: values.json,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    }),
  );
}

export const callCommand: Command = { name: 'call', help: HELP, options: OPTIONS, run };
