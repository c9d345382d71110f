/**
 * Work that is synchronous until one of its steps returns a promise: serving a request with a plain handler and
 * sync schemas then costs no promise per step (see `transport/oam/provider.ts`).
 */

/** Whatever `await` would wait for: a promise, or any object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function')
    && value !== null
    && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `next(value)` at once for a plain value; after it settles for a thenable, as `await` would. */
export function andThen<T>(value: T | PromiseLike<T>, next: (value: T) => unknown): unknown {
  return isThenable(value) ? Promise.resolve(value).then(next) : next(value as T);
}
