/**
 * What `wrapModel` and `wrapExecutor` share: checking each middleware and stacking the layers, the first
 * middleware outermost. Middleware without the hook are left out, so a stack of none returns the target itself.
 */

/** Describes one kind of middleware for error messages: `Model middleware 0: wrapGenerate must be ...`. */
export interface MiddlewareKind {
  /** `Model middleware`, `Executor middleware`. */
  label: string;
  /** The hook's name: `wrapGenerate`, `wrapExecute`. */
  hook: string;
  /** The hook's signature, for the error that says what to pass. */
  signature: string;
}

function hookOf<Hook extends (...args: never[]) => unknown>(
  kind: MiddlewareKind,
  middleware: unknown,
  index: number,
): Hook | null {
  if (typeof middleware !== 'object' || middleware === null) {
    throw new TypeError(
      `${kind.label} ${index} must be an object { ${kind.hook} }; got ${middleware === null ? 'null' : typeof middleware}.`,
    );
  }
  const hook = (middleware as Record<string, unknown>)[kind.hook];
  if (hook === undefined) return null;
  if (typeof hook !== 'function')
    throw new TypeError(`${kind.label} ${index}: ${kind.hook} must be a function ${kind.signature}.`);
  return hook.bind(middleware) as Hook;
}

/** Throws a TypeError naming the first entry of `middleware` that is not a middleware of this kind. */
export function checkMiddleware(kind: MiddlewareKind, middleware: readonly unknown[]): void {
  middleware.forEach((m, i) => hookOf(kind, m, i));
}

/** `target` with a layer per middleware that has the hook; `layer(inner, hook)` builds one layer. */
export function stackMiddleware<Target, Hook extends (...args: never[]) => unknown>(
  kind: MiddlewareKind,
  target: Target,
  middleware: readonly unknown[],
  layer: (inner: Target, hook: Hook) => Target,
): Target {
  // Checked all first: a bad middleware anywhere in the list fails before any layer is built.
  const hooks = middleware.map((m, i) => hookOf<Hook>(kind, m, i));
  let wrapped = target;
  for (let i = hooks.length - 1; i >= 0; i--) {
    const hook = hooks[i];
    if (hook) wrapped = layer(wrapped, hook);
  }
  return wrapped;
}
