/**
 * Middleware around a {@link CodeExecutor}, the counterpart of `wrapModel`: a middleware's `wrapExecute` gets the
 * request and `doExecute`, which calls the next layer (at the end the executor itself). It may time the run,
 * change the request (`doExecute(changed)`), change the result, or answer without running anything.
 *
 * `wrapExecutor(executor)` with no middleware returns `executor` itself, so a mesh without middleware pays nothing.
 */
import { checkMiddleware, type MiddlewareKind, stackMiddleware } from '../core/middleware.js';
import type { CodeExecutor, ExecutionRequest } from './executor-contract.js';
import type { ExecutionResult } from './types.js';

export interface ExecuteCall {
  /** The request as this layer received it. */
  request: ExecutionRequest;
  /** Calls the next layer with `request`, or with the request given instead. */
  doExecute: (request?: ExecutionRequest) => Promise<ExecutionResult>;
  /** The executor this middleware wraps. */
  executor: CodeExecutor;
}

export interface ExecutorMiddleware {
  /**
   * Around each `execute` call. It should answer with a result, as executors do; a throw is a programmer error
   * and rejects the task (`executeTask`) that ran the code.
   */
  wrapExecute?: (call: ExecuteCall) => Promise<ExecutionResult>;
}

type Execute = NonNullable<ExecutorMiddleware['wrapExecute']>;

const KIND: MiddlewareKind = {
  label: 'Executor middleware',
  hook: 'wrapExecute',
  signature: '({ request, doExecute, executor }) => Promise<ExecutionResult>',
};

class WrappedExecutor implements CodeExecutor {
  constructor(
    private readonly inner: CodeExecutor,
    private readonly hook: Execute,
  ) {}

  execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const inner = this.inner;
    return this.hook({ request, doExecute: (changed = request) => inner.execute(changed), executor: inner });
  }

  warm(): Promise<void> {
    return this.inner.warm();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * `executor` with `middleware` around it. The first middleware is the outermost: it sees the request first and
 * the result last; the last one wraps the executor directly.
 */
export function wrapExecutor(executor: CodeExecutor, ...middleware: ExecutorMiddleware[]): CodeExecutor {
  return stackMiddleware<CodeExecutor, Execute>(
    KIND,
    executor,
    middleware,
    (inner, hook) => new WrappedExecutor(inner, hook),
  );
}

/** Throws a TypeError for an entry that is not an executor middleware (a `new Mesh()` option is checked at once). */
export function checkExecutorMiddleware(middleware: readonly unknown[]): void {
  checkMiddleware(KIND, middleware);
}
