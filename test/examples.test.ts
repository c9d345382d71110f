// Every example in examples/ runs, as a user would run it, against the local wire-protocol server standing
// in for the model, and prints what its README section promises.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import {
  NATS_MISSING,
  type NatsServer,
  natsServerAvailable,
  natsServerSkip,
  startNatsServer,
} from '../src/testing/index.js';
import { waitFor } from './helpers/mesh-processes.js';
import { startScript } from './helpers/run-script.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
let server: LlmServer;

before(async () => {
  server = await LlmServer.start();
});

after(() => server.close());

beforeEach(() => server.reset());

/** A model's answer: a sentence, the program, a closing remark. */
function answer(code: string): ScriptedReply {
  return {
    kind: 'text',
    text: `I'll solve this with a short program.\n\n\`\`\`javascript\n${code}\n\`\`\`\n\nThe answer is stored in \`result\`.`,
  };
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

/** Routes model calls by task text. */
function routes(table: Record<string, string>): void {
  server.respond('vllm', (req) => {
    const task = taskOf(req);
    const hit = Object.entries(table).find(([key]) => task.includes(key));
    return hit ? answer(hit[1]) : { kind: 'error', status: 400, message: `no scripted answer for ${task}` };
  });
}

/** The environment an example runs in: the local LLM server as its provider, a log folder of its own. */
function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: '0',
    LOG_DIRECTORY: tempDir('example'),
    ...extra,
  };
}

async function runExample(file: string, extraEnv: Record<string, string> = {}, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join('examples', file), ...args], {
    cwd: root,
    timeout: 60_000,
    env: exampleEnv(extraEnv),
  });
  return stdout;
}

test('examples/sandbox-basics.ts', async () => {
  const lines = (await runExample('sandbox-basics.ts')).trim().split('\n');
  assert.equal(lines[0], "success { region: 'eu', total: 150 } [ 'got 2 rows' ]");
  assert.match(lines[1] ?? '', /^failure no_result /);
  assert.match(lines[2] ?? '', /^failure runtime TypeError: .*reading 'revenue'.*line 2/);
});

test('examples/calculator.ts', async () => {
  routes({ 'factorial of 10': 'let f: number = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;' });
  const out = await runExample('calculator.ts');
  assert.match(out, /status: success/);
  assert.match(out, /output: 3628800/);
  assert.match(out, /repairs: 0, tokens: \d+, cost: \$0\.000000/);
});

test('examples/calculator-api.ts: the calculator as an HTTP API, over real HTTP, until SIGTERM', async () => {
  routes({ 'factorial of 10': 'let f: number = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;' });
  const { child, out, err, exited } = startScript(join(root, 'examples', 'calculator-api.ts'), {
    cwd: root,
    env: exampleEnv({ PORT: '0', SANDBOX_WORKERS: '1' }),
  });
  try {
    await waitFor(
      async () => /calculator API on (http:\/\/\S+)/.test(out()) || child.exitCode !== null,
      'the URL',
      30_000,
    );
    const url = (/calculator API on (http:\/\/\S+)/.exec(out()) as RegExpExecArray)[1] as string;
    const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, `${path}: ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const task = await post('/agents/calculator/tasks', { task: 'Calculate the factorial of 10' });
    assert.equal(task.status, 'success');
    assert.equal(task.output, 3628800);
    const workflow = await post('/workflows', {
      id: 'calc-task',
      steps: [{ agent: 'calculator', task: 'Calculate the factorial of 10' }],
      fresh: true,
      wait: true,
    });
    assert.equal(workflow.status, 'finished');
    assert.equal((workflow.steps as Array<{ envelope: { output: unknown } }>)[0]?.envelope.output, 3628800);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err());
    assert.match(out(), /stopped/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('examples/research-writer.ts', async () => {
  routes({
    'facts about the Rust borrow checker':
      'result = { topic: "Rust borrow checker", facts: ["each value has one owner", "references must not outlive their data", "mutable borrows are exclusive"] };',
    'paragraph from the research':
      'const { topic, facts } = context.research.output;\nresult = `The ${topic}: ` + facts.join("; ") + ".";',
  });
  const out = await runExample('research-writer.ts');
  assert.match(out, /research: success/);
  assert.match(out, /write: success/);
  assert.match(
    out,
    /paragraph: The Rust borrow checker: each value has one owner; references must not outlive their data; mutable borrows are exclusive\./,
  );
  assert.match(out, /summary: 2\/2 succeeded/);
});

test('examples/code-review.ts: reviewers run in parallel, the summarizer after both', async () => {
  routes({
    'security issues':
      'const lines = context.code.split("\\n");\nresult = { issues: lines.flatMap((l, i) => /query\\(".*" \\+/.test(l) ? [{ severity: "high", line: i + 1, problem: "SQL built by string concatenation (injection)", fix: "use a parameterized query" }] : []) };',
    'performance issues':
      'const lines = context.code.split("\\n");\nresult = { issues: lines.flatMap((l, i) => /for \\(.*await db\\.query/.test(l) ? [{ severity: "medium", line: i + 1, problem: "a query per row (N+1)", fix: "load orders with one JOIN" }] : []) };',
    'Merge the security':
      'const rank = { high: 0, medium: 1, low: 2 };\nresult = [...context.security.output.issues, ...context.performance.output.issues].sort((a, b) => rank[a.severity] - rank[b.severity]).map((i) => `${i.severity}: line ${i.line}: ${i.problem}`);',
  });
  const out = await runExample('code-review.ts');
  const started = out.split('\n').filter((l) => l.startsWith('started'));
  assert.deepEqual(started.slice(0, 2).sort(), ['started performance', 'started security']);
  assert.equal(started[2], 'started summary');
  assert.match(
    out,
    /merged: \["high: line 2: SQL built by string concatenation \(injection\)","medium: line 3: a query per row \(N\+1\)"\]/,
  );
});

test('examples/data-agent.ts queries a real SQLite database through its tool', async () => {
  routes({
    'Total revenue per region':
      'const rows = await database.query("SELECT region, SUM(revenue) AS revenue FROM sales GROUP BY region ORDER BY revenue DESC");\nresult = rows;',
  });
  const out = await runExample('data-agent.ts');
  assert.match(out, /status: success/);
  assert.match(
    out,
    /output: \[\{"region":"eu","revenue":150\},\{"region":"us","revenue":125\},\{"region":"apac","revenue":85\}\]/,
  );
  assert.match(server.requests('vllm')[0]?.system ?? '', /await database\.query\(sql: string\)/);
});

test('examples/resume-after-crash.ts: finished steps are recovered without a model call', async () => {
  routes({
    'first 10 square numbers': 'result = Array.from({ length: 10 }, (_, i) => (i + 1) ** 2);',
    'Keep the even numbers': 'result = context.extract.output.filter((n) => n % 2 === 0);',
    'Sum the numbers': 'result = context.transform.output.reduce((a, b) => a + b, 0);',
  });
  const out = await runExample('resume-after-crash.ts');
  assert.match(out, /first run ended by SIGKILL/);
  assert.match(out, /extract: success \(recovered, no model call\) -> \[1,4,9,16,25,36,49,64,81,100\]/);
  assert.match(out, /transform: success \(recovered, no model call\) -> \[4,16,36,64,100\]/);
  assert.match(out, /load: success -> 220/);
  const calls = server.requests('vllm').map(taskOf);
  assert.equal(calls.filter((t) => t.includes('square numbers')).length, 1);
  assert.equal(calls.filter((t) => t.includes('even numbers')).length, 1);
  // The crash lands while "load" may already be asking the model: an interrupted step runs again.
  assert.ok(calls.filter((t) => t.includes('Sum the numbers')).length >= 1);
});

test('examples/multi-process: the provider in one process, the caller in another, on a real nats-server', {
  skip: natsServerAvailable() ? false : NATS_MISSING,
}, async () => {
  routes({
    'Sum the sales amounts':
      'const sales: Array<{ amount: number }> = context.sales;\nresult = sales.reduce((sum, s) => sum + s.amount, 0);',
    '20 percent of the total': 'result = context.total.output * 0.2;',
  });
  const nats = await startNatsServer();
  const provider = spawn(process.execPath, ['--import', 'tsx', join('examples', 'multi-process', 'provider.ts')], {
    cwd: root,
    env: exampleEnv({ NATS_URL: nats.url, NODE_NAME: 'provider-node', SANDBOX_WORKERS: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let providerOut = '';
  provider.stdout.on('data', (chunk: Buffer) => {
    providerOut += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => provider.once('exit', resolve));
  try {
    await waitFor(async () => providerOut.includes('provider ready'), 'the provider', 30_000);
    const out = await runExample(join('multi-process', 'caller.ts'), { NATS_URL: nats.url, NODE_NAME: 'caller-node' });
    assert.match(out, /agent nlp\.summarizer \(responder\) on node provider-node: /);
    assert.match(out, /agent nlp\.words \(streamer\) on node provider-node: /);
    assert.match(out, /agent analyst \(responder\) on node provider-node: /);
    assert.match(out, /summary: NATS carries every request between …/);
    assert.match(out, /streamed 5 chunks: one process provides another calls/);
    assert.match(out, /step total: success -> 250/);
    assert.match(out, /step share: success -> 50/);
    assert.match(out, /workflow: 2\/2 steps succeeded on the provider/);
    // One model call per step, made by the provider process (the caller has no AutoAgent of its own).
    assert.equal(server.requests('vllm').length, 2);
  } finally {
    provider.kill('SIGINT');
    await exited;
    await nats.stop();
  }
  assert.match(providerOut, /provider stopped and left the mesh/);
});

/** A model's reply in prose around fenced TypeScript, as a code model writes it. */
function typescriptReply(code: string): ScriptedReply {
  return {
    kind: 'text',
    text: `Here is a program for this step. It reads what it needs and stores the answer in \`result\`.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nThe result is plain data, ready for the next step.`,
  };
}

/** What each research node's agent writes: the three heaviest notes of its node, as a report. */
const RESEARCH_CODE = `interface Note { id: string; claim: string; source: string; weight: number; themes: string[] }
const found: { node: string; area: string; notes: Note[] } = await library.notes();
const top = [...found.notes].sort((a, b) => b.weight - a.weight).slice(0, 3);
result = {
  area: found.area,
  node: found.node,
  headline: top[0].claim,
  keyFindings: top.map((n) => n.claim),
  themes: [...new Set(top.flatMap((n) => n.themes))],
  sources: top.map((n) => n.source),
};`;

/** The synthesizer's code: every report from previousStepResults, the themes they all share. */
const SYNTHESIS_CODE = `type Report = { area: string; node: string; headline: string; keyFindings: string[]; themes: string[]; sources: string[] };
const reports: Report[] = Object.values(context.previousStepResults).map((step: any) => step.output);
const shared = context.tech.output.themes.filter((t: string) => reports.every((r) => r.themes.includes(t)));
result = {
  title: "AI landscape Q1 2026",
  sections: reports.map((r) => ({ area: r.area, node: r.node, headline: r.headline, findings: r.keyFindings.length })),
  crossCuttingThemes: shared,
  sources: reports.reduce((n, r) => n + r.sources.length, 0),
};`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The research network's model: TypeScript per step; the market node's first program needs a repair. */
function scriptResearchNetwork(): void {
  server.respond('vllm', (req) => {
    const task = taskOf(req);
    const repairing = req.messages[0]?.content.includes('Your code failed') ?? false;
    if (task.includes('Synthesise')) return typescriptReply(SYNTHESIS_CODE);
    // The market node's first program reads a field the library does not have: it is repaired on that node.
    if (task.includes('investment trends') && !repairing)
      return typescriptReply(RESEARCH_CODE.replace('[...found.notes]', 'found.entries'));
    if (/AI chip|investment trends|regulatory developments/.test(task)) return typescriptReply(RESEARCH_CODE);
    return { kind: 'error', status: 400, message: `no scripted answer for ${task}` };
  });
}

/** No NATS_URL: the example starts a nats-server of its own, with its store in the temporary folder `tmp`. */
function distributedEnv(logs: string, tmp: string): NodeJS.ProcessEnv {
  const env = exampleEnv({ LOG_DIRECTORY: logs, TMPDIR: tmp, SANDBOX_WORKERS: '1' });
  delete env.NATS_URL;
  return env;
}

/** The processes the launcher says it started: the nats-server, the nodes, the synthesizer. */
function startedProcesses(stdout: string): Array<{ name: string; pid: number }> {
  return [...stdout.matchAll(/^started ([\w-]+) .*\(pid (\d+)/gm)].map((m) => ({
    name: m[1] as string,
    pid: Number(m[2]),
  }));
}

test('examples/distributed: npm run example:distributed runs the research network as four processes on NATS', {
  skip: natsServerAvailable() ? false : NATS_MISSING,
}, async () => {
  scriptResearchNetwork();
  const logs = tempDir('example-distributed-logs');
  const tmp = tempDir('example-distributed-tmp');
  const env = distributedEnv(logs, tmp);
  const { stdout } = await run('npm', ['run', '--silent', 'example:distributed'], { cwd: root, timeout: 120_000, env });

  // Each research step ran on its own node: the tool that reads a node's notes printed in that node's process.
  for (const [node, role] of [
    ['research-node-1', 'tech_researcher'],
    ['research-node-2', 'market_researcher'],
    ['research-node-3', 'reg_researcher'],
  ] as const) {
    const printed = stdout.split('\n').filter((line) => line.includes(`${role} read its 4 notes`));
    // The market node read them twice: its first program failed and was repaired there.
    assert.equal(printed.length, role === 'market_researcher' ? 2 : 1, stdout);
    for (const line of printed) assert.ok(line.startsWith(`${node.padEnd(15)} | ${node}: `), line);
  }
  const steps = new Map(
    [...stdout.matchAll(/step (\w+) \((\w+) on ([\w-]+)\): success, repairs (\d+), result (\S+)/g)].map((m) => [
      m[1],
      { role: m[2], node: m[3], repairs: Number(m[4]), resultId: m[5] as string },
    ]),
  );
  assert.deepEqual(
    [...steps].map(([id, s]) => [id, s.role, s.node, s.repairs]),
    [
      ['tech', 'tech_researcher', 'research-node-1', 0],
      ['market', 'market_researcher', 'research-node-2', 1],
      ['reg', 'reg_researcher', 'research-node-3', 0],
      ['synth', 'synthesizer', 'synthesizer', 0],
    ],
    stdout,
  );
  // Each step's result is stored by the process that ran it, in its own log folder, and by no other node; the
  // synthesizer, which ran the workflow, keeps a copy of every step's result.
  const nodes = ['research-node-1', 'research-node-2', 'research-node-3', 'synthesizer'];
  for (const [id, step] of steps) {
    for (const node of nodes) {
      const storage = openSqliteStorage(databasePath(join(logs, node)));
      try {
        const stored = await storage.results.get(step.resultId);
        const expected = node === step.node || node === 'synthesizer';
        assert.equal(stored !== null, expected, `result of step ${id} in the log folder of ${node}`);
      } finally {
        await storage.close();
      }
    }
  }

  // The synthesis step received all three research outputs (through previousStepResults and context[dep]).
  const synthesizerOut = stdout
    .split('\n')
    .filter((line) => line.startsWith(`${'synthesizer'.padEnd(15)} | `))
    .map((line) => line.slice(18))
    .join('\n');
  const briefing = JSON.parse(/^briefing: (\{[\s\S]*?\n\})/m.exec(synthesizerOut)?.[1] ?? 'null') as unknown;
  assert.deepEqual(briefing, {
    title: 'AI landscape Q1 2026',
    sections: [
      {
        area: 'tech',
        node: 'research-node-1',
        headline: 'Inference accelerators ship with more high-bandwidth memory per chip',
        findings: 3,
      },
      {
        area: 'market',
        node: 'research-node-2',
        headline: 'Spending moves from training clusters to serving inference at scale',
        findings: 3,
      },
      {
        area: 'reg',
        node: 'research-node-3',
        headline: 'Rules for general-purpose models phase in, transparency duties first',
        findings: 3,
      },
    ],
    crossCuttingThemes: ['energy', 'datacenters'],
    sources: 9,
  });
  assert.match(stdout, /workflow ai-landscape-q1: 4\/4 steps succeeded/);
  // One model call per step, plus the market node's repair.
  assert.equal(server.requests('vllm').length, 5);

  // Nothing is left running: the nats-server, the three nodes and the synthesizer have exited, and the
  // server's throwaway store is gone (only tsx's compile cache stays in the temporary folder).
  const pids = startedProcesses(stdout);
  assert.deepEqual(pids.map((p) => p.name).sort(), [...nodes, 'nats-server'].sort(), stdout);
  for (const { name, pid } of pids) assert.equal(alive(pid), false, `${name} (pid ${pid}) still runs`);
  assert.deepEqual(
    readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name)),
    [],
  );
});

test('examples/distributed: Ctrl-C stops the nodes, each leaving the mesh, then the nats-server, and nothing is left', {
  skip: natsServerAvailable() ? false : NATS_MISSING,
}, async () => {
  scriptResearchNetwork();
  const tmp = tempDir('example-distributed-tmp');
  // Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
  const launcher = spawn(process.execPath, ['--import', 'tsx', join('examples', 'distributed', 'run.ts')], {
    cwd: root,
    env: distributedEnv(tempDir('example-distributed-logs'), tmp),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  launcher.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
  try {
    await waitFor(async () => stdout.includes('started synthesizer'), 'the synthesizer to start', 60_000);
    process.kill(-(launcher.pid as number), 'SIGINT');
    // The synthesizer is ended mid-run: the example fails, and says it stopped everything.
    assert.equal(await exited, 1);
  } finally {
    if (launcher.exitCode === null) process.kill(-(launcher.pid as number), 'SIGKILL');
  }
  for (const node of ['research-node-1', 'research-node-2', 'research-node-3']) {
    assert.match(stdout, new RegExp(`^${node} +\\| ${node} stopped and left the mesh$`, 'm'), stdout);
    assert.match(stdout, new RegExp(`^stopped ${node} \\(exit 0\\)$`, 'm'), stdout);
  }
  assert.match(stdout, /^stopped nats-server /m);
  const pids = startedProcesses(stdout);
  assert.equal(pids.length, 5, stdout);
  for (const { name, pid } of pids) assert.equal(alive(pid), false, `${name} (pid ${pid}) still runs`);
  assert.deepEqual(
    readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name)),
    [],
  );
});

/** What the usage analyst's model writes: the customer's usage through its tool, the total and the busiest day. */
const USAGE_CODE = `const days: number[] = await usage.daily(context.customer);
const total = days.reduce((sum, n) => sum + n, 0);
result = { total, busiest: context.days[days.indexOf(Math.max(...days))] };`;

/** The support swarm's conversation, as run.ts prints it (the same in one process and on NATS). */
const SUPPORT_TRANSCRIPT = [
  'ada #1 [usage -> usage_analyst] How many API calls did we make last week?',
  '  You made 1320 API calls last week; the busiest day was Thu.',
  'ada #2 [billing -> billing] I was charged twice this month',
  '  Refund of 49.00 EUR issued for INV-1002 (charged twice).',
  'ada #3 [billing -> billing] When do I get it back?',
  '  Your refund of 49.00 EUR for INV-1002 reaches your card in 3-5 business days.',
  'grace #1 [tech -> tech_support] The app crashes when I log in',
  '  Known issue AUTH-17: update the app to 2.4.1, which fixes the crash at login.',
  'grace #2 [billing -> billing] I was charged twice too',
  '  I found no double charge on your invoices, grace.',
];

/** The steps as run.ts prints them, with the node that served each agent. */
function pipelineSteps(first: string, second: string): string[] {
  return [
    `step research (researcher on ${first}): success -> 4 facts`,
    `step write (writer on ${first}): success -> 2 paragraphs`,
    `step edit (editor on ${second}): success -> 2 changes, 70 words`,
    `step publish (publisher on ${second}): success -> articles/what-to-know-about-heat-pumps.md (418 bytes)`,
  ];
}

/** The published article: the editor took out "very" and changed "utilize" to "use". */
const ARTICLE = [
  '# What To Know About Heat Pumps',
  '',
  'A heat pump moves heat instead of making it, so it delivers three to four units of heat per unit of electricity. Modern air-source heat pumps use vapour injection to keep working at minus 25 degrees Celsius.',
  '',
  'Heat pumps are quiet when the outdoor unit sits on rubber feet away from bedroom windows. A well insulated house needs a smaller heat pump, which costs less to buy and to run.',
].join('\n');

describe('the CustomAgent examples, in one process and on NATS', { skip: natsServerSkip() }, () => {
  let nats: NatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(() => nats.stop());

  test('examples/support-swarm: triage asks the specialists by capability (one an AutoAgent), sessions carried', async () => {
    routes({ "last week's API usage": USAGE_CODE });
    // Both at once: they share nothing but the model server.
    const [alone, onNats] = await Promise.all([
      runExample(join('support-swarm', 'run.ts')),
      runExample(join('support-swarm', 'run.ts'), { NATS_URL: nats.url }),
    ]);
    for (const [out, transport] of [
      [alone, 'in-process'],
      [onNats, 'nats'],
    ] as const) {
      const lines = out.trimEnd().split('\n');
      assert.equal(lines[0], `support swarm on ${transport}: usage_analyst, triage, billing, tech_support`, out);
      assert.deepEqual(lines.slice(1), SUPPORT_TRANSCRIPT, out);
    }
    // The AutoAgent wrote code once per run, told of its tool.
    const calls = server.requests('vllm');
    assert.equal(calls.length, 2);
    for (const call of calls) assert.match(call.system ?? '', /await usage\.daily\(/);
  });

  test('examples/content-pipeline: four CustomAgent steps in one process; then across two processes in distributed mode', async () => {
    // The distributed run: a worker process serves research and write; run.ts serves edit and publish, and runs
    // the workflow. Meanwhile the pipeline also runs in one process.
    const worker = spawn(
      process.execPath,
      ['--import', 'tsx', join('examples', 'content-pipeline', 'worker.ts'), 'research,write'],
      {
        cwd: root,
        env: exampleEnv({ NATS_URL: nats.url, NODE_NAME: 'worker-1' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let workerOut = '';
    worker.stdout.on('data', (chunk: Buffer) => {
      workerOut += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    try {
      // All three at once: run.ts on NATS waits for the worker's agents to be in the catalog.
      const [alone, out] = await Promise.all([
        runExample(join('content-pipeline', 'run.ts')),
        runExample(join('content-pipeline', 'run.ts'), { NATS_URL: nats.url }, ['--agents', 'edit,publish']),
      ]);
      for (const line of pipelineSteps('pipeline-main', 'pipeline-main')) assert.ok(alone.includes(`${line}\n`), alone);
      assert.ok(alone.includes('(read back from the folder)'), alone);
      assert.ok(alone.includes(ARTICLE), alone);
      assert.match(alone, /workflow: 4\/4 steps succeeded/);

      assert.match(workerOut, /worker-1 ready: researcher, writer/);
      for (const line of pipelineSteps('worker-1', 'pipeline-main')) assert.ok(out.includes(`${line}\n`), out);
      assert.ok(out.includes('(read back from the object store)'), out);
      assert.ok(out.includes(ARTICLE), out);
      // Each step ran in the process that serves its agent.
      assert.match(workerOut, /researcher on worker-1: 4 facts on heat pumps\nwriter on worker-1: 2 paragraphs\n/);
      assert.doesNotMatch(out, /^(researcher|writer) on/m);
      assert.match(
        out,
        /editor on pipeline-main: 2 changes\npublisher on pipeline-main: articles\/what-to-know-about-heat-pumps\.md\n/,
      );
    } finally {
      worker.kill('SIGINT');
      await exited;
    }
    assert.match(workerOut, /worker-1 stopped and left the mesh/);
  });
});
