import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPlan, parseTaskList, type RunPlan } from '../../src/engine/plan';
import type { ApiOptions } from '../../src/engine/tasks/api';
import type { LoadedConfig, Phase3Config } from '../../src/engine/config';
import { InputError } from '../../src/engine/errors';

const loaded = (config: Phase3Config, baseDir = os.tmpdir()): LoadedConfig => ({ config, file: path.join(baseDir, 'phase3.config.json'), baseDir });
const URL_OK = 'http://127.0.0.1:4000/graphql';

/** The API task's options of a plan (the first task, by construction of these tests). */
function apiOf(plan: RunPlan): ApiOptions {
  const spec = plan.tasks.find((t) => t.task === 'api');
  assert.ok(spec && spec.task === 'api');
  return spec.options;
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.message;
  }
  assert.fail('expected an error');
}

test('ab-like defaults: 1000 requests on 100 connections, POST JSON', () => {
  const plan = buildPlan(['api'], loaded({ target: { url: URL_OK } }), {}, {}, os.tmpdir());
  const options = apiOf(plan);
  assert.equal(options.requests, 1000);
  assert.equal(options.connections, 100);
  assert.equal(options.request.method, 'POST');
  assert.equal(options.request.headers['content-type'], 'application/json');
  assert.equal(options.request.body, '{"query":"{ __typename }"}');
});

test('command-line overrides beat the config; a duration replaces the count', () => {
  const plan = buildPlan(['api'], loaded({ target: { url: URL_OK }, api: { requests: 5000 } }), { durationS: 3, connections: 20 }, {}, os.tmpdir());
  const o = apiOf(plan);
  assert.equal(o.durationS, 3);
  assert.equal(o.requests, undefined);
  assert.equal(o.connections, 20);
});

test('load to a host off this machine needs the user to say so', () => {
  const m = message(() => buildPlan(['api'], loaded({ target: { url: 'https://api.example.com/graphql' } }), {}, {}, os.tmpdir()));
  assert.match(m, /refusing to send load to api\.example\.com/);
  const plan = buildPlan(['api'], loaded({ target: { url: 'https://api.example.com/graphql' } }), { allowRemote: true }, {}, os.tmpdir());
  assert.equal(plan.tasks.length, 1);
});

test('the Authorization header comes from the named environment variable and is a secret', () => {
  const config = { target: { url: URL_OK, authorizationEnv: 'PHASE3_TEST_TOKEN' } };
  assert.match(message(() => buildPlan(['api'], loaded(config), {}, {}, os.tmpdir())), /\$\.target\.authorizationEnv: environment variable PHASE3_TEST_TOKEN is not set/);
  const plan = buildPlan(['api'], loaded(config), {}, { PHASE3_TEST_TOKEN: 'Bearer tok-123456' }, os.tmpdir());
  assert.equal(apiOf(plan).request.headers.authorization, 'Bearer tok-123456');
  assert.ok(plan.secrets.includes('tok-123456'));
});

test('the body file is the user query.json; a bad one names the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-plan-'));
  try {
    fs.writeFileSync(path.join(dir, 'query.json'), '{"query":"{ users { id } }","variables":{}}');
    const plan = buildPlan(['api'], loaded({ target: { url: URL_OK }, request: { bodyFile: 'query.json' } }, dir), {}, {}, dir);
    assert.equal(apiOf(plan).request.body, '{"query":"{ users { id } }","variables":{}}');
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"variables":{}}');
    assert.match(message(() => buildPlan(['api'], loaded({ target: { url: URL_OK } }, dir), { bodyFile: 'bad.json' }, {}, dir)), /bad\.json: \$\.query: expected a GraphQL query string/);
    assert.match(message(() => buildPlan(['api'], loaded({ target: { url: URL_OK } }, dir), { bodyFile: 'missing.json' }, {}, dir)), /--body: cannot read .*missing\.json \(no such file\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PHASE3_DB_URL gives the database; the result target is redacted', () => {
  const plan = buildPlan(['api'], loaded({ target: { url: URL_OK } }), {}, { PHASE3_DB_URL: 'postgres://app:pw-secret@127.0.0.1:5433/yb' }, os.tmpdir());
  assert.equal(plan.target.db, 'postgres://app:***@127.0.0.1:5433/yb');
  assert.equal(plan.dbUrl, 'postgres://app:pw-secret@127.0.0.1:5433/yb');
  assert.ok(plan.secrets.includes('pw-secret'));
});

test('fewer requests than connections, a missing URL and unknown tasks are refused', () => {
  assert.match(message(() => buildPlan(['api'], loaded({ target: { url: URL_OK } }), { requests: 10, connections: 50 }, {}, os.tmpdir())), /--requests \(10\) must be at least --connections \(50\)/);
  assert.match(message(() => buildPlan(['api'], loaded({}), {}, {}, os.tmpdir())), /no target URL/);
  assert.match(message(() => parseTaskList(['api', 'nope'])), /unknown task "nope"/);
  assert.deepEqual(parseTaskList(['all']), ['api', 'usage-buffer', 'db', 'users']);
});

test('all: every task is planned, db alongside the load tasks', () => {
  const plan = buildPlan(parseTaskList(['all']), loaded({ target: { url: URL_OK } }), { dbUrl: 'postgres://u@127.0.0.1:5433/yb' }, {}, os.tmpdir());
  assert.deepEqual(plan.tasks.map((t) => t.task), ['api', 'users', 'usage-buffer', 'db']);
  assert.deepEqual(plan.notImplemented, []);
});

test('db: alone it probes for its duration; with load tasks it runs alongside them until they finish', () => {
  const dbUrl = 'postgres://u:pw@127.0.0.1:5433/yb';
  const alone = buildPlan(['db'], loaded({ db: { durationS: 12 } }), { dbUrl }, {}, os.tmpdir());
  assert.ok(alone.tasks[0].task === 'db' && !alone.tasks[0].alongside);
  assert.equal(alone.tasks[0].options.durationS, 12);
  const under = buildPlan(['api', 'db'], loaded({ target: { url: URL_OK } }), { dbUrl }, {}, os.tmpdir());
  assert.deepEqual(under.tasks.map((t) => [t.task, t.alongside ?? false]), [['api', false], ['db', true]]);
  assert.match(message(() => buildPlan(['db'], loaded({ db: { metricsUrls: ['http://yb-node-1:9000'] } }), { dbUrl }, {}, os.tmpdir())), /refusing to scrape yb-node-1/);
  assert.match(message(() => buildPlan(['db'], loaded({}), {}, {}, os.tmpdir())), /db needs a database/);
});

test('usage-buffer: needs a database or a script; flags beat the config; keys are named after the run', () => {
  assert.match(message(() => buildPlan(['usage-buffer'], loaded({}), {}, {}, os.tmpdir())), /usage-buffer needs a database/);
  const plan = buildPlan(['usage-buffer'], loaded({ usageBuffer: { operations: 500, concurrency: 5, table: { name: 'usage_buffer' } } }), { concurrency: 20, dbUrl: 'postgres://u:pw@127.0.0.1:5432/db' }, {}, os.tmpdir());
  const spec = plan.tasks[0];
  assert.ok(spec.task === 'usage-buffer');
  assert.equal(spec.options.operations, 500);
  assert.equal(spec.options.concurrency, 20);
  assert.equal(spec.options.table.name, 'usage_buffer');
  assert.equal(spec.options.table.userId, 'userId', 'the other columns keep the default shape');
  assert.equal(spec.options.runId, plan.runId);
  assert.match(message(() => buildPlan(['usage-buffer'], loaded({}), { operations: 0, dbUrl: 'postgres://u@h/db' }, {}, os.tmpdir())), /--ops: expected a whole number/);
});

test('users: stages from --stages or the config, think time and interval; a bad spec names its part', () => {
  const plan = buildPlan(['users'], loaded({ target: { url: URL_OK }, users: { stages: '10s:50,1m:50,10s:0', thinkTimeMs: 250 } }), { intervalS: 2 }, {}, os.tmpdir());
  const spec = plan.tasks[0];
  assert.ok(spec.task === 'users');
  assert.deepEqual(spec.options.stages, [{ durationS: 10, target: 50 }, { durationS: 60, target: 50 }, { durationS: 10, target: 0 }]);
  assert.equal(spec.options.thinkTimeMs, 250);
  assert.equal(spec.options.intervalMs, 2000);
  assert.match(message(() => buildPlan(['users'], loaded({ target: { url: URL_OK } }), { stages: '1m:100,5x:500' }, {}, os.tmpdir())), /part 2 "5x:500"/);
});

test('users: load threads adapt unless --workers or the config fixes them; a bad count is one line', () => {
  const usersOf = (p: ReturnType<typeof buildPlan>) => {
    const spec = p.tasks[0];
    assert.ok(spec.task === 'users');
    return spec.options;
  };
  assert.equal(usersOf(buildPlan(['users'], loaded({ target: { url: URL_OK } }), {}, {}, os.tmpdir())).workers, undefined);
  assert.equal(usersOf(buildPlan(['users'], loaded({ target: { url: URL_OK }, users: { workers: 'auto' } }), {}, {}, os.tmpdir())).workers, undefined);
  assert.equal(usersOf(buildPlan(['users'], loaded({ target: { url: URL_OK }, users: { workers: 2 } }), {}, {}, os.tmpdir())).workers, 2);
  assert.equal(usersOf(buildPlan(['users'], loaded({ target: { url: URL_OK }, users: { workers: 2 } }), { workers: 3 }, {}, os.tmpdir())).workers, 3);
  assert.match(message(() => buildPlan(['users'], loaded({ target: { url: URL_OK } }), { workers: 0 }, {}, os.tmpdir())), /^--workers: expected a whole number of load threads from 1 to 64, got 0$/);
  assert.match(message(() => buildPlan(['users'], loaded({ target: { url: URL_OK } }), { workers: 1.5 }, {}, os.tmpdir())), /got 1\.5$/);
});
