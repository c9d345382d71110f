/**
 * A worker node for bench/distributed.ts: a distributed Mesh with one AutoAgent (role {@link NODE_ROLE}) that takes
 * its workflow steps from the work queue. Prints one JSON line once `start()` has resolved and one as each model call
 * begins (which node runs which step: the bench SIGKILLs the node running a step), each with the wall-clock time;
 * stops cleanly on SIGTERM.
 *
 * Usage: node --import tsx bench/lib/distributed-node.ts INDEX CONFIG_JSON   (CONFIG_JSON: the mesh's settings)
 */
import { performance } from 'node:perf_hooks';
import { defineAgent, Mesh, type SettingsInput } from '../../src/index.js';

export const NODE_ROLE = 'calculator';

/** The lines a node prints, one JSON object each. */
export type NodeLine =
  | { event: 'ready'; at: number; pid: number }
  | { event: 'model'; at: number; task: string }
  | { event: 'stopped'; at: number };

export function calculatorAgent(role = NODE_ROLE) {
  return defineAgent({
    role,
    capabilities: ['arithmetic'],
    systemPrompt: 'You write small JavaScript programs that compute from the step context.',
  });
}

const wallClock = (): number => performance.timeOrigin + performance.now();

function say(line: NodeLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function serve(config: SettingsInput): Promise<void> {
  const mesh = new Mesh({
    mode: 'distributed',
    config,
    middleware: {
      model: [
        {
          wrapGenerate: ({ request, doGenerate }) => {
            say({ event: 'model', at: wallClock(), task: request.messages.at(-1)?.content.slice(0, 200) ?? '' });
            return doGenerate();
          },
        },
      ],
    },
  });
  mesh.add(calculatorAgent());
  await mesh.start();
  say({ event: 'ready', at: wallClock(), pid: process.pid });
  // The bench holds this process's stdin open: when the bench dies however it dies, the node ends too.
  process.stdin.on('end', () => process.exit(1));
  process.stdin.resume();
  process.once('SIGTERM', () => {
    void mesh.stop().finally(() => {
      say({ event: 'stopped', at: wallClock() });
      process.exit(0);
    });
  });
}

const [index, configJson] = process.argv.slice(2);
if (index !== undefined && configJson && process.argv[1]?.endsWith('distributed-node.ts')) {
  await serve(JSON.parse(configJson) as SettingsInput);
}
