// `automesh init` and `automesh run`, driven as a user drives them: the built CLI (dist/) in a subprocess with a
// scrubbed environment, the provider pointed at the local wire-protocol server, storage in a temp folder. The
// scaffold that init writes is then installed (node_modules/automesh linked to this repository, as
// `npm install` of its file: dependency would) and run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { agentsFromModule } from '../src/cli/load-agents.js';
import { AutoAgent, defineAgent, defineTool } from '../src/index.js';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let server: LlmServer;
let work: string;
let logDir: string;
/** A folder with an agents file, as a user's project would have. */
let app: string;

/** A model's answer: prose around a fenced program, as real models reply. */
function answer(code: string): ScriptedReply {
  return {
    kind: 'text',
    text: `Sure. I'll compute this with a short program.\n\n\`\`\`javascript\n${code}\n\`\`\`\n\nThe program stores the answer in \`result\`.`,
  };
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

/** Replies by task text; a function gets `repair` (0 for the first call) to answer repair calls differently. */
const ROUTES: Record<string, string | ((repair: number) => string)> = {
  // the scaffold's main.ts and workflow.json
  'sum of the squares of the numbers 1 to 10':
    'let total = 0;\nfor (let n = 1; n <= 10; n++) total += n * n;\nresult = total;',
  'Total revenue per region':
    'const rows = await sales.rows();\nconst totals = {};\nfor (const r of rows) totals[r.region] = (totals[r.region] ?? 0) + r.revenue;\n'
    + 'result = Object.entries(totals).map(([region, revenue]) => ({ region, revenue })).sort((a, b) => b.revenue - a.revenue);',
  'share of the total revenue':
    'const rows = context.totals.output;\nconst sum = rows.reduce((a, r) => a + r.revenue, 0);\n'
    + 'result = Object.fromEntries(rows.map((r) => [r.region, Math.round((r.revenue / sum) * 1000) / 10]));',
  // examples/calculator.ts, copied by init --examples
  'factorial of 10': 'let f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;',
  // automesh run
  'Calculate 2**10': 'result = 2 ** 10;',
  'Calculate 3**4': 'const base: number = 3;\nresult = base ** 4;',
  'first 8 Fibonacci numbers':
    'const fib = [1, 1];\nwhile (fib.length < 8) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);\nresult = fib;',
  // the first try treats the envelope as the list; the repair reads its output
  'Sum the numbers of the fibonacci step': (repair) =>
    repair === 0
      ? 'result = context.fibonacci.reduce((a, b) => a + b, 0);'
      : 'const numbers = context.fibonacci.output;\nresult = numbers.reduce((a, b) => a + b, 0);',
  'Divide the budget': 'const budget = context.budget;\nresult = budget.total / budget.parts.length;',
  // a task that mentions a file name is still a task
  'Explain workflow.json': "result = 'workflow.json lists the steps of a workflow';",
  // retries and failovers
  'Calculate 5**2': 'result = 5 ** 2;',
  'Calculate 6**2': 'result = 6 ** 2;',
  // model-written text with terminal escape sequences: a raw ESC in a comment, and in the console and output
  'Greet the terminal':
    '// \x1b]0;pwned-title\x07\x1b[2J cleared\nconsole.log("\\u001b]52;c;c2VjcmV0\\u0007 copied");\nresult = "hi \\u001b[31mred";',
};

function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, cwd, scrubbedEnv(env));
}

function scrubbedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: '0',
    LLM_TIMEOUT: '20',
    EXECUTION_TIMEOUT: '5',
    MAX_REPAIR_ATTEMPTS: '1',
    SANDBOX_WORKERS: '2',
    LOG_DIRECTORY: logDir,
    ...extra,
  };
}

/** `npm install` of the scaffold, as far as automesh goes: its file: dependency becomes a link. */
function linkAutomesh(dir: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'automesh'), 'dir');
}

/**
 * `npm install` of a scaffold without the network: automesh (file:) becomes a link to this repository, and every
 * other dependency its package.json names a link to this repository's copy. What it does not name is missing.
 */
function installDependencies(dir: string): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  linkAutomesh(dir);
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    if (name === 'automesh') continue;
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
}

function runNode(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, args, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolvePromise({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  server = await LlmServer.start();
  server.respond('vllm', (req) => {
    const task = taskOf(req);
    const hit = Object.entries(ROUTES).find(([key]) => task.includes(key));
    if (!hit) return { kind: 'error', status: 400, message: `test: no scripted answer for ${JSON.stringify(task)}` };
    const repair = req.messages.filter((m) => m.role === 'user' && m.content.includes('Your code failed')).length;
    return answer(typeof hit[1] === 'string' ? hit[1] : hit[1](repair));
  });
  work = tempDir('cli-run');
  logDir = join(work, 'logs');
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  linkAutomesh(app);
  writeFileSync(
    join(app, 'agents.ts'),
    [
      "import { AutoAgent, defineAgent } from 'automesh';",
      'export class CalculatorAgent extends AutoAgent {',
      "  static override role = 'calculator';",
      "  static override capabilities = ['math'];",
      "  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';",
      '}',
      "const writer = defineAgent({ role: 'writer', capabilities: ['writing'], systemPrompt: 'You write short texts.' });",
      'export const agents = [CalculatorAgent, writer];',
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'pipeline.json'),
    JSON.stringify(
      {
        steps: [
          { id: 'fibonacci', agent: 'calculator', task: 'List the first 8 Fibonacci numbers' },
          { id: 'sum', agent: 'math', task: 'Sum the numbers of the fibonacci step', dependsOn: ['fibonacci'] },
        ],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(app, 'broken.json'),
    JSON.stringify([
      {
        id: 'split',
        agent: 'calculator',
        task: 'Divide the budget among the parts',
        context: { budget: { total: 90 } },
      },
      { id: 'report', agent: 'writer', task: 'Write one sentence about the split', dependsOn: ['split'] },
    ]),
  );
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('automesh init', () => {
  test('writes a runnable project; its main.ts runs against the provider and prints the results', async () => {
    const proj = join(work, 'my-agents');
    const r = await cli(['init', 'my-agents'], work);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    for (const file of [
      'package.json',
      'agents.ts',
      'main.ts',
      'workflow.json',
      'tsconfig.json',
      '.env.example',
      'README.md',
      '.gitignore',
    ]) {
      assert.ok(existsSync(join(proj, file)), `init wrote no ${file}`);
      assert.match(r.stdout, new RegExp(`^    ${file.replace('.', '\\.')}$`, 'm'));
    }
    assert.match(r.stdout, /npm install/);
    const pkg = JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as {
      name: string;
      type: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.name, 'my-agents');
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.scripts.start, 'tsx main.ts');
    assert.equal(pkg.dependencies.automesh, `file:${root}`);
    assert.match(pkg.dependencies.tsx ?? '', /^\^?\d/);
    assert.equal(
      pkg.dependencies.zod,
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
        .dependencies.zod,
      'agents.ts imports zod: the project depends on it',
    );
    assert.match(readFileSync(join(proj, 'agents.ts'), 'utf8'), /from 'zod'/);
    assert.equal(readFileSync(join(proj, '.env.example'), 'utf8'), readFileSync(join(root, '.env.example'), 'utf8'));
    assert.match(readFileSync(join(proj, 'agents.ts'), 'utf8'), /from 'automesh'/);
    assert.match(readFileSync(join(proj, 'main.ts'), 'utf8'), /from 'automesh'/);
    assert.match(readFileSync(join(proj, 'README.md'), 'utf8'), /not published to the npm registry/);

    installDependencies(proj);
    // The project typechecks with its own tsconfig.json and dependencies.
    const typecheck = await runNode(
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(proj, 'tsconfig.json')],
      proj,
      scrubbedEnv(),
    );
    assert.equal(typecheck.code, 0, `${typecheck.stdout}${typecheck.stderr}`);

    // main.ts started from another folder uses the project's .env (LOG_DIRECTORY there) and ./logs.
    const projLogs = join(proj, 'logs');
    writeFileSync(join(proj, '.env'), 'LOG_DIRECTORY=./logs\n');
    const env = scrubbedEnv();
    delete env.LOG_DIRECTORY;
    const started = server.requests('vllm').length;
    const out = await runNode(['--import', tsxLoader, join('my-agents', 'main.ts')], work, env);
    assert.equal(out.code, 0, `${out.stderr}${out.stdout}`);
    assert.ok(existsSync(join(projLogs, 'automesh.db')), "results went to the project's logs");
    assert.match(out.stdout, /^calculator: success -> 385$/m);
    assert.match(
      out.stdout,
      /^totals: success -> \[\{"region":"eu","revenue":150\},\{"region":"us","revenue":125\},\{"region":"apac","revenue":85\}\]$/m,
    );
    assert.match(out.stdout, /^shares: success -> \{"eu":41\.7,"us":34\.7,"apac":23\.6\}$/m);
    assert.match(out.stdout, /^summary: 2\/2 steps succeeded, \d+ tokens, cost \$0\.000000$/m);
    const calls = server.requests('vllm').slice(started);
    assert.equal(calls.length, 3);
    assert.match(
      calls.find((c) => taskOf(c).includes('Total revenue'))?.system ?? '',
      /await sales\.rows\(/,
      'the tool is described to the model',
    );

    // The scaffold's workflow.json through the CLI, from the scaffold: same workflow id as main.ts, so the
    // saved state is resumed, and agents.ts's classes are this automesh's (no foreign-copy warning).
    const again = await cli(['run', '--agents', './agents.ts', 'workflow.json'], proj, { LOG_DIRECTORY: projLogs });
    assert.equal(again.code, 0, `${again.stderr}${again.stdout}`);
    assert.doesNotMatch(again.stderr, /warning/);
    assert.match(again.stdout, /totals: recovered from the saved state/);
    assert.match(
      again.stdout,
      /workflow sales-report: 2\/2 succeeded, 0 failed, 0 skipped \(2 recovered, 0 cached\); 0 tokens, \$0\.000000; [\d.]+ s; recovered steps spent [1-9]\d* tokens, \$0\.000000 earlier$/m,
    );
    assert.equal(server.requests('vllm').length, started + 3, 'a resumed workflow calls no model');
  });

  test('refuses to overwrite without --force, naming the files; --force overwrites', async () => {
    const proj = join(work, 'my-agents');
    writeFileSync(join(proj, 'agents.ts'), '// my own agents\n');
    const refused = await cli(['init', 'my-agents'], work);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already has .*agents\.ts/);
    assert.match(refused.stderr, /main\.ts/);
    assert.doesNotMatch(refused.stderr, /already has .*package\.json/, 'package.json is completed, never overwritten');
    assert.match(refused.stderr, /--force/);
    assert.equal(readFileSync(join(proj, 'agents.ts'), 'utf8'), '// my own agents\n', 'nothing was written');

    const forced = await cli(['init', 'my-agents', '--force'], work);
    assert.equal(forced.code, 0, `${forced.stderr}${forced.stdout}`);
    assert.match(forced.stdout, /overwrote .*agents\.ts/);
    assert.match(readFileSync(join(proj, 'agents.ts'), 'utf8'), /class CalculatorAgent extends AutoAgent/);
  });

  test('in an existing project, package.json keeps its name, version, scripts and dependencies; what is missing is added', async () => {
    const proj = join(work, 'existing');
    mkdirSync(proj);
    const theirs = {
      name: 'shop-backend',
      version: '3.2.1',
      description: 'our shop',
      scripts: { start: 'node server.js', test: 'node --test' },
      dependencies: { express: '^4.21.0', zod: '^3.23.0' },
    };
    writeFileSync(join(proj, 'package.json'), `${JSON.stringify(theirs, null, 2)}\n`);
    writeFileSync(join(proj, 'main.ts'), '// our own main\n');
    const r = await cli(['init', '--force'], proj);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const pkg = JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as typeof theirs & {
      type: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.equal(pkg.name, 'shop-backend');
    assert.equal(pkg.version, '3.2.1');
    assert.equal(pkg.description, 'our shop');
    assert.equal(pkg.scripts.start, 'node server.js');
    assert.equal(pkg.scripts.test, 'node --test');
    assert.equal(pkg.scripts['automesh:start'], 'tsx main.ts', 'the taken script name gets an automesh: prefix');
    assert.equal(pkg.scripts.workflow, 'automesh run --agents ./agents.ts workflow.json');
    assert.equal(pkg.dependencies.express, '^4.21.0');
    assert.equal(pkg.dependencies.zod, '^3.23.0', 'their zod version is kept');
    assert.equal(pkg.dependencies.automesh, `file:${root}`);
    assert.ok(pkg.dependencies.tsx && pkg.devDependencies.typescript && pkg.devDependencies['@types/node']);
    assert.equal(pkg.type, 'module');
    assert.match(
      r.stdout,
      /package\.json \(yours, kept; added "type": "module", script automesh:start, .*automesh@file:/,
    );
    assert.match(r.stdout, /npm run automesh:start/);
    assert.match(readFileSync(join(proj, 'main.ts'), 'utf8'), /new Mesh/, '--force overwrote main.ts');

    const again = await cli(['init', '--force'], proj);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /package\.json \(yours, kept; it had everything\)/);
    assert.deepEqual(JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')), pkg);

    writeFileSync(join(proj, 'package.json'), '{ "name": "broken", ');
    const broken = await cli(['init', '--force'], proj);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /package\.json is not valid JSON .*nothing was written/);
  });

  test('--examples copies the examples, importing from automesh; they run', async () => {
    const proj = join(work, 'with-examples');
    mkdirSync(proj);
    const r = await cli(['init', '--examples'], proj);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const shipped = readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.ts'))
      .sort();
    assert.deepEqual(readdirSync(join(proj, 'examples')).sort(), shipped);
    for (const file of shipped) {
      const text = readFileSync(join(proj, 'examples', file), 'utf8');
      assert.doesNotMatch(text, /\.\.\/src\/index\.js/, file);
      assert.match(text, /from 'automesh'/, file);
    }
    const pkg = JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.ok(pkg.dependencies.zod && pkg.dependencies['sql.js'], "the examples' own imports are dependencies");

    linkAutomesh(proj);
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise) => {
      execFile(
        process.execPath,
        ['--import', tsxLoader, join('examples', 'calculator.ts')],
        { cwd: proj, env: scrubbedEnv({ LOG_DIRECTORY: join(proj, 'logs') }), timeout: 60_000 },
        (err, stdout, stderr) => resolvePromise({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    assert.equal(out.code, 0, `${out.stderr}${out.stdout}`);
    assert.match(out.stdout, /output: 3628800/);
  });
});

describe('automesh run', () => {
  test('one task: progress, a final table, the output and where it is stored', async () => {
    const r = await cli(['run', '--agents', './agents.ts', '--agent', 'calculator', 'Calculate 2**10'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /^\+\d+\.\d\ds calculator: started \(calculator\) Calculate 2\*\*10$/m);
    assert.match(r.stdout, /^\+\d+\.\d\ds calculator: success in \d+\.\d\d s: 0 repairs, \d+ tokens, \$0\.000000$/m);
    assert.match(r.stdout, /^agent\s+status\s+repairs\s+tokens\s+cost\s+time\s+output$/m);
    assert.match(r.stdout, /^calculator\s+success\s+0\s+\d+\s+\$0\.000000\s+\d+\.\d\d s\s+1024$/m);
    assert.match(r.stdout, /^output: 1024$/m);
    assert.match(r.stdout, /result = 2 \*\* 10;/);
    assert.match(r.stdout, /automesh logs show [\w-]+/);
  });

  test('one task with --json prints only the envelope', async () => {
    const r = await cli(['run', '--agents', 'agents.ts', '--agent', 'math', '--json', 'Calculate 3**4'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const envelope = JSON.parse(r.stdout) as {
      status: string;
      output: unknown;
      repairs: number;
      role: string;
      resultId: string;
      provider: string;
    };
    assert.equal(envelope.status, 'success');
    assert.equal(envelope.output, 81);
    assert.equal(envelope.role, 'calculator');
    assert.equal(envelope.provider, 'vllm');
    // registry and logs show what ran
    const shown = await cli(['logs', 'show', envelope.resultId], app);
    assert.equal(shown.code, 0, `${shown.stderr}${shown.stdout}`);
    assert.match(shown.stdout, /task:\s+Calculate 3\*\*4/);
    assert.match(shown.stdout, /output:\s+81/);
    // logs export writes the result as a file <role>/<resultId>.json
    const exported = await cli(['logs', 'export', '--dir', 'exported', '--role', 'calculator'], app);
    assert.equal(exported.code, 0, `${exported.stderr}${exported.stdout}`);
    assert.match(exported.stdout, /Exported \d+ results? to .*exported\/<role>\/<resultId>\.json/);
    const file = join(app, 'exported', 'calculator', `${envelope.resultId}.json`);
    assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as { envelope: { output: unknown } }).envelope.output, 81);
    assert.ok(!existsSync(join(logDir, 'calculator')), 'no file per task in LOG_DIRECTORY');
  });

  test('a workflow file: progress lines as events arrive, a repair, the final table, exit 0', async () => {
    const r = await cli(['run', '--agents', './agents.ts', 'pipeline.json'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const lines = r.stdout.split('\n');
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    assert.ok(at(/^workflow pipeline: 2 steps$/) === 0, r.stdout);
    // "sum" may start before "fibonacci: success" is printed: a step is announced finished once its state is
    // on disk, while its dependants start at once.
    assert.ok(at(/^\+[\d.]+s fibonacci: success in [\d.]+ s: 0 repairs, \d+ tokens, \$0\.000000$/) > 0, r.stdout);
    const order = [
      at(/^\+[\d.]+s fibonacci: started \(calculator\) List the first 8 Fibonacci numbers$/),
      at(/^\+[\d.]+s sum: started \(calculator\)/),
      at(/^\+[\d.]+s sum: repair 1 after runtime: .*reduce is not a function/),
      at(/^\+[\d.]+s sum: success in [\d.]+ s: 1 repair, \d+ tokens/),
      at(/^step\s+agent\s+status\s+repairs\s+tokens\s+cost\s+time\s+output$/),
      at(/^fibonacci\s+calculator\s+success\s+0\s+\d+\s+\$0\.000000\s+[\d.]+ s\s+\[1,1,2,3,5,8,13,21\]$/),
      at(/^sum\s+calculator\s+success\s+1\s+\d+\s+\$0\.000000\s+[\d.]+ s\s+54$/),
      at(
        /^workflow pipeline: 2\/2 succeeded, 0 failed, 0 skipped \(0 recovered, 0 cached\); \d+ tokens, \$0\.000000; [\d.]+ s$/,
      ),
    ];
    assert.ok(
      order.every((i) => i >= 0),
      `missing lines in:\n${r.stdout}`,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      `out of order:\n${r.stdout}`,
    );
  });

  test('a workflow with --fresh --json prints { workflowId, summary, steps }', async () => {
    const before = server.requests('vllm').length;
    const r = await cli(['run', 'pipeline.json', '--fresh', '--json'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const result = JSON.parse(r.stdout) as {
      workflowId: string;
      summary: { succeeded: number; recovered: number };
      steps: Array<{ stepId: string; status: string; output: unknown; recovered?: boolean }>;
    };
    assert.equal(result.workflowId, 'pipeline');
    assert.equal(result.summary.succeeded, 2);
    assert.equal(result.summary.recovered, 0, '--fresh runs every step again');
    assert.deepEqual(
      result.steps.map((s) => [s.stepId, s.status, s.output]),
      [
        ['fibonacci', 'success', [1, 1, 2, 3, 5, 8, 13, 21]],
        ['sum', 'success', 54],
      ],
    );
    // The registry answers known tasks now: fresh steps ran without new model calls for the verified code.
    assert.ok(server.requests('vllm').length >= before);
  });

  test('a failing step: failure and its skipped dependant in the table, exit 1', async () => {
    const r = await cli(['run', '--agents', './agents.ts', 'broken.json'], app);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^\+[\d.]+s split: repair 1 after runtime: /m);
    assert.match(r.stdout, /^\+[\d.]+s split: failure \(runtime\) after 1 repair: /m);
    assert.match(r.stdout, /^\+[\d.]+s report: skipped: step "split" it depends on failed/m);
    assert.match(r.stdout, /^split\s+calculator\s+failure\s+1\s/m);
    assert.match(r.stdout, /^report\s+writer\s+skipped\s+0\s/m);
    assert.match(r.stdout, /^workflow broken: 0\/2 succeeded, 1 failed, 1 skipped/m);
    // What to do about it, from the table of error categories: one hint for the failure's category.
    assert.match(r.stdout, /^hint: runtime: The code threw; the error names the line\./m);
  });

  test('an agents file that exports no agents, a missing file, an unknown agent: clear errors, exit 1', async () => {
    writeFileSync(
      join(app, 'nothing.ts'),
      "export const answer = 42;\nexport function helper(): string { return 'hi'; }\n",
    );
    const none = await cli(['run', '--agents', './nothing.ts', '--agent', 'calculator', 'Calculate 2**10'], app);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /\.\/nothing\.ts exports no agents\. It exports: answer \(a number\), helper \(function helper\)\./,
    );
    assert.match(none.stderr, /export const agents = \[/);
    assert.equal(none.stdout, '');

    const missing = await cli(['run', '--agents', './nope.ts', 'Calculate 2**10'], app);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Agents file \.\/nope\.ts not found/);

    const unknown = await cli(['run', '--agents', './agents.ts', '--agent', 'poet', 'Write a poem'], app);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /no agent "poet" in \.\/agents\.ts \(roles: calculator, writer; capabilities: math, writing\)/,
    );

    const invalid = await cli(['run', '--agents', './agents.ts', 'pipeline-typo.json'], app);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /workflow file pipeline-typo\.json not found/);
  });

  test('registry list and logs list show what ran', async () => {
    const registry = await cli(['registry', 'list'], app);
    assert.equal(registry.code, 0, `${registry.stderr}${registry.stdout}`);
    assert.match(registry.stdout, /calculator\s+verified\s+\d+\s+0\s+Calculate 2\*\*10/);
    assert.match(registry.stdout, /calculator\s+verified\s+\d+\s+0\s+Sum the numbers of the fibonacci step/);
    const logs = await cli(['logs', 'list', '--limit', '50'], app);
    assert.equal(logs.code, 0, `${logs.stderr}${logs.stdout}`);
    assert.match(logs.stdout, /calculator\s+success\s+.*Calculate 2\*\*10/);
    assert.match(logs.stdout, /calculator\s+failure\s+.*Divide the budget/);
  });

  test('registry show, search --json and rm', async () => {
    const listed = await cli(['registry', 'list', '--json'], app);
    assert.equal(listed.code, 0, listed.stderr);
    const entries = JSON.parse(listed.stdout) as Array<{ id: string; task: string }>;
    const entry = entries.find((e) => e.task.includes('Calculate 2**10'));
    assert.ok(entry, 'the task is registered');
    const shown = await cli(['registry', 'show', entry.id], app);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`${entry.id}\\s+calculator\\s+verified`));
    assert.match(shown.stdout, /provenance:\s+vllm \//);
    assert.match(shown.stdout, /result = /, 'the code is printed');
    const found = await cli(['registry', 'search', '--json', '2**10'], app);
    assert.equal(found.code, 0, found.stderr);
    assert.equal((JSON.parse(found.stdout) as Array<{ id: string }>)[0]?.id, entry.id);
    const removed = await cli(['registry', 'rm', entry.id], app);
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await cli(['registry', 'show', entry.id], app);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no registry entry/);
    const usage = await cli(['registry', 'frobnicate'], app);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /unknown registry action "frobnicate"/);
  });
});

describe('the agents loader', () => {
  class CalculatorAgent extends AutoAgent {
    static override role = 'calculator';
    static override systemPrompt = 'You are a math expert.';
  }
  const writer = defineAgent({ role: 'writer', capabilities: [], systemPrompt: 'You write.' });
  const tool = defineTool({ name: 'db.query', description: 'Runs SQL', run: () => [] });

  test('accepts `agents`, a default array, and named exports', () => {
    const a = agentsFromModule({ agents: [CalculatorAgent, writer, { agent: writer, tools: [tool] }] }, './a.ts');
    assert.deepEqual(
      a.agents.map((x) => x.source),
      ['agents[0]', 'agents[1]', 'agents[2]'],
    );
    assert.equal(a.agents[2]?.options.tools?.length, 1);
    const d = agentsFromModule({ default: [writer] }, './d.ts');
    assert.equal(d.agents[0]?.agent, writer);
    const n = agentsFromModule({ CalculatorAgent, writer, tool, VERSION: '1.0', default: CalculatorAgent }, './n.ts');
    assert.deepEqual(
      n.agents.map((x) => x.source),
      ['CalculatorAgent', 'writer'],
    );
  });

  test('a class from another automesh installation runs from its static fields, with a warning', () => {
    const Foreign = class AutoAgent {};
    class Poet extends Foreign {
      static role = 'poet';
      static capabilities = ['poetry'];
      static systemPrompt = 'You write poems.';
      rhyme(): string {
        return 'moon';
      }
    }
    const { agents, warnings } = agentsFromModule({ agents: [Poet] }, './p.ts');
    assert.deepEqual(agents[0]?.agent, { role: 'poet', capabilities: ['poetry'], systemPrompt: 'You write poems.' });
    assert.match(
      warnings[0] ?? '',
      /agents\[0\] extends the AutoAgent of another automesh installation.*\(rhyme\) are not used/,
    );
  });

  test('bad entries are named', () => {
    assert.throws(
      () => agentsFromModule({ agents: [CalculatorAgent, 'writer'] }, './a.ts'),
      /\.\/a\.ts: agents\[1\] is a string "writer"/,
    );
    assert.throws(
      () => agentsFromModule({ agents: CalculatorAgent }, './a.ts'),
      /the export "agents" must be an array/,
    );
    assert.throws(
      () => agentsFromModule({ agents: [{ agent: writer, tool: [tool] }] }, './a.ts'),
      /agents\[0\] has unknown key "tool"/,
    );
    assert.throws(() => agentsFromModule({}, './e.ts'), /\.\/e\.ts exports no agents\. It exports nothing\./);
  });
});

describe('automesh run and its errors, as a new user meets them', () => {
  test('a task that mentions workflow.json is a task; --agent with a workflow file is named as the mistake', async () => {
    writeFileSync(
      join(app, 'workflow.json'),
      JSON.stringify({ steps: [{ agent: 'calculator', task: 'Calculate 2**10' }] }),
    );
    const r = await cli(['run', '--agent', 'calculator', 'Explain workflow.json'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /started \(calculator\) Explain workflow\.json/);
    assert.match(r.stdout, /^output: "workflow\.json lists the steps of a workflow"$/m);

    const mixed = await cli(['run', '--agent', 'calculator', 'pipeline.json'], app);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /^error: pipeline\.json is a workflow file, and --agent is for a single task$/m);
  });

  test('a usage error prints the one wrong thing and a hint, not the help', async () => {
    const r = await cli(['run', '--agnet', 'calculator', 'Calculate 2**10'], app);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      'error: unknown option --agnet for run',
      'hint: did you mean --agent? (automesh run --help lists the options)',
    ]);
    const missing = await cli(['run', '--agents'], app);
    assert.deepEqual(missing.stderr.trimEnd().split('\n'), [
      'error: --agents needs a value',
      'hint: automesh run --help lists the options',
    ]);
    const verb = await cli(['regsitry', 'list'], app);
    assert.match(verb.stderr, /^error: unknown command "regsitry"\nhint: did you mean registry\?/);
    const action = await cli(['logs', '--json'], app);
    assert.doesNotMatch(action.stdout + action.stderr, /Usage:|Options:/);
  });

  test('with --json every error is one JSON object on stdout', async () => {
    const parse = (r: {
      stdout: string;
    }): { ok: boolean; error: string; kind: string; details: string[]; hint: string | null } =>
      JSON.parse(r.stdout) as { ok: boolean; error: string; kind: string; details: string[]; hint: string | null };
    const usage = await cli(['run', '--json', '--agnet', 'calculator', 'x'], app);
    assert.equal(usage.code, 1);
    assert.equal(usage.stderr, '');
    assert.deepEqual(parse(usage), {
      ok: false,
      error: 'unknown option --agnet for run',
      kind: 'usage',
      details: [],
      hint: 'did you mean --agent? (automesh run --help lists the options)',
    });

    const noAgents = await cli(['run', '--json', '--agents', './nope.ts', 'Calculate 2**10'], app);
    assert.equal(noAgents.code, 1);
    assert.equal(noAgents.stderr, '');
    assert.match(parse(noAgents).error, /Agents file \.\/nope\.ts not found/);

    writeFileSync(join(app, 'typo.json'), JSON.stringify([{ agent: 'calculator', task: 'a', dependsOn: ['nowhere'] }]));
    const invalid = await cli(['run', '--json', 'typo.json'], app);
    assert.equal(invalid.code, 1);
    const report = parse(invalid);
    assert.equal(report.kind, 'error');
    assert.match(report.error, /typo\.json is invalid \(1 problem\)/);
    assert.match(report.details[0] ?? '', /nowhere/);

    for (const args of [
      ['logs', 'show', 'no-such-result', '--json'],
      ['registry', 'show', 'fn_0000000000000000', '--json'],
      ['registry', 'rm', 'fn_0000000000000000', '--json'],
    ]) {
      const r = await cli(args, app);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, '', args.join(' '));
      assert.match(parse(r).error, /^no (result|registry entry) "/, args.join(' '));
    }
    const text = await cli(['registry', 'show', 'fn_0000000000000000'], app);
    assert.equal(text.stdout, '');
    assert.match(
      text.stderr,
      /^error: no registry entry "fn_0000000000000000"\nhint: automesh registry list shows the ids\n$/,
    );
  });

  test('a damaged step record affects only its step: the next run runs that step again, the rest are recovered', async () => {
    const first = await cli(['run', '--id', 'damaged', 'pipeline.json', '--json'], app);
    assert.equal(first.code, 0, `${first.stderr}${first.stdout}`);
    // A disk problem or a hand edit breaks the record of the second step.
    const db = new (createRequire(import.meta.url)('better-sqlite3'))(databasePath(logDir));
    try {
      db.prepare(
        "UPDATE workflow_steps SET body = '{ not json' WHERE workflow_id = 'damaged' AND step_id = 'sum'",
      ).run();
    } finally {
      db.close();
    }
    const again = await cli(['run', '--id', 'damaged', 'pipeline.json', '--json'], app);
    assert.equal(again.code, 0, `${again.stderr}${again.stdout}`);
    const result = JSON.parse(again.stdout) as {
      steps: Array<{ stepId: string; output: unknown; recovered?: boolean }>;
    };
    assert.deepEqual(
      result.steps.map((s) => [s.stepId, s.output, s.recovered ?? false]),
      [
        ['fibonacci', [1, 1, 2, 3, 5, 8, 13, 21], true],
        ['sum', 54, false],
      ],
    );
  });

  test('filters that match nothing say so, and what there is', async () => {
    const golden = await cli(['registry', 'list', '--stage', 'golden'], app);
    assert.equal(golden.code, 0, golden.stderr);
    assert.match(
      golden.stdout,
      /^No registry entry matches --stage golden\. The registry holds \d+ entr(y|ies) \(0 candidate, \d+ verified, 0 golden; roles calculator\)\.$/m,
    );
    assert.doesNotMatch(golden.stdout, /empty/);
    const nobody = await cli(['logs', 'list', '--role', 'nobody'], app);
    assert.equal(nobody.code, 0, nobody.stderr);
    assert.match(nobody.stdout, /^No results of role "nobody"; other roles have some/m);
    assert.doesNotMatch(nobody.stdout, /yet/);
  });

  test('.env names that look like settings get "did you mean"', async () => {
    const dir = join(work, 'typo-env');
    mkdirSync(dir);
    writeFileSync(join(dir, '.env'), 'LLM_TIMOUT=30\nMY_APP_PORT=8080\n');
    const r = await cli(['run', '--agents', join(app, 'agents.ts'), '--agent', 'calculator', 'Calculate 2**10'], dir);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.match(
      r.stderr,
      /warning: \.env sets LLM_TIMOUT, which is not an automesh setting \(ignored\): did you mean LLM_TIMEOUT\?/,
    );
    assert.doesNotMatch(r.stderr, /MY_APP_PORT/);
  });
});

describe('retries and failovers show live', () => {
  test('a task: the retry of a failing provider is printed while the task waits', async () => {
    server.script('vllm', { kind: 'error', status: 503, message: 'The server is overloaded, try again' });
    const r = await cli(['run', '--agent', 'calculator', 'Calculate 5**2'], app, {
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_MAX_DELAY: '1',
    });
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const lines = r.stdout.split('\n');
    const retry = lines.findIndex((l) =>
      /^\+[\d.]+s calculator: retry vllm in [\d.]+ s after try 1 failed: \w+: .*overloaded/.test(l),
    );
    const done = lines.findIndex((l) => /^\+[\d.]+s calculator: success/.test(l));
    assert.ok(retry > 0 && retry < done, r.stdout);
  });

  test('a workflow step: the mesh emits llm:failover and the progress shows it', async () => {
    writeFileSync(
      join(app, 'square.json'),
      JSON.stringify({ steps: [{ id: 'square', agent: 'calculator', task: 'Calculate 6**2' }] }),
    );
    server.script('vllm', { kind: 'error', status: 401, message: 'Invalid API key' });
    server.respond('claude', () => answer('result = 6 ** 2;'));
    try {
      const r = await cli(['run', '--fresh', 'square.json'], app, {
        LLM_PROVIDER_ORDER: 'vllm,claude',
        CLAUDE_API_KEY: 'sk-ant-test-0123456789abcdef',
        CLAUDE_ENDPOINT: server.anthropicBaseUrl,
      });
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      assert.match(r.stdout, /^\+[\d.]+s square: failover vllm → claude after 1 try: auth: Invalid API key$/m);
      assert.match(r.stdout, /^square\s+calculator\s+success\s+0\s.*36$/m);
    } finally {
      server.respond('claude', null);
    }
  });
});

describe('model-written text on the terminal', () => {
  test('run, logs show and registry show print escape sequences visibly; --json keeps them as data', async () => {
    const r = await cli(['run', '--agent', 'calculator', 'Greet the terminal'], app);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.ok(
      !r.stdout.includes('\x1b') && !r.stdout.includes('\x07'),
      `raw control characters reached the terminal:\n${JSON.stringify(r.stdout)}`,
    );
    assert.match(r.stdout, /\\x1b\]0;pwned-title\\x07\\x1b\[2J cleared/);
    assert.match(r.stdout, /\\x1b\]52;c;c2VjcmV0\\x07 copied/);
    const resultId = /automesh logs show ([\w.-]+)\)/.exec(r.stdout)?.[1] ?? '';
    const functionId = /automesh registry show (fn_\w+)/.exec(r.stdout)?.[1] ?? '';

    const json = await cli(['run', '--json', '--agent', 'calculator', 'Greet the terminal'], app);
    const envelope = JSON.parse(json.stdout) as { output: string; logs: string[]; code: string };
    assert.equal(envelope.output, 'hi \x1b[31mred');
    assert.ok(envelope.logs.some((l) => l.includes('\x1b]52;c;c2VjcmV0\x07')));

    const shown = await cli(['logs', 'show', resultId], app);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(!shown.stdout.includes('\x1b'), JSON.stringify(shown.stdout));
    assert.match(shown.stdout, /\\x1b\[2J cleared/);
    const entry = await cli(['registry', 'show', functionId], app);
    assert.equal(entry.code, 0, entry.stderr);
    assert.ok(!entry.stdout.includes('\x1b'), JSON.stringify(entry.stdout));
    assert.match(entry.stdout, /\\x1b\]0;pwned-title/);
    const entryJson = JSON.parse((await cli(['registry', 'show', functionId, '--json'], app)).stdout) as {
      code: string;
    };
    assert.ok(entryJson.code.includes('\x1b]0;pwned-title\x07'));
  });

  test("logs show prints each attempt's raw model reply, and says when it was cut", async () => {
    const resultId = 'mx0000aa-0123456789';
    const attempt = (reply: string | null, replyTruncated: boolean, error: string | null): Record<string, unknown> => ({
      code: error ? null : 'result = 7;',
      error,
      errorCategory: error ? 'no_result' : null,
      provider: 'vllm',
      model: 'qwen2.5-coder-32b-instruct',
      tokens: { input: 300, output: 40, total: 340 },
      durationMs: 120,
      reply,
      replyTruncated,
    });
    const storage = openSqliteStorage(databasePath(logDir));
    await storage.results.save({
      resultId,
      role: 'calculator',
      task: 'Calculate 7',
      createdAt: '2026-11-30T12:00:00.000Z',
      promptHashes: {},
      envelope: {
        status: 'success',
        output: 7,
        code: 'result = 7;',
        repairs: 1,
        executionTime: 0.4,
        tokens: { input: 600, output: 80, total: 680 },
        costUsd: 0,
        resultId,
        functionId: null,
        error: null,
        errorCategory: null,
        cached: false,
        logs: [],
        agentId: 'calculator-1',
        role: 'calculator',
        provider: 'vllm',
        model: 'qwen2.5-coder-32b-instruct',
        attempts: [
          attempt(
            'I think the answer is seven. Let me know if you need anything else!',
            false,
            'The reply has no code block.',
          ),
          attempt(
            'Here it is:\n\n```javascript\nresult = 7;\n```\n\nThe answer is stored in `result` and expla',
            true,
            null,
          ),
        ],
      },
    });
    await storage.close();
    const r = await cli(['logs', 'show', resultId], app);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^attempt 1: no_result: The reply has no code block\. \(vllm\)\n {2}reply:\n {2}\| I think the answer is seven\. Let me know if you need anything else!$/m,
    );
    assert.match(
      r.stdout,
      /^attempt 2: ok \(vllm\)\n {2}reply: \(truncated: the reply was longer\)\n {2}\| Here it is:\n {2}\| \n {2}\| ```javascript\n {2}\| result = 7;\n/m,
    );
  });
});
