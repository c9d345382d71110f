// Each provider is declared in one file (src/llm/providers/<name>.ts); everything else automesh says about the
// providers is derived from those declarations: the names and their aliases, the settings schema and its
// aliases, the secret list, the default models, the "no provider" text. And every setting a provider declares
// secret is masked by `automesh check --verbose` and `--json`, under its own name and under each alias.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NATS_SECRET_SETTINGS } from '../src/config/nats-settings.js';
import { SERVE_SECRET_SETTINGS } from '../src/config/serve-settings.js';
import {
  loadSettings,
  maskSecret,
  PROVIDER_ALIASES,
  PROVIDER_NAMES,
  SECRET_SETTINGS,
  SETTING_ALIASES,
  settingsSchema,
} from '../src/config/settings.js';
import { LlmChain } from '../src/llm/chain.js';
import { NoProviderError } from '../src/llm/errors.js';
import { loadPriceTable, priceOf } from '../src/llm/pricing.js';
import { createProvider, PROVIDERS, requiredSettingsText } from '../src/llm/providers/index.js';
import { secretsOf } from '../src/llm/redact.js';
import { llmRouteSchema } from '../src/llm/route.js';
import { tempDir } from './helpers/temp.js';
import { PROVIDERS as SERVER_PROTOCOLS } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');
/** Names of settings that hold credentials. */
const CREDENTIAL = /(_KEY|_TOKEN|_SECRET|PASSWORD)$/;
const defaults = () => loadSettings({ envFile: false, env: {} });

test('the provider names, their aliases and the default order come from the provider files', () => {
  assert.deepEqual(
    [...PROVIDER_NAMES],
    PROVIDERS.map((p) => p.name),
  );
  assert.deepEqual(
    defaults().LLM_PROVIDER_ORDER,
    PROVIDERS.map((p) => p.name),
  );
  const declared = Object.fromEntries(PROVIDERS.flatMap((p) => p.aliases.map((alias) => [alias, p.name])));
  assert.deepEqual({ ...PROVIDER_ALIASES }, declared);
  for (const p of PROVIDERS) {
    for (const alias of p.aliases) {
      assert.deepEqual(loadSettings({ envFile: false, env: { LLM_PROVIDER_ORDER: alias } }).LLM_PROVIDER_ORDER, [
        p.name,
      ]);
      assert.deepEqual(llmRouteSchema.parse({ order: [alias], models: { [alias]: 'm' } }), {
        order: [p.name],
        models: { [p.name]: 'm' },
      });
    }
  }
});

test("the settings schema, its aliases and the secret list come from each provider's declared settings", () => {
  const shape = Object.keys(settingsSchema.shape);
  const declaredSecrets = new Set<string>();
  for (const p of PROVIDERS) {
    for (const [name, setting] of Object.entries(p.settings)) {
      assert.ok(shape.includes(name), `${p.name}'s ${name} is in the settings schema`);
      assert.deepEqual(
        SETTING_ALIASES[name as keyof typeof SETTING_ALIASES] ?? [],
        setting.aliases ?? [],
        `aliases of ${name}`,
      );
      for (const n of [name, ...(setting.aliases ?? [])]) {
        assert.equal(
          SECRET_SETTINGS.has(n),
          setting.secret,
          `${n} is ${setting.secret ? '' : 'not '}on the secret list`,
        );
        if (setting.secret) declaredSecrets.add(n);
      }
    }
    for (const key of [p.keySetting, p.modelSetting, p.endpointSetting, ...p.required])
      assert.ok(key in p.settings, `${p.name} declares ${key}`);
  }
  // The mesh transport's secrets are declared in src/config/nats-settings.ts.
  for (const name of NATS_SECRET_SETTINGS) declaredSecrets.add(name);
  // The HTTP service's access token is declared in src/config/serve-settings.ts.
  for (const name of SERVE_SECRET_SETTINGS) declaredSecrets.add(name);
  assert.deepEqual(
    [...SECRET_SETTINGS].sort(),
    [...declaredSecrets].sort(),
    'every secret is declared where its setting is',
  );
  // A setting named like a credential is declared secret: its value would be printed in full otherwise.
  for (const name of shape) {
    if (CREDENTIAL.test(name))
      assert.ok(SECRET_SETTINGS.has(name), `${name} looks like a credential but is not secret`);
  }
});

test("each provider's default model is its model setting's default, with a price unless self-hosted", () => {
  const settings = defaults();
  const prices = loadPriceTable(undefined);
  for (const p of PROVIDERS) {
    assert.equal(
      (settings as Record<string, unknown>)[p.modelSetting],
      p.defaultModel,
      `${p.modelSetting} defaults to ${p.defaultModel}`,
    );
    const cost = priceOf(prices, p.name, p.defaultModel, 1000, 1000);
    assert.equal(cost.unpriced, false, `${p.name}'s default model ${p.defaultModel} has a price line in prices.json`);
    if (p.selfHosted) assert.equal(cost.costUsd, 0);
  }
});

test('every provider has a protocol in the test server', () => {
  assert.deepEqual([...SERVER_PROTOCOLS].sort(), [...PROVIDER_NAMES].sort());
});

test('configured means every required setting set; some of them is a half-configured error naming the rest', () => {
  for (const p of PROVIDERS) {
    const env = Object.fromEntries(
      p.required.map((name) => [name, name.endsWith('ENDPOINT') ? 'http://127.0.0.1:9' : 'a-long-test-key-0123456789']),
    );
    const settings = loadSettings({ envFile: false, env: { ...env, LLM_PROVIDER_ORDER: p.name } });
    assert.equal(p.isConfigured(settings), true);
    assert.equal(p.isConfigured(defaults()), false);
    assert.equal(createProvider(p.name, settings).name, p.name);
    assert.deepEqual(new LlmChain(settings).order, [p.name]);
    for (const secret of Object.keys(p.settings).filter((n) => p.settings[n]?.secret && env[n])) {
      assert.ok(secretsOf(settings).includes(env[secret] as string), `${secret} is taken out of error texts`);
    }
    if (p.required.length > 1) {
      const [first, ...rest] = p.required;
      const half = loadSettings({ envFile: false, env: { [first as string]: env[first as string] } });
      assert.throws(() => p.isConfigured(half), new RegExp(`${first} is set but ${rest.join(' and ')} (is|are) not`));
    }
  }
});

test('the "no provider configured" error names what configures every provider', () => {
  const err = (() => {
    try {
      new LlmChain(defaults());
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err instanceof NoProviderError);
  for (const p of PROVIDERS) {
    assert.ok(
      err.message.includes(`${p.label}: ${requiredSettingsText(p.name)}`),
      `the error names ${p.label}'s settings`,
    );
    for (const name of p.required)
      for (const alias of p.settings[name]?.aliases?.slice(0, 1) ?? []) assert.ok(err.message.includes(alias));
  }
});

/** Runs the built CLI with only PATH, HOME and `env` in a fresh folder. */
function cli(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      {
        cwd: tempDir('providers-check'),
        timeout: 120_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, ...env },
      },
      (_err, stdout, stderr) => resolve({ stdout, stderr }),
    );
  });
}

test('automesh check --verbose and --json mask every secret setting, by its own name and by each alias', async () => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  // The declared secrets, and any setting named like a credential (in case one was declared not secret).
  const names = Object.keys(settingsSchema.shape).filter(
    (name) => SECRET_SETTINGS.has(name) || CREDENTIAL.test(name) || PROVIDERS.some((p) => p.settings[name]?.secret),
  );
  const secrets = names.map((name) => ({
    name,
    names: [name, ...(SETTING_ALIASES[name as keyof typeof SETTING_ALIASES] ?? [])],
  }));
  assert.ok(secrets.length >= PROVIDERS.length, 'every provider has a key to mask');
  const rounds = Math.max(...secrets.map((s) => s.names.length));
  for (let round = 0; round < rounds; round++) {
    // Each secret under its own name in the first round, under its first alias in the next, and so on.
    const env: Record<string, string> = { SANDBOX_WORKERS: '1' };
    const values = new Map<string, string>();
    for (const secret of secrets) {
      const given = secret.names[Math.min(round, secret.names.length - 1)] as string;
      const value = `${given.slice(0, 3).toLowerCase()}-${randomUUID()}`;
      env[given] = value;
      values.set(secret.name, value);
    }
    const json = await cli(['check', '--json', '--verbose'], env);
    const text = await cli(['check', '--verbose'], env);
    for (const [name, value] of values) {
      for (const [mode, out] of [
        ['--json', json],
        ['--verbose', text],
      ] as const) {
        assert.ok(!`${out.stdout}${out.stderr}`.includes(value), `check ${mode} printed ${name} (round ${round})`);
        assert.ok(
          !`${out.stdout}${out.stderr}`.includes(value.slice(4)),
          `check ${mode} printed most of ${name} (round ${round})`,
        );
      }
      const report = JSON.parse(json.stdout) as { settings: { values: Record<string, { value: unknown }> } };
      assert.equal(report.settings.values[name]?.value, maskSecret(value), `check --json shows ${name} masked`);
      assert.match(text.stdout, new RegExp(`${name}=${maskSecret(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
  }
});
