#!/usr/bin/env bash
# Brings the whole tree under `npm run lint`, once: widens `files.includes` in biome.jsonc from the files that were
# already clean to every .ts, .mjs and .js file git does not ignore, formats them, applies Biome's safe fixes (and the
# removal of unused imports), then checks. Run it on a clean checkout of main and commit the result as one change.
# Exits non-zero, listing them, when findings remain that need a person (they are real faults, not style).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "$(git status --porcelain)" ]; then
  echo "lint-fix-all: the working tree has uncommitted changes; commit or remove them first, so that the" >&2
  echo "              formatting lands as a change of its own." >&2
  exit 1
fi

biome=node_modules/.bin/biome
if [ ! -x "$biome" ]; then
  echo "lint-fix-all: $biome is missing; run npm ci first." >&2
  exit 1
fi

echo "== widening files.includes in biome.jsonc to the whole tree"
node - <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const path = 'biome.jsonc';
const text = readFileSync(path, 'utf8');
// The `files` section: its comment lines and its `includes` list.
const narrowed = /"files": \{\n(?:[ \t]*\/\/[^\n]*\n)*([ \t]*)"includes": \[[^\]]*\]/;
if (!narrowed.test(text) || text.includes('"includes": ["**/*.ts"')) {
  console.error('lint-fix-all: biome.jsonc has no narrowed files.includes (already widened?); nothing to widen.');
  process.exit(1);
}
const whole = '"files": {\n'
  + '$1// Every source file git does not ignore (node_modules, dist, logs are ignored).\n'
  + '$1"includes": ["**/*.ts", "**/*.mjs", "**/*.js", "biome.jsonc"]';
writeFileSync(path, text.replace(narrowed, whole));
JS

echo "== formatting and safe fixes (biome check --write, twice: a second pass settles a few layouts)"
"$biome" check --write --max-diagnostics=0 >/dev/null 2>&1 || true
"$biome" check --write --max-diagnostics=0 >/dev/null 2>&1 || true

echo "== removing unused imports (Biome marks this fix unsafe only because an import could have side effects;"
echo "   named imports, the only ones it removes, have none)"
"$biome" lint --write --unsafe --only=correctness/noUnusedImports --max-diagnostics=0 >/dev/null 2>&1 || true

echo "== typecheck (formatting must not change what the code means)"
npm run --silent typecheck

echo "== npm run lint"
if npm run --silent lint; then
  echo
  echo "lint-fix-all: the whole tree is clean. Review with 'git diff --stat', run 'npm test', and commit:"
  echo "  git commit -am 'Format and lint the whole tree with Biome (scripts/lint-fix-all.sh)'"
else
  echo
  echo "lint-fix-all: formatting and safe fixes are applied; the findings above need a person (fix each, or"
  echo "              disable its rule in biome.jsonc with the reason), then run 'npm run lint' again." >&2
  exit 1
fi
