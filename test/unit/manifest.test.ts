import { test } from 'node:test';
import assert from 'node:assert/strict';
import manifest from '../../package.json';
import { TASK_IDS } from '../../src/shared/result';
import { IMPLEMENTED_TASKS } from '../../src/engine/tasks/catalog';

// ids.ts imports only types from vscode-free modules, so it loads under plain node.
import { Commands, ContextKeys, TaskCommands, Views } from '../../src/extension/ids';

const contributed = manifest.contributes.commands.map((c) => c.command);

test('every command id in ids.ts is contributed in package.json, and nothing else is', () => {
  const ids = [...Object.values(Commands), ...Object.values(TaskCommands).map((c) => c?.id)].sort();
  assert.deepEqual([...contributed].sort(), ids);
});

test('every built task has its palette command, titled as ids.ts says', () => {
  for (const task of IMPLEMENTED_TASKS) {
    const command = TaskCommands[task];
    assert.ok(command, `no command for ${task}`);
    const entry = manifest.contributes.commands.find((c) => c.command === command.id);
    assert.equal(entry?.title, command.title);
    assert.equal(entry?.category, 'Phase 3');
  }
  assert.ok(TASK_IDS.length >= IMPLEMENTED_TASKS.length);
});

test('views, menus and when-clauses use the ids of ids.ts', () => {
  assert.equal(manifest.contributes.viewsContainers.activitybar[0].id, Views.container);
  assert.equal(manifest.contributes.views.phase3[0].id, Views.results);
  const menuCommands = Object.values(manifest.contributes.menus).flat().map((m) => m.command);
  for (const c of menuCommands) assert.ok(contributed.includes(c), `menu names unknown command ${c}`);
  const whens = Object.values(manifest.contributes.menus).flat().map((m) => m.when).join(' ');
  for (const key of whens.match(/phase3\.[a-zA-Z]+/g) ?? []) {
    assert.ok([...Object.values(ContextKeys), Views.results].includes(key as never), `unknown context key ${key}`);
  }
});

test('the manifest stays within what code-server 4.100 (VS Code 1.100) runs', () => {
  assert.equal(manifest.engines.vscode, '^1.100.0');
  assert.equal(manifest.devDependencies['@types/vscode'], '1.100.0');
});
