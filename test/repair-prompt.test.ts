// What the model is told (src/agent/repair-prompt.ts, with the templates in prompts/): the task on the first call;
// on a repair, the failed code, its error with category and line, its console output and the earlier failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { type Failure, systemMessage, userMessage } from '../src/agent/repair-prompt.js';
import { defineTool, loadPromptTemplates } from '../src/index.js';

const prompts = loadPromptTemplates();
const TASK = '  Sum the revenue of context.rows  ';

function failure(extra: Partial<Failure>): Failure {
  return {
    code: 'result = rows.reduce((s, r) => s + r.revenue, 0)',
    category: 'runtime',
    error: 'ReferenceError: rows is not defined (at line 1, column 10)',
    line: 1,
    logs: [],
    warning: null,
    ...extra,
  };
}

test('the first call tells the task, trimmed, and nothing of a failure', () => {
  const text = userMessage(prompts, TASK, []);
  assert.equal(text, 'Task: Sum the revenue of context.rows');
  assert.doesNotMatch(text, /failed/);
});

test('a repair shows the failed code, the category and line, the error, the console output', () => {
  const text = userMessage(prompts, TASK, [failure({ logs: ['[warn] rows missing', 'done'] })]);
  assert.match(text, /Your code failed\. Fix it and answer with the whole corrected program\./);
  assert.match(text, /```javascript\nresult = rows\.reduce\(\(s, r\) => s \+ r\.revenue, 0\)\n```/);
  assert.match(text, /The error \(runtime, line 1\):\nReferenceError: rows is not defined/);
  assert.match(text, /Console output of that run:\n\[warn\] rows missing\ndone/);
  assert.doesNotMatch(text, /Earlier attempts/);
});

test('a reply with no code, and what the extraction noticed, are said as such', () => {
  const text = userMessage(prompts, TASK, [
    failure({
      code: null,
      category: 'syntax',
      error: 'The reply held no code block.',
      line: null,
      warning: 'Note: the reply had 2 code blocks.',
    }),
  ]);
  assert.match(text, /\(no code was found in your reply\)/);
  assert.match(text, /The error \(syntax\):\nThe reply held no code block\.\nNote: the reply had 2 code blocks\./);
  assert.match(text, /Console output of that run:\n\(none\)/);
});

test('earlier failures are listed one line each; long console output is cut', () => {
  const text = userMessage(prompts, TASK, [
    failure({ error: 'TypeError: first\nstack line' }),
    failure({ category: 'timeout', error: 'Execution timed out after 5000 ms' }),
    failure({ category: 'schema', error: 'result.total: expected number', line: null, logs: ['x'.repeat(5000)] }),
  ]);
  assert.match(
    text,
    /Earlier attempts that also failed \(do not repeat them\):\nAttempt 1 failed with runtime: TypeError: first\nAttempt 2 failed with timeout: Execution timed out after 5000 ms$/,
  );
  assert.match(text, /The error \(schema\):\nresult\.total: expected number/);
  assert.match(text, /x{4000}\n\.\.\. \(cut\)/);
});

test("the system message carries the agent's prompt, its tools, the context shape and the output", () => {
  const query = defineTool({
    name: 'db.query',
    description: 'Runs SQL',
    input: z.tuple([z.string()]),
    run: async () => [],
  });
  const text = systemMessage(prompts, {
    systemPrompt: '  You analyse sales.  ',
    tools: [query],
    context: { rows: [{ revenue: 1 }] },
    output: 'any JSON data',
  });
  assert.match(text, /You analyse sales\./);
  assert.match(text, /db\.query/);
  assert.match(text, /rows/);
  assert.match(text, /any JSON data/);
});
