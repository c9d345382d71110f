/**
 * The telemetry scope of the work running now: the OpenTelemetry context its spans are children of, and the agent
 * role it runs for (the `agent` label of LLM metrics). Kept in automesh's own AsyncLocalStorage, so a trace stays
 * one tree whether or not the user registered an OpenTelemetry context manager; the context is also made active
 * through the API (`context.with`), so a user's own spans inside a tool nest under automesh's when one is.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context as otelContext } from '@opentelemetry/api';

export interface TelemetryScope {
  readonly context: Context;
  /** The role of the agent whose task this is; null outside a task (a mesh call, a workflow). */
  readonly role: string | null;
}

const storage = new AsyncLocalStorage<TelemetryScope>();

/** The context new spans are children of: automesh's scope, else whatever the API says is active. */
export function activeContext(): Context {
  return storage.getStore()?.context ?? otelContext.active();
}

/** The role of the task running now, or null. */
export function currentRole(): string | null {
  return storage.getStore()?.role ?? null;
}

/** Runs `fn` inside `scope`: spans it starts are children of `scope.context`. */
export function withScope<T>(scope: TelemetryScope, fn: () => T): T {
  return storage.run(scope, () => otelContext.with(scope.context, fn));
}
