/** What every provider on an official SDK shares: the SDK client made on the first call, not when it is built. */
import type { CallOptions, Completion, LlmRequest, Provider, ProviderName } from '../types.js';

export abstract class SdkProvider<Client> implements Provider {
  abstract readonly name: ProviderName;
  private client: Promise<Client> | null = null;

  constructor(
    readonly model: string,
    readonly endpoint: string,
  ) {}

  /** Loads the SDK module (see `lazySdk`) and makes a client with the SDK's own retries off. */
  protected abstract connect(): Promise<Client>;

  abstract complete(request: LlmRequest, options: CallOptions): Promise<Completion>;

  /** The client, made once; a failed SDK load rejects every call with the same error. */
  protected clientOf(): Promise<Client> {
    this.client ??= this.connect();
    return this.client;
  }

  prepare(): Promise<void> {
    loadFetch();
    // A failed load is kept by clientOf() and reported by complete().
    return this.clientOf().then(
      () => undefined,
      () => undefined,
    );
  }
}

/**
 * Node loads its `fetch` (undici, ~45 ms) on first use, and the SDKs call the global `fetch`: reading one of the
 * globals it defines loads it now, while the mesh starts, instead of in the first task's model call.
 */
function loadFetch(): void {
  if (typeof globalThis.Headers !== 'function')
    throw new Error('This Node.js has no fetch (Node.js 20 or later is needed).');
}
