/**
 * The OpenTelemetry context of the work running now: the context its spans are children of. Kept in automesh's own
 * AsyncLocalStorage, so a trace stays one tree whether or not the user registered an OpenTelemetry context manager;
 * the context is also made active through the API (`context.with`), so a user's own spans inside a tool nest under
 * automesh's when one is.
 *
 * Entered only where there is a trace to carry (a recording span, a caller's `traceparent`): an AsyncLocalStorage
 * that has been entered once turns on Node's promise hooks for the whole process, a cost on every promise.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context as otelContext } from '@opentelemetry/api';

const storage = new AsyncLocalStorage<Context>();

/** The context new spans are children of: automesh's scope, else whatever the API says is active. */
export function activeContext(): Context {
  return storage.getStore() ?? otelContext.active();
}

/** Runs `fn` in `context`: spans it starts are children of it. */
export function withContext<T>(context: Context, fn: () => T): T {
  return storage.run(context, () => otelContext.with(context, fn));
}
