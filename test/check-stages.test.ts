// The stages of `automesh check`, each on its own: what it reports and what it hands to the JSON report.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Reporter } from '../src/cli/check-report.js';
import {
  envFileStage,
  nextStepsOf,
  nodeStage,
  providersStage,
  settingsStage,
  storageStage,
} from '../src/cli/check-stages.js';
import type { Io } from '../src/cli/io.js';
import { sandboxSettingsOf } from '../src/config/sandbox-settings.js';
import { loadSettings, maskSecret } from '../src/config/settings.js';
import { PROVIDERS } from '../src/llm/providers/index.js';
import { tempDir } from './helpers/temp.js';

function io(env: Record<string, string> = {}, cwd = tempDir('check-stages')): Io {
  return { out: new PassThrough(), err: new PassThrough(), tty: false, cwd, env };
}

/** A reporter that collects items without printing (as with --json). */
const collect = (): Reporter => new Reporter(io(), true, false);

test('node: a version below the minimum fails with what to install', () => {
  const report = collect();
  assert.equal(nodeStage(report, '18.19.0').ok, false);
  assert.equal(nodeStage(report, '20.11.1').ok, true);
  assert.deepEqual(
    report.items.map((i) => i.status),
    ['fail', 'ok'],
  );
  assert.match(report.items[0]?.hint ?? '', /install Node\.js 20 or newer/);
});

test('.env: loaded, other names ignored, a misspelt setting flagged with the name it means', () => {
  const cwd = tempDir('check-stages-env');
  writeFileSync(join(cwd, '.env'), 'LLM_TIMEOUT=5\nCLAUDE_KEY=abc\nMY_APP_PORT=8080\n');
  const report = collect();
  const env = envFileStage(report, io({}, cwd));
  assert.equal(env.found, true);
  assert.deepEqual(env.vars, { LLM_TIMEOUT: '5', CLAUDE_KEY: 'abc', MY_APP_PORT: '8080' });
  assert.deepEqual(env.ignored, ['CLAUDE_KEY', 'MY_APP_PORT']);
  assert.match(report.items[0]?.message ?? '', /1 automesh setting; 2 other names ignored: CLAUDE_KEY, MY_APP_PORT/);
  const warning = report.items.find((i) => i.id === 'env-name.CLAUDE_KEY');
  assert.equal(warning?.status, 'warn');
  assert.match(warning?.message ?? '', /did you mean CLAUDE_API_KEY\?/);
  assert.equal(envFileStage(collect(), io()).found, false);
});

test('settings: a bad value fails naming it; valid ones are listed with secrets masked', () => {
  const bad = collect();
  const failed = settingsStage(bad, io({ LLM_TIMEOUT: 'soon' }), {});
  assert.equal(failed.settings, null);
  assert.match(failed.problems.join('\n'), /LLM_TIMEOUT must be a number/);
  assert.equal(bad.items[0]?.status, 'fail');

  const key = 'sk-ant-stage-test-0123456789abcdef';
  const good = settingsStage(collect(), io({ ANTHROPIC_API_KEY: key }), {});
  assert.equal(good.values?.CLAUDE_API_KEY?.value, maskSecret(key));
  assert.equal(good.values?.CLAUDE_API_KEY?.source, 'environment ANTHROPIC_API_KEY');
});

test('providers: half configured fails with both settings named; none configured fails listing every provider', () => {
  const report = collect();
  const statuses = providersStage(
    report,
    loadSettings({ envFile: false, env: { AZURE_OPENAI_KEY: 'a-long-azure-key-0123456789' } }),
    () => 'environment',
  );
  const azure = report.items.find((i) => i.id === 'provider.azure');
  assert.equal(azure?.status, 'fail');
  assert.match(azure?.message ?? '', /half configured: AZURE_API_KEY is set but AZURE_ENDPOINT is not/);
  assert.match(azure?.hint ?? '', /set both of AZURE_API_KEY \(or AZURE_OPENAI_KEY\) and AZURE_ENDPOINT/);
  assert.equal(statuses.find((s) => s.name === 'azure')?.configured, false);
  const none = report.items.find((i) => i.id === 'providers');
  assert.equal(none?.status, 'fail');
  for (const p of PROVIDERS)
    assert.ok(
      none?.details?.some((line) => line.startsWith(p.name) && line.includes(p.label)),
      `lists ${p.name}`,
    );

  const replaying = collect();
  providersStage(
    replaying,
    loadSettings({ envFile: false, env: { AUTOMESH_REPLAY: 'replies.jsonl' } }),
    () => 'environment',
  );
  assert.equal(replaying.items.find((i) => i.id === 'providers')?.status, 'warn');
});

test('storage: a LOG_DIRECTORY that is a file fails', () => {
  const cwd = tempDir('check-stages-storage');
  writeFileSync(join(cwd, 'logs'), 'not a folder');
  const settings = loadSettings({ envFile: false, env: { LOG_DIRECTORY: 'logs' } });
  const report = collect();
  const storage = storageStage(report, settings, sandboxSettingsOf(settings), io({}, cwd));
  assert.match(storage.problem ?? '', /exists and is not a folder/);
  assert.equal(report.items.find((i) => i.id === 'storage')?.status, 'fail');
  assert.equal(report.items.find((i) => i.id === 'prompts')?.status, 'ok');
});

test("next steps: each problem's hint once, named by provider, then the command to run again", () => {
  const failing = [
    { section: 'providers' as const, id: 'provider.azure', status: 'fail' as const, message: 'm', hint: 'set both' },
    { section: 'llm' as const, id: 'llm.azure', status: 'fail' as const, message: 'm', hint: 'set both' },
    { section: 'storage' as const, id: 'storage', status: 'fail' as const, message: 'LOG_DIRECTORY is not writable' },
  ];
  assert.deepEqual(nextStepsOf(failing, true), [
    'azure: set both',
    'LOG_DIRECTORY is not writable',
    'then run automesh check --validate-llm again',
  ]);
  assert.match(nextStepsOf([], false)[0] ?? '', /^automesh check --validate-llm/);
  assert.match(nextStepsOf([], true).join('\n'), /automesh smoketest[\s\S]*automesh init/);
});
