/**
 * Dispatch by name, as Temporal's workers do: a step whose role an agent of this process has runs here; any other
 * step goes to whichever process on the mesh serves that name. The workflow engine sees one {@link StepRunner}.
 */
import type { AutoAgent } from '../agent/auto-agent.js';
import type { Envelope } from '../agent/envelope.js';
import type { StepCall, StepProgress, StepRunner } from './step-runner.js';

export class RoutingStepRunner implements StepRunner {
  constructor(
    private readonly local: ReadonlyMap<string, AutoAgent>,
    private readonly inProcess: StepRunner,
    /** Made when first needed: only a mesh that is started has a network to call through. */
    private readonly remote: () => StepRunner,
  ) {}

  run(call: StepCall, signal: AbortSignal, onProgress: (event: StepProgress) => void): Promise<Envelope> {
    const runner = this.local.has(call.role) ? this.inProcess : this.remote();
    return runner.run(call, signal, onProgress);
  }
}
