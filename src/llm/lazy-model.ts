/**
 * A CodeModel built when first used. A mesh whose agents never ask a model for code (function agents only, or a
 * caller) must start without an LLM provider configured; if something does use the model, building it then
 * reports what is missing (`NoProviderError`) exactly as at `mesh.start()`.
 */
import type { CodeModel } from './code-model.js';

export function lazyCodeModel(build: () => CodeModel): CodeModel {
  let model: CodeModel | null = null;
  const real = (): CodeModel => {
    model ??= build();
    return model;
  };
  return {
    get models() {
      return real().models;
    },
    complete: (request) => real().complete(request),
    estimate: (request) => real().estimate(request),
    unpricedModels: () => real().unpricedModels(),
    route: (route, owner) => real().route(route, owner),
    prepare: () => real().prepare?.() ?? Promise.resolve(),
  };
}
