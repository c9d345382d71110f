// A mesh for the HTTP integrations' tests: a CustomAgent that takes tasks (one that waits for a gate the test opens,
// so a run can be held open) and a function agent, on an in-process broker of the test's own: nothing warms a sandbox.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { CustomAgent, connectInProcess, InProcessBroker, Mesh } from '../../src/index.js';

let openGate: () => void = () => undefined;
let gate = Promise.resolve();

/** From now on, tasks that say "wait" wait until {@link releaseGate}. */
export function closeGate(): void {
  gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
}

export function releaseGate(): void {
  openGate();
}

class Doubler extends CustomAgent {
  static override role = 'doubler';
  static override capabilities = ['arithmetic'];
  static override description = 'Doubles context.n; a task that says "wait" waits for the test.';
  override async onPeerRequest(message: unknown) {
    const { task, context } = message as { task: string; context: { n?: number } };
    if (task.includes('wait')) await gate;
    return (context.n ?? 0) * 2;
  }
}

export function servedMesh(logDirectory: string): Mesh {
  return new Mesh({ bus: connectInProcess(new InProcessBroker()), config: { LOG_DIRECTORY: logDirectory } })
    .add(Doubler)
    .agent({ name: 'echo', description: 'Echoes.', input: z.object({ text: z.string() }) }, async ({ text }) => text);
}

/** Reads an event stream to its end: the event names. */
export async function eventNames(response: Response): Promise<string[]> {
  const text = await response.text();
  return [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1] as string);
}

/**
 * Starts a run held at the gate, follows its events and closes the server with `close`: the event stream must end
 * with the close, while the run still waits; then the run is let go and the close completes.
 */
export async function expectEventStreamEndsOnClose(base: string, close: () => Promise<void>): Promise<void> {
  closeGate();
  try {
    const started = await fetch(`${base}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'held', steps: [{ agent: 'doubler', task: 'wait, then double', context: { n: 2 } }] }),
    });
    assert.equal(started.status, 202);
    const stream = await fetch(`${base}/workflows/held/events`);
    const closing = close();
    try {
      assert.deepEqual(await eventNames(stream), ['workflow:started', 'step:started']);
    } finally {
      releaseGate();
      await closing;
    }
  } finally {
    releaseGate();
  }
}
