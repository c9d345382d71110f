/**
 * The model the settings describe: the provider chain, behind the record or replay middleware that
 * `AUTOMESH_RECORD` / `AUTOMESH_REPLAY` ask for. `Mesh.start()` and the CLI build their model here.
 */
import { loadSettings, type Settings } from '../config/settings.js';
import { type ChainOptions, LlmChain } from './chain.js';
import type { CodeModel } from './code-model.js';
import { wrapModel } from './model-middleware.js';
import { recordReplayMiddleware } from './record-replay.js';

/**
 * The provider chain of `settings` (or of `options.providers`) with record/replay in front. Throws
 * `NoProviderError` when no provider is configured and nothing is replayed, and for a replay file that is missing
 * or damaged.
 */
export function createCodeModel(
  settings: Settings = loadSettings(),
  options: Omit<ChainOptions, 'answeredElsewhere'> = {},
): CodeModel {
  // First: a missing or damaged replay file is the error to report, not the absence of providers it makes up for.
  const middleware = recordReplayMiddleware(settings);
  const chain = new LlmChain(settings, { ...options, answeredElsewhere: Boolean(settings.AUTOMESH_REPLAY) });
  return wrapModel(chain, ...middleware);
}
