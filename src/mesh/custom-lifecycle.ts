/**
 * The CustomAgents' part of `mesh.start()`: each agent's `setup()` in the order they were added, then the rest of
 * the start (serving). When anything fails after some setups ran, the agents already set up get their `teardown()`
 * (last set up, first torn down) before start() rejects, so a failed start leaves no connection or file an agent's
 * setup() opened. The error names the agent whose setup failed, and any teardown that failed as well.
 */
import type { CustomAgent } from '../agent/custom-agent.js';

/**
 * Runs every agent's setup(), then `serve`; on a failure, tears down the agents set up so far and throws. A failure
 * of `serve` first runs `leave`, so no request reaches an agent being torn down.
 */
export async function startCustomAgents(
  agents: Iterable<CustomAgent>,
  steps: { serve: () => Promise<void>; leave: () => Promise<void> },
): Promise<void> {
  const setUp: CustomAgent[] = [];
  for (const agent of agents) {
    try {
      await agent.setup();
    } catch (err) {
      const undone = await tearDownAfterFailure(setUp);
      throw setupFailed(agent, err, setUp, undone);
    }
    setUp.push(agent);
  }
  try {
    await steps.serve();
  } catch (err) {
    const left = await steps.leave().then(
      () => [],
      (error: unknown) => [{ role: '', error }],
    );
    const undone = [...left, ...(await tearDownAfterFailure(setUp))];
    if (undone.length === 0) throw err;
    throw new AggregateError(
      [err, ...undone.map((failure) => failure.error)],
      `mesh.start() failed (${reason(err)}), and ${undone.map(teardownText).join('; ')}.`,
    );
  }
}

interface TeardownFailure {
  /** The agent whose teardown() threw; '' for leaving the mesh. */
  role: string;
  error: unknown;
}

/** Tears the agents down in reverse order; every one runs even when another fails. Returns the failures. */
async function tearDownAfterFailure(agents: readonly CustomAgent[]): Promise<TeardownFailure[]> {
  const failures: TeardownFailure[] = [];
  for (const agent of [...agents].reverse()) {
    try {
      await agent.teardown();
    } catch (error) {
      failures.push({ role: agent.role, error });
    }
  }
  return failures;
}

function setupFailed(
  agent: CustomAgent,
  err: unknown,
  setUp: readonly CustomAgent[],
  undone: readonly TeardownFailure[],
): Error {
  const before =
    setUp.length === 0
      ? 'No other agent had been set up.'
      : `The agents set up before it were torn down: ${setUp.map((a) => `"${a.role}"`).join(', ')}.`;
  const also = undone.length === 0 ? '' : ` But ${undone.map(teardownText).join('; ')}.`;
  return new Error(
    `mesh.start() failed: the setup() of agent "${agent.role}" threw: ${reason(err)}. The mesh did not start. ${before}${also}`,
    { cause: err },
  );
}

function teardownText(failure: TeardownFailure): string {
  if (failure.role === '') return `leaving the mesh threw: ${reason(failure.error)}`;
  return `the teardown() of agent "${failure.role}" threw: ${reason(failure.error)}`;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
