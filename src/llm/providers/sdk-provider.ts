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
    // A failed load is kept by clientOf() and reported by complete().
    return this.clientOf().then(
      () => undefined,
      () => undefined,
    );
  }
}
