import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../../src/engine/config';
import { InputError } from '../../src/engine/errors';

function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err.lines;
  }
  assert.fail('expected an error');
}

test('users.workers: "auto" or a whole number of threads, each mistake one line', () => {
  assert.deepEqual(validateConfig({ users: { workers: 'auto' } }, 'c.json'), { users: { workers: 'auto' } });
  assert.deepEqual(validateConfig({ users: { workers: 4 } }, 'c.json'), { users: { workers: 4 } });
  assert.deepEqual(errorLines(() => validateConfig({ users: { workers: 'many' } }, 'c.json')), ['c.json: $.users.workers: expected a string matching ^auto$, got "many"']);
  assert.deepEqual(errorLines(() => validateConfig({ users: { workers: 0 } }, 'c.json')), ['c.json: $.users.workers: expected >= 1, got 0']);
});

test('a valid config passes unchanged', () => {
  const config = { target: { url: 'http://127.0.0.1:4000/graphql', authorizationEnv: 'API_TOKEN' }, api: { requests: 1000, connections: 100 }, thresholds: { 'api.p95': 80 } };
  assert.deepEqual(validateConfig(config, 'phase3.config.json'), config);
});

test('each problem is one line naming its JSON path and what was expected', () => {
  const lines = errorLines(() =>
    validateConfig({ api: { connections: 0, requests: 'many' }, target: { url: 'ftp://x', colour: 'red' }, thresholds: { 'api.p97': 1 } }, 'phase3.config.json'),
  );
  assert.ok(lines.includes('phase3.config.json: $.api.connections: expected >= 1, got 0'), lines.join('\n'));
  assert.ok(lines.includes('phase3.config.json: $.api.requests: expected integer, got "many"'), lines.join('\n'));
  assert.ok(lines.includes('phase3.config.json: $.target.colour: unknown property'), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('phase3.config.json: $.target.url: expected a string matching')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('$.thresholds["api.p97"]') || l.includes('$.thresholds.api.p97')), lines.join('\n'));
  assert.ok(lines.every((l) => !l.includes('\n')));
});

test('bodyFile and query together are refused', () => {
  const lines = errorLines(() => validateConfig({ request: { bodyFile: 'q.json', query: '{ a }' } }, 'c.json'));
  assert.deepEqual(lines, ['c.json: $.request: give either bodyFile or query, not both']);
});

test('a JSON syntax error names the file, line and column', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-config-'));
  const file = path.join(dir, 'phase3.config.json');
  fs.writeFileSync(file, '{\n  "target": {\n    "url": "http://127.0.0.1:1/graphql",\n  }\n}\n');
  try {
    const lines = errorLines(() => loadConfigFile(file));
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:3: invalid JSON`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing config file is one clear line', () => {
  const lines = errorLines(() => loadConfigFile('/nonexistent/phase3.config.json'));
  assert.deepEqual(lines, ['/nonexistent/phase3.config.json: cannot read the config file (no such file)']);
});
