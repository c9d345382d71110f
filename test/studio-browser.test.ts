// The studio in a real browser: Debian's Chromium (headless) driven by playwright-core loads the page served by the
// studio on the database of a mesh that runs a workflow meanwhile (AutoAgents whose model calls go through the real
// OpenAI SDK over HTTP to the scripted LLM server). It sees the steps change state live, opens a step's envelope
// (attempts with the raw replies), searches the registry and reads the numbers. Screenshots go to
// test-artifacts/studio/ (kept after the run, ignored by git).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { logDirSource, type OpenedSource } from '../src/cli/studio-source.js';
import { AutoAgent, Mesh } from '../src/index.js';
import { type StudioServer, serveStudio } from '../src/studio/index.js';
import { scriptedLlm } from './helpers/scripted-llm.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts', 'studio');
const STEP_DELAY_MS = 700;

const llm = scriptedLlm();

class Calculator extends AutoAgent {
  static override role = 'calculator';
  static override systemPrompt = 'Store the answer in `result`.';
}
class Reporter extends AutoAgent {
  static override role = 'reporter';
  static override systemPrompt = 'Write the report into `result`.';
}

const reply = (code: string) => ({
  kind: 'text' as const,
  text: `Here you go:\n\n\`\`\`javascript\n${code}\n\`\`\``,
  delayMs: STEP_DELAY_MS,
});

describe('studio in Chromium', () => {
  let mesh: Mesh;
  let opened: OpenedSource;
  let studio: StudioServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the studio's browser tests need it. Install it with `
          + '`apt-get install -y chromium` (.ci/run does), or point CHROMIUM_BIN at a Chromium binary.',
      );
    mkdirSync(ARTIFACTS, { recursive: true });
    const config = llm.config('studio-browser', { MAX_REPAIR_ATTEMPTS: 2, LLM_MAX_RETRIES: 0 });
    mesh = new Mesh({ config }).add(Calculator).add(Reporter);
    const started = mesh.start();
    opened = logDirSource(String(config.LOG_DIRECTORY));
    studio = await serveStudio({ source: opened.source, port: 0, pollMs: 100 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await started;
  });

  after(async () => {
    await browser?.close();
    await studio?.close();
    await opened?.close();
    await mesh?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  test('the dashboard shows a workflow run live, a step envelope, the registry and the numbers', {
    timeout: 30_000,
  }, async () => {
    await page.goto(studio.url);
    await page.waitForSelector('[data-testid="location"]:text("automesh.db")');
    assert.equal(await page.locator('[data-testid="workflow-list"]').count(), 1);

    llm.server.script(
      'vllm',
      reply('result = 6 * 7;'),
      reply('result = 42 * ;'), // a syntax error: the repair loop asks again
      reply('result = 84;'),
      reply("result = 'The total is 84';"),
    );
    const run = mesh.workflow('nightly-report', [
      { id: 'fetch', agent: 'calculator', task: 'Compute six times seven' },
      { id: 'double', agent: 'calculator', task: 'Double the fetched number', dependsOn: ['fetch'] },
      { id: 'report', agent: 'reporter', task: 'Write one line with the total', dependsOn: ['fetch', 'double'] },
    ]);

    await page.click('[data-workflow="nightly-report"]', { timeout: 5_000 });
    await page.waitForSelector('[data-testid="graph"] [data-step="report"]');
    // Every state a step node shows, recorded by the page as it changes.
    // A string, not a function: tsx would wrap a function's inner names in a helper the page does not have.
    await page.evaluate(`
      window.seen = new Set();
      const note = () => {
        for (const node of document.querySelectorAll('[data-step]'))
          window.seen.add(node.getAttribute('data-step') + ':' + node.getAttribute('data-status'));
      };
      note();
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    `);
    await page.waitForSelector('[data-step="report"][data-status="running"]', { timeout: 10_000 });
    await shot('1-workflow-running');
    await page.waitForSelector('[data-testid="workflow-status"]:text("finished")', { timeout: 10_000 });
    const results = await run;
    assert.equal(results[2]?.output, 'The total is 84');
    const seen = (await page.evaluate('[...window.seen]')) as string[];
    assert.ok(seen.includes('report:pending') || seen.includes('double:running'), `seen: ${seen.join(', ')}`);
    assert.ok(seen.includes('report:running'), `seen: ${seen.join(', ')}`);
    assert.ok(seen.includes('report:success'), `seen: ${seen.join(', ')}`);
    for (const id of ['fetch', 'double', 'report'])
      assert.equal(await page.getAttribute(`[data-step="${id}"]`, 'data-status'), 'success');

    await page.click('[data-step="double"]');
    await page.waitForSelector('[data-testid="step-panel"] [data-testid="envelope"]');
    assert.equal(await page.textContent('[data-testid="envelope-status"]'), 'success');
    assert.equal(await page.textContent('[data-testid="envelope-output"]'), '84');
    assert.equal(await page.locator('[data-testid="attempt"]').count(), 2);
    assert.match((await page.locator('[data-testid="attempt"]').first().textContent()) ?? '', /syntax/);
    await page.locator('[data-testid="attempt"] summary').first().click();
    assert.match((await page.locator('[data-testid="raw-reply"]').first().textContent()) ?? '', /result = 42 \* ;/);
    await shot('2-step-envelope');

    await page.click('[data-tab="registry"]');
    await page.fill('[data-testid="registry-search"]', 'fetched number');
    await page.click('form.search button');
    await page.waitForSelector('[data-testid="registry-stages"]:text("matching")');
    const rows = page.locator('[data-testid="registry-table"] tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', /Double the fetched number/);
    await rows.first().click();
    assert.equal(await page.textContent('[data-testid="registry-code"]'), 'result = 84;');
    await shot('3-registry-search');

    await page.click('[data-tab="numbers"]');
    await page.waitForSelector('[data-testid="by-agent"] [data-name="calculator"]');
    assert.match(
      (await page.textContent('[data-testid="by-agent"] [data-name="calculator"]')) ?? '',
      /^calculator2100%/,
    );
    assert.match((await page.textContent('[data-testid="first-try"]')) ?? '', /^2 \(67%/);
    await shot('4-numbers');
  });
});
