/**
 * Middleware around a {@link CodeModel}, in the style of the AI SDK's `wrapLanguageModel`: a middleware's
 * `wrapGenerate` gets the request and `doGenerate`, which calls the next layer (the next middleware, at the end
 * the model itself). It may time the call, change the request (`doGenerate(changed)`), change the reply, or
 * answer without calling the model at all (a replay, a cache).
 *
 * `wrapModel(model)` with no middleware returns `model` itself, so a mesh without middleware pays nothing.
 */
import { checkMiddleware, type MiddlewareKind, stackMiddleware } from '../core/middleware.js';
import type { CallEstimate, CodeModel, ModelRef } from './code-model.js';
import type { LlmRoute } from './route.js';
import type { LlmReply, LlmRequest } from './types.js';

export interface GenerateCall {
  /** The request as this layer received it. */
  request: LlmRequest;
  /** Calls the next layer with `request`, or with the request given instead. */
  doGenerate: (request?: LlmRequest) => Promise<LlmReply>;
  /** The model this middleware wraps (its `models`, `estimate`). */
  model: CodeModel;
}

export interface ModelMiddleware {
  /** Around each `complete` call. A throw is the call's failure (the task ends with `llm`, or is cancelled). */
  wrapGenerate?: (call: GenerateCall) => Promise<LlmReply>;
}

type Generate = NonNullable<ModelMiddleware['wrapGenerate']>;

/** One middleware around one model; `route` keeps the middleware on an agent's own model. */
const KIND: MiddlewareKind = {
  label: 'Model middleware',
  hook: 'wrapGenerate',
  signature: '({ request, doGenerate, model }) => Promise<LlmReply>',
};

class WrappedModel implements CodeModel {
  constructor(
    private readonly inner: CodeModel,
    private readonly generate: Generate,
  ) {}

  get models(): readonly ModelRef[] {
    return this.inner.models;
  }

  complete(request: LlmRequest): Promise<LlmReply> {
    const inner = this.inner;
    return this.generate({ request, doGenerate: (changed = request) => inner.complete(changed), model: inner });
  }

  estimate(request: LlmRequest): CallEstimate {
    return this.inner.estimate(request);
  }

  unpricedModels(): ModelRef[] {
    return this.inner.unpricedModels();
  }

  async prepare(): Promise<void> {
    await this.inner.prepare?.();
  }

  route(route: LlmRoute | undefined, owner: string): CodeModel {
    const routed = this.inner.route(route, owner);
    return routed === this.inner ? this : new WrappedModel(routed, this.generate);
  }
}

/**
 * `model` with `middleware` around it. The first middleware is the outermost: it sees the request first and the
 * reply last; the last one wraps the model directly.
 */
export function wrapModel(model: CodeModel, ...middleware: ModelMiddleware[]): CodeModel {
  return stackMiddleware<CodeModel, Generate>(KIND, model, middleware, (inner, hook) => new WrappedModel(inner, hook));
}

/** Throws a TypeError for an entry that is not a model middleware (a `new Mesh()` option is checked at once). */
export function checkModelMiddleware(middleware: readonly unknown[]): void {
  checkMiddleware(KIND, middleware);
}
