// The scripted local LLM server for a test file, and mesh settings that send its AutoAgents' model calls there
// through the real OpenAI SDK (provider vllm): `const llm = scriptedLlm()` at the top level registers the
// before/after hooks; `llm.server` is the running server, `llm.config(prefix, extra)` a mesh's settings.
import { after, before } from 'node:test';
import { LlmServer } from '../llm-server/server.js';
import { tempDir } from './temp.js';

type Config = Record<string, string | number>;

export interface ScriptedLlm {
  readonly server: LlmServer;
  /** Settings for a mesh whose results go to a fresh temporary LOG_DIRECTORY named after `prefix`. */
  config(prefix: string, extra?: Config): Config;
}

export function scriptedLlm(): ScriptedLlm {
  let server: LlmServer | null = null;
  before(async () => {
    server = await LlmServer.start();
  });
  after(() => server?.close());
  const running = (): LlmServer => {
    if (server === null) throw new Error('scriptedLlm(): the server runs from the file’s before() hook on');
    return server;
  };
  return {
    get server() {
      return running();
    },
    config: (prefix, extra = {}) => ({
      LLM_PROVIDER_ORDER: 'vllm',
      LLM_ENDPOINT: running().url,
      LLM_MODEL: 'qwen2.5-coder-32b-instruct',
      SANDBOX_WORKERS: 1,
      LOG_DIRECTORY: tempDir(prefix),
      ...extra,
    }),
  };
}
