// A disk that fails under a running mesh: the task whose result cannot be saved fails at once with `storage` (no
// retry loop, no stall), later tasks are not slowed, and mesh.stop() is quick. Real SDK over HTTP against the local
// wire-protocol server, the real sandbox, the database on a small disk of its own (a 1 MiB tmpfs).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AutoAgent, Mesh } from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';
import { mountSmallDisk, unmountSmallDisk } from './helpers/small-disk.js';
import { tempDir } from './helpers/temp.js';

class ReportAgent extends AutoAgent {
  static override role = 'reporter';
  static override capabilities = ['reports'];
  static override systemPrompt = 'You write reports as data.';
}

const suite = useLlmSuite('storage-faults');

test('a disk that fills up mid-run: the task fails at once with storage, stop() is quick', async (t) => {
  const logDir = tempDir('storage-faults-disk');
  if (!mountSmallDisk(logDir)) {
    t.skip('needs root and mount to make a small disk');
    return;
  }
  try {
    suite.server.respond('vllm', (req) => {
      const big = /long report/.test(req.messages[0]?.content ?? '');
      const code = big
        ? "const lines: string[] = [];\nfor (let i = 0; i < 4000; i++) lines.push('line ' + i + ' of the long report');\nresult = lines.join('\\n');"
        : "const summary: string = 'all systems normal';\nresult = summary;";
      return { kind: 'text', text: `Here is the report:\n\n\`\`\`ts\n${code}\n\`\`\`\n` };
    });
    const mesh = new Mesh({
      config: {
        LLM_PROVIDER_ORDER: 'vllm',
        LLM_ENDPOINT: suite.server.url,
        LLM_MODEL: 'qwen2.5-coder',
        LLM_MAX_RETRIES: 0,
        LLM_TIMEOUT: 10,
        EXECUTION_TIMEOUT: 5,
        SANDBOX_WORKERS: 1,
        SANDBOX_MEMORY_MB: 64,
        MAX_REPAIR_ATTEMPTS: 0,
        REGISTRY_REUSE: false,
        LOG_DIRECTORY: logDir,
      },
    });
    mesh.add(ReportAgent);
    await mesh.start();
    const reporter = mesh.getAgent('reporter')!;
    assert.equal((await reporter.executeTask({ task: 'Write the status' })).status, 'success');
    // Another program fills the disk.
    try {
      writeFileSync(join(logDir, 'filler'), Buffer.alloc(2 * 1024 * 1024));
    } catch {
      // ENOSPC: the disk is full now, which is the point.
    }
    const started = performance.now();
    const failed = await reporter.executeTask({ task: 'Write the long report' });
    const elapsed = performance.now() - started;
    assert.equal(failed.status, 'failure');
    assert.equal(failed.errorCategory, 'storage');
    assert.match(failed.error ?? '', /could not be stored in the result log .*the disk is full/s);
    assert.ok(elapsed < 3000, `the failing task took ${elapsed.toFixed(0)} ms`);
    const stopping = performance.now();
    await mesh.stop();
    assert.ok(performance.now() - stopping < 3000, 'stop() is quick');
  } finally {
    unmountSmallDisk(logDir);
  }
});
