// A user's project folder for CLI tests: package.json (an ES module), automesh installed as a link to this
// repository (what `npm install` of a file: dependency makes), and an agents.ts with the given lines.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A new project folder (removed after the test file) whose agents.ts holds `agentsLines`. */
export function agentsProject(name: string, agentsLines: readonly string[]): string {
  const app = tempDir(name);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'automesh'), 'dir');
  writeFileSync(join(app, 'agents.ts'), agentsLines.join('\n'));
  return app;
}
