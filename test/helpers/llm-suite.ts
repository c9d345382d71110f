/**
 * The per-file setup of tests that run agents against the local LLM server: one server and one log folder for
 * the file (removed after it, passed or failed), and a clean reply script and provider cooldowns before each test.
 */
import { after, before, beforeEach } from 'node:test';
import { resetCooldowns } from '../../src/index.js';
import { LlmServer } from '../llm-server/server.js';
import { tempDir } from './temp.js';

export interface LlmSuite {
  /** The local wire-protocol server (set before the first test runs). */
  readonly server: LlmServer;
  /** A log folder of this file's own. */
  readonly logDir: string;
}

/** Registers the file's hooks; read `server` and `logDir` from the returned object inside tests. */
export function useLlmSuite(name: string): LlmSuite {
  const suite = {} as { server: LlmServer; logDir: string };
  before(async () => {
    suite.server = await LlmServer.start();
    suite.logDir = tempDir(name);
  });
  after(async () => {
    await suite.server.close();
  });
  beforeEach(() => {
    suite.server.reset();
    resetCooldowns();
  });
  return suite;
}
