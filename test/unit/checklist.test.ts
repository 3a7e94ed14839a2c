import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  applyEdits,
  fillChecklist,
  matchItem,
  newChecklist,
  phase3Items,
  RESULTS_BLOCK_END,
  RESULTS_BLOCK_START,
  type ChecklistOutcome,
} from '../../src/engine/checklist';
import { InputError } from '../../src/engine/errors';
import type { RunResult } from '../../src/shared/result';
import { newerRun, olderRun, passingRun, troubledRun } from '../fixtures/checklists/runs';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'checklists');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const SCREENSHOT = 'phase3-charts/phase3-api-latency.png';

/** Phase 3's range found without the writer's parser: its `## Phase 3` line to the next `#`/`##` heading line. */
function phase3Range(md: string): { start: number; end: number } {
  const start = md.search(/^## Phase 3/m);
  assert.ok(start >= 0, 'the fixture has a Phase 3 heading');
  const body = md.indexOf('\n', start) + 1;
  const next = md.slice(body).search(/^##? /m);
  return { start, end: next < 0 ? md.length : body + next };
}

/** Every check that holds for any write: edits reproduce the output, stay inside Phase 3, and nothing around it moved. */
function assertSound(input: string, outcome: ChecklistOutcome): void {
  assert.equal(applyEdits(input, outcome.edits), outcome.markdown, 'applying the edits to the input gives the output');
  for (let i = 1; i < outcome.edits.length; i++) {
    assert.ok(outcome.edits[i].start > outcome.edits[i - 1].end, 'edits are sorted and neither overlap nor touch');
  }
  if (outcome.sectionAdded) return;
  const { start, end } = phase3Range(input);
  for (const e of outcome.edits) assert.ok(e.start >= start && e.end <= end, `edit [${e.start}, ${e.end}) inside Phase 3 [${start}, ${end})`);
  assert.ok(outcome.markdown.startsWith(input.slice(0, start)), 'every byte before Phase 3 is unchanged');
  assert.ok(outcome.markdown.endsWith(input.slice(end)), 'every byte after Phase 3 is unchanged');
}

function assertIdempotent(outcome: ChecklistOutcome, run: RunResult, options = { screenshot: SCREENSHOT }): void {
  const again = fillChecklist(outcome.markdown, run, options);
  assert.equal(again.markdown, outcome.markdown, 'a second write of the same run changes nothing');
  assert.deepEqual(again.edits, []);
  assert.deepEqual(again.changes, []);
  assert.equal(again.sectionAdded, false);
}

const lines = (md: string): string[] => md.split(/\r?\n/);
/** The one line outside the results block that contains `needle`. */
const lineWith = (md: string, needle: string): string => {
  const found = lines(withoutBlock(md)).filter((l) => l.includes(needle));
  assert.equal(found.length, 1, `exactly one line contains ${JSON.stringify(needle)}`);
  return found[0];
};
const count = (md: string, s: string): number => md.split(s).length - 1;
const withoutBlock = (md: string): string => {
  const start = md.indexOf(RESULTS_BLOCK_START);
  return start < 0 ? md : md.slice(0, start) + md.slice(md.indexOf(RESULTS_BLOCK_END) + RESULTS_BLOCK_END.length);
};

/** The input lines the writer changed, not counting the results block. */
function changedLines(input: string, outcome: ChecklistOutcome): string[] {
  const starts = [0];
  for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineAt = (offset: number): number => starts.filter((s) => s <= offset).length - 1;
  const changed = new Set<number>();
  for (const e of outcome.edits) {
    if (e.text.includes(RESULTS_BLOCK_START) || input.slice(e.start, e.end).includes(RESULTS_BLOCK_START)) continue;
    const first = lineAt(e.start);
    assert.equal(lineAt(e.end), first, 'an item edit stays on its line');
    assert.ok(!/[\r\n]/.test(e.text), 'an item edit adds no line');
    changed.add(first);
  }
  return [...changed].sort((a, b) => a - b).map((i) => lines(input)[i]);
}

test('full checklist, newer run: only the matched, measured Phase 3 lines change, with values, ticks and notes', () => {
  const input = fixture('full.md');
  const out = fillChecklist(input, newerRun(), { screenshot: SCREENSHOT });
  assertSound(input, out);
  assert.equal(out.sectionAdded, false);

  assert.deepEqual(changedLines(input, out), [
    '- [ ] Average latency: **\\_** ms (target: < 5ms)',
    '- [ ] P99 latency: **\\_** ms (target: < 10ms)',
    '- [ ] 100% success rate',
    '- [ ] No lost updates',
    '- [ ] Atomic upserts working correctly',
    'Average latency: _____ ms',
    'P99 latency: _____ ms',
    'Errors: _____',
    '- [ ] P95 latency: **\\_** ms (target: < 100ms)',
    '- [ ] P99 latency: **\\_** ms (target: < 200ms)',
    '- [ ] Error rate: **\\_**% (target: < 0.1%)',
    '- [ ] Concurrent connections tested: **\\_**',
    '- [ ] No timeouts during load test',
    '- [ ] P99 read latency: **\\_** ms (target: < 10ms)',
    '- [ ] P99 write latency: **\\_** ms (target: < 20ms)',
    '- [ ] CPU usage: **\\_**% (target: < 70%)',
    '- [ ] Memory usage: **\\_**% (target: < 80%)',
    '- [ ] No query timeouts',
    '**Performance Screenshot**: **\\_**',
  ]);

  const md = out.markdown;
  // passed: value in the item's unit, ticked
  assert.equal(lineWith(md, 'Average latency: **2'), '- [x] Average latency: **2.31** ms (target: < 5ms)');
  assert.equal(lineWith(md, 'P99 latency: **188.5**'), '- [x] P99 latency: **188.5** ms (target: < 200ms)');
  assert.equal(lineWith(md, 'Error rate: **0.03**'), '- [x] Error rate: **0.03**% (target: < 0.1%)', 'errorRate 0.0003 is 0.03 %');
  assert.equal(lineWith(md, 'Concurrent connections tested'), '- [x] Concurrent connections tested: **100**');
  assert.ok(md.includes('- [x] No timeouts during load test\n\n### YugabyteDB'), 'an item with no blank is only ticked');
  // failed: value written, left unticked, with the measured value and target
  assert.equal(lineWith(md, 'P95 latency: **'), '- [ ] P95 latency: **150** ms (target: < 100ms) — ✗ measured 150 ms, target < 100 ms');
  assert.equal(lineWith(md, 'CPU usage: **82**'), '- [ ] CPU usage: **82**% (target: < 70%) — ✗ measured 82%, target < 70%');
  assert.equal(lineWith(md, 'No lost updates'), '- [ ] No lost updates — ✗ measured 2, target = 0');
  assert.equal(lineWith(md, '100% success rate'), '- [ ] 100% success rate — ✗ measured 99.8%, target ≥ 100%');
  // not measured in this run: exactly as written
  assert.ok(md.includes('- [ ] Disk usage: **\\_**% (target: < 75%)\n'));
  assert.ok(md.includes('- [ ] Test script executed successfully\n- [ ] All 10 tests passing\n'));
  assert.deepEqual(out.unmatched.map((u) => [u.text, u.reason]), [
    ['Test script executed successfully', 'not measured in this run'],
    ['All 10 tests passing', 'not measured in this run'],
    ['No errors during 100-iteration test', 'not measured in this run'],
    ['Disk usage: **\\_**% (target: < 75%)', 'not measured in this run'],
  ]);
  // Test Results block and screenshot
  assert.ok(md.includes('```\nAverage latency: 2.31 ms\nP99 latency: 7.84 ms\nErrors: 2\n```'));
  assert.equal(lineWith(md, 'Performance Screenshot'), `**Performance Screenshot**: ![Phase 3 performance chart](${SCREENSHOT})`);

  // Phase 2 and Phase 4 hold the same item texts and stay blank
  assert.equal(count(md, '- [ ] P99 latency: **\\_** ms (target: < 500ms, smoke only)'), 1);
  assert.equal(count(md, '- [ ] Error rate: **\\_**% after cutover (target: < 0.1%)'), 1);
  assert.equal(count(md, '- [ ] CPU usage: **\\_**% (target: < 70%)'), 1);
  assert.equal(count(md, '- [ ] No timeouts during load test'), 1, 'Phase 2 keeps its unticked copy');
  assertIdempotent(out, newerRun());
});

test('every change and every item left alone is reported on its line of the new text', () => {
  for (const name of ['full.md', 'full-crlf.md', 'notes.md', 'filled-older.md', 'no-phase3.md']) {
    const out = fillChecklist(fixture(name), newerRun(), { screenshot: SCREENSHOT });
    const outLines = lines(out.markdown);
    for (const c of out.changes) {
      const line = outLines[c.line - 1];
      if (c.what === 'results-block') assert.equal(line, RESULTS_BLOCK_START, name);
      else if (c.what === 'section-added') assert.equal(line, `## ${c.after}`, name);
      else if (c.after) assert.ok(line.includes(c.after), `${name}:${c.line} (${line}) shows ${c.after}`);
    }
    for (const u of out.unmatched) assert.ok(outLines[u.line - 1].includes(u.text), `${name}:${u.line} holds ${u.text}`);
  }
  const out = fillChecklist(fixture('full.md'), newerRun(), { screenshot: SCREENSHOT });
  const p95 = out.changes.filter((c) => c.criterionId === 'api.p95').map((c) => [c.what, c.before, c.after]);
  assert.deepEqual(p95, [['filled', '**\\_**', '**150**'], ['noted', '', '— ✗ measured 150 ms, target < 100 ms']]);
});

test('the results block: once, at the end of Phase 3 before its ---, with the run, the table and the issues found', () => {
  const input = fixture('full.md');
  const md = fillChecklist(input, newerRun(), { screenshot: SCREENSHOT }).markdown;
  assert.equal(count(md, RESULTS_BLOCK_START), 1);
  assert.equal(count(md, RESULTS_BLOCK_END), 1);
  const block = md.slice(md.indexOf(RESULTS_BLOCK_START), md.indexOf(RESULTS_BLOCK_END));
  assert.ok(md.includes(`${RESULTS_BLOCK_END}\n\n---\n\n## Phase 4`), 'the block closes the section, before its ---');
  assert.ok(md.indexOf(RESULTS_BLOCK_START) > md.indexOf('**Performance Screenshot**'));
  assert.match(block, /- Run: `20250602-090000-newer`/);
  assert.match(block, /- Date: 2025-06-02T09:00:00\.000Z/);
  assert.match(block, /- Target: https:\/\/staging\.example\.com\/graphql\?token=\*\*\*; database postgresql:\/\/app:\*\*\*@yb-tserver-0:5433\/yugabyte/);
  assert.match(block, /- Tool: phase3-perf 0\.1\.0/);
  // every criterion of every task in the run, against its target
  const rows = block.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Task') && !l.startsWith('| ---'));
  assert.equal(rows.length, Object.values(newerRun().tasks).reduce((n, t) => n + (t?.criteria.length ?? 0), 0));
  assert.ok(rows.includes('| API load test | P95 latency | 150 ms | < 100 ms | ✗ **fail** |'));
  assert.ok(rows.includes('| API load test | Error rate | 0.03% | < 0.1% | ✓ pass |'));
  assert.ok(rows.includes('| Database check | Disk usage | not measured (the server exposes no disk figure) | < 75% | – |'));
  // issues: the failed criteria and the generator-limited note
  const issues = block.slice(block.indexOf('**Performance issues found**'));
  for (const id of ['api.p95', 'usage-buffer.successRate', 'usage-buffer.lostUpdates', 'db.cpu']) assert.ok(issues.includes(`(\`${id}\`)`), id);
  assert.match(issues, /API load test: the load was limited, so the figures may understate the target's limits – achieved 238 req\/s of the 400 req\/s asked for/);
  assert.ok(block.includes('- Usage buffer stress test (failed): 1000 operations, 998 succeeded, 2 failed'));
});

test('the results block names errored tasks, degradation, and redacts a password in an error', () => {
  const md = fillChecklist(fixture('full.md'), troubledRun()).markdown;
  const block = md.slice(md.indexOf(RESULTS_BLOCK_START), md.indexOf(RESULTS_BLOCK_END));
  assert.match(block, /- Database check: errored – connect ECONNREFUSED postgresql:\/\/app:\*\*\*@10\.0\.0\.5:5433\/yugabyte/);
  assert.ok(!md.includes('hunter22'));
  assert.match(block, /- Concurrent users soak: performance degraded over the run \(p95GrowthPercent 140, fromStage 3\)/);
  assert.ok(!block.includes('(`users.degradation`)'), 'degradation is said once, with its details');
  assert.match(block, /\(`users\.timeouts`\)/);
  const passing = fillChecklist(fixture('full.md'), passingRun()).markdown;
  assert.match(passing, /\*\*Performance issues found\*\*\n\n- None: every measured criterion passed\.\n<!-- phase3-perf:results:end -->/);
});

test('CRLF: line endings are kept, and the output is the LF output with CRLF', () => {
  const input = fixture('full-crlf.md');
  assert.equal(count(input, '\r\n'), count(input, '\n'), 'the fixture is CRLF throughout (check .gitattributes if not)');
  const out = fillChecklist(input, newerRun(), { screenshot: SCREENSHOT });
  assertSound(input, out);
  assert.equal(count(out.markdown, '\r\n'), count(out.markdown, '\n'), 'no bare LF in the output');
  const lf = fillChecklist(fixture('full.md'), newerRun(), { screenshot: SCREENSHOT }).markdown;
  assert.equal(out.markdown, lf.replace(/\n/g, '\r\n'));
  assertIdempotent(out, newerRun());
});

test('team notes, trailing spaces, nested and ordered lists and unmatched items in Phase 3 stay as written', () => {
  const input = fixture('notes.md');
  const out = fillChecklist(input, passingRun(), { screenshot: 'phase3 charts/api (p99).png' });
  assertSound(input, out);
  const md = out.markdown;
  assert.ok(md.includes('> **Team note (Ana, 28 May)**: run these against `staging-2`, not `staging-1`; the\n> read replicas on staging-1 are still catching up.   \n'));
  assert.ok(md.includes("Team note: the usage buffer numbers from last week's run (2.9 ms avg) were on a cold cache.\n"));
  assert.ok(md.includes('- [x] Average latency: **2.31** ms (target: < 5ms)  \n'), 'trailing spaces after a filled item stay');
  assert.ok(md.includes('- [X] All 10 tests passing   \n'), 'an item already ticked with X stays as it is');
  assert.ok(md.includes('- [x] P99 latency: **7.84** ms (target: < 10ms)\n  - measured with the hot-key scenario on\n  - [ ] double-check the retry count in the logs\n'));
  assert.ok(md.includes('- [x] Atomic upserts working correctly\n\t- tab-indented note under the list: keep as is\n'));
  assert.ok(md.includes('Errors: 0\nNotes: _____ (filled by hand)\n```'));
  assert.ok(md.includes('1. Ordered steps the team follows:\n2. [ ] Warm the cache for 5 minutes first\n'));
  // the users subsection is a fifth kind the table knows
  assert.equal(lineWith(md, 'Peak concurrent users'), '- [x] Peak concurrent users: **500** (target: ≥ 100)');
  assert.equal(lineWith(md, 'No degradation'), '- [x] No degradation over the 10 minute soak');
  assert.equal(lineWith(md, 'Performance Screenshot'), '**Performance Screenshot**: ![Phase 3 performance chart](<phase3 charts/api (p99).png>)');
  assert.deepEqual(out.unmatched.map((u) => [u.text, u.reason]), [
    ['double-check the retry count in the logs', 'no criterion matches'],
    ['P95 and P99 latency within targets on the mobile query set', 'ambiguous'],
    ['Grafana alert thresholds reviewed with on-call', 'no criterion matches'],
    ['Warm the cache for 5 minutes first', 'no criterion matches'],
  ]);
  assert.ok(md.includes('- [ ] P95 and P99 latency within targets on the mobile query set\n'));
  // no --- closes this section: the block goes after its last line, a blank line on each side
  assert.ok(md.includes(`.png>)\n\n${RESULTS_BLOCK_START}`));
  assert.ok(md.includes(`${RESULTS_BLOCK_END}\n\n## Phase 4: Cutover`));
  assert.ok(md.endsWith('- [ ] P99 latency: **\\_** ms after cutover\n- [ ] CPU usage: **\\_**% (target: < 70%)\n'));
  assertIdempotent(out, passingRun(), { screenshot: 'phase3 charts/api (p99).png' });
});

test('a newer run over an older fill updates values, ticks, notes and the block in place', () => {
  const input = fixture('filled-older.md');
  assert.ok(input.includes('- [x] P95 latency: **61.5** ms'), 'the fixture holds the older run');
  const out = fillChecklist(input, newerRun(), { screenshot: SCREENSHOT });
  assertSound(input, out);
  const md = out.markdown;
  assert.equal(lineWith(md, 'P95 latency: **'), '- [ ] P95 latency: **150** ms (target: < 100ms) — ✗ measured 150 ms, target < 100 ms', 'unticked, value replaced, note added');
  assert.equal(lineWith(md, 'P99 latency: **7.84**'), '- [x] P99 latency: **7.84** ms (target: < 10ms)', 'ticked, the old failure note gone');
  assert.ok(!md.includes('12.75'), 'nothing of the older P99 is left');
  assert.equal(count(md, '✗ measured'), 4);
  assert.equal(count(md, RESULTS_BLOCK_START), 1);
  assert.ok(md.includes('- Run: `20250602-090000-newer`') && !md.includes('20250601-081500-older'));
  // the newer run did not measure these: the older values and ticks stay
  assert.equal(lineWith(md, 'Disk usage'), '- [x] Disk usage: **35.5**% (target: < 75%)');
  assert.ok(md.includes('- [x] Test script executed successfully\n- [x] All 10 tests passing\n'));
  assert.ok(md.includes('Team note (Raj): the usage buffer P99 miss was the cold cache, re-running on Monday.\n'));
  assert.ok(md.includes('```\nAverage latency: 2.31 ms\nP99 latency: 7.84 ms\nErrors: 2\n```'));
  const whats = out.changes.map((c) => c.what);
  assert.ok(whats.includes('unticked') && whats.includes('ticked') && whats.includes('noted') && whats.includes('results-block'));
  assert.ok(!whats.includes('screenshot'), 'the same chart link is already there');

  // apart from what the newer run did not measure and the team's note, the same as writing it on a blank checklist
  const fresh = fillChecklist(fixture('full.md'), newerRun(), { screenshot: SCREENSHOT }).markdown;
  const refilled = md.replace('Team note (Raj): the usage buffer P99 miss was the cold cache, re-running on Monday.\n\n', '');
  const differ = lines(fresh).flatMap((l, i) => (l === lines(refilled)[i] ? [] : [l]));
  assert.deepEqual(differ, [
    '- [ ] Test script executed successfully',
    '- [ ] All 10 tests passing',
    '- [ ] No errors during 100-iteration test',
    '- [ ] Disk usage: **\\_**% (target: < 75%)',
  ]);
  assertIdempotent(out, newerRun());
  // and back to the older run: the file it started from, minus nothing
  const back = fillChecklist(md, olderRun(), { screenshot: SCREENSHOT });
  assert.equal(back.markdown, input);
});

test('a missing Phase 3 section is added before Phase 4 with the standard items, then filled', () => {
  const input = fixture('no-phase3.md');
  const out = fillChecklist(input, newerRun());
  assertSound(input, out);
  assert.equal(out.sectionAdded, true);
  assert.equal(out.changes[0].what, 'section-added');
  assert.equal(out.changes[0].after, 'Phase 3: Performance Testing (Day 2-3)');
  assert.equal(lines(out.markdown)[out.changes[0].line - 1], '## Phase 3: Performance Testing (Day 2-3)');
  assert.equal(out.edits.length, 1);
  const [edit] = out.edits;
  assert.equal(edit.start, edit.end, 'one insertion');
  assert.equal(edit.start, input.indexOf('## Phase 4'));
  assert.ok(edit.text.endsWith(`${RESULTS_BLOCK_END}\n\n---\n\n`));
  const { items } = phase3Items(out.markdown);
  assert.equal(items.length, 19);
  assert.ok(items.every((i) => i.match === 'matched'), 'every standard item matches a criterion');
  assert.ok(out.markdown.includes('- [ ] P95 latency: **150** ms (target: < 100ms) — ✗ measured 150 ms, target < 100 ms'));
  assert.ok(out.markdown.includes('- [ ] P99 latency: **\\_** ms (target: < 500ms)'), 'Phase 2 untouched');
  assertIdempotent(out, newerRun(), { screenshot: '' });
});

test('a missing Phase 3 section with no later phase goes at the end, after a ---, in the file\'s line endings', () => {
  const input = '# Checklist\r\n\r\n## Phase 1: Preparation\r\n\r\n- [x] Cluster provisioned';
  const out = fillChecklist(input, passingRun());
  assertSound(input, out);
  assert.ok(out.markdown.startsWith(`${input}\r\n\r\n---\r\n\r\n## Phase 3: Performance Testing (Day 2-3)\r\n`));
  assert.equal(count(out.markdown, '\r\n'), count(out.markdown, '\n'));
  assertIdempotent(out, passingRun(), { screenshot: '' });

  const empty = fillChecklist('', passingRun());
  assert.ok(empty.markdown.startsWith('## Phase 3: Performance Testing (Day 2-3)\n'));
  assert.throws(() => fillChecklist('# Checklist\n\n```\nunclosed fence\n', passingRun()), InputError);
});

test('newChecklist is a checklist with only the standard Phase 3 section, every item matched', () => {
  const md = newChecklist();
  assert.match(md, /^# Mainnet Migration Checklist\n\n## Phase 3: Performance Testing \(Day 2-3\)\n/);
  const { heading, items } = phase3Items(md);
  assert.deepEqual(heading, { line: 3, text: 'Phase 3: Performance Testing (Day 2-3)' });
  assert.deepEqual(items.map((i) => i.criterionId), [
    'usage-buffer.script', 'usage-buffer.script', 'usage-buffer.avgLatency', 'usage-buffer.p99', 'usage-buffer.successRate',
    'usage-buffer.lostUpdates', 'usage-buffer.atomicUpserts', 'usage-buffer.script',
    'api.p95', 'api.p99', 'api.errorRate', 'api.concurrency', 'api.timeouts',
    'db.readP99', 'db.writeP99', 'db.cpu', 'db.memory', 'db.disk', 'db.queryTimeouts',
  ]);
  const out = fillChecklist(md, passingRun(), { screenshot: SCREENSHOT });
  assert.equal(out.sectionAdded, false);
  assert.equal(count(out.markdown, '- [x]'), 19, 'a run where everything passed ticks every item');
  assert.equal(count(out.markdown, '**\\_**'), 0, 'and fills every blank');
});

test('phase3Items: lines, offsets, subsections and matches of the items in Phase 3 only', () => {
  const md = fixture('full.md');
  const { heading, items } = phase3Items(md);
  assert.deepEqual(heading, { line: lines(md).indexOf('## Phase 3: Performance Testing (Day 2-3)') + 1, text: 'Phase 3: Performance Testing (Day 2-3)' });
  assert.equal(items.length, 19);
  const p99s = items.filter((i) => i.text.startsWith('P99 latency'));
  assert.deepEqual(p99s.map((i) => [i.subsection, i.criterionId]), [['Usage Buffer Performance', 'usage-buffer.p99'], ['API Performance', 'api.p99']]);
  for (const item of items) {
    assert.equal(lines(md)[item.line - 1], md.slice(item.start, item.end));
    assert.equal(md.slice(item.start, item.end), `- [ ] ${item.text}`);
    assert.equal(item.checked, false);
  }
  assert.deepEqual(phase3Items(fixture('no-phase3.md')), { heading: null, items: [] });
  const topLevel = phase3Items('# Phase 3: Performance\n\n## API Performance\n\n- [ ] P99 latency: **\\_** ms\n\n# Phase 4\n\n- [ ] Error rate: **\\_**%\n');
  assert.deepEqual(topLevel.items.map((i) => [i.subsection, i.criterionId]), [['API Performance', 'api.p99']], 'a `# Phase 3` keeps its `##` subsections');
  const filled = phase3Items(fixture('filled-older.md')).items;
  assert.deepEqual(filled.filter((i) => !i.checked).map((i) => i.criterionId), ['usage-buffer.p99'], 'a filled item is still matched');
});

test('the matching table: the subsection decides whose item it is', () => {
  const cases: Array<[string | null, string, string | null]> = [
    ['Usage Buffer Performance', 'P99 latency: **\\_** ms', 'usage-buffer.p99'],
    ['API Performance', 'P99 latency: **\\_** ms', 'api.p99'],
    ['YugabyteDB Performance', 'P99 read latency: **\\_** ms', 'db.readP99'],
    ['YugabyteDB Performance', 'P99 write latency', 'db.writeP99'],
    ['API Performance', 'Concurrent connections tested: **\\_**', 'api.concurrency'],
    ['API Performance', 'Error rate: **\\_**%', 'api.errorRate'],
    ['API Performance', 'No timeouts during load test', 'api.timeouts'],
    ['YugabyteDB Performance', 'CPU usage', 'db.cpu'],
    ['YugabyteDB Performance', 'Memory usage', 'db.memory'],
    ['YugabyteDB Performance', 'Disk usage', 'db.disk'],
    ['YugabyteDB Performance', 'No query timeouts', 'db.queryTimeouts'],
    ['Usage Buffer Performance', 'Average latency', 'usage-buffer.avgLatency'],
    ['Usage Buffer Performance', '100% success rate', 'usage-buffer.successRate'],
    ['Usage Buffer Performance', 'No lost updates', 'usage-buffer.lostUpdates'],
    ['Usage Buffer Performance', 'Atomic upserts working correctly', 'usage-buffer.atomicUpserts'],
    ['Usage Buffer Performance', 'Test script executed successfully', 'usage-buffer.script'],
    ['Usage Buffer Performance', 'All 10 tests passing', 'usage-buffer.script'],
    ['Usage Buffer Performance', 'No errors during 100-iteration test', 'usage-buffer.script'],
    ['Concurrent Users', 'Peak concurrent users: **\\_**', 'users.concurrency'],
    ['Concurrent Users', 'No degradation over 10 minutes', 'users.degradation'],
    // no subsection, or one of no known kind: only words unique to one criterion match
    [null, 'P99 read latency: **\\_** ms', 'db.readP99'],
    ['Other checks', 'CPU usage', 'db.cpu'],
    ['Other checks', 'Concurrent connections tested', 'api.concurrency'],
    ['YugabyteDB Performance', 'P99 latency', null],
    ['API Performance', 'Grafana dashboards reviewed', null],
  ];
  for (const [subsection, text, expected] of cases) {
    assert.equal(matchItem(subsection, text).criterionId, expected, `${subsection} / ${text}`);
  }
  assert.equal(matchItem(null, 'P99 latency').match, 'ambiguous');
  assert.equal(matchItem('Other checks', 'Error rate').match, 'ambiguous');
  assert.equal(matchItem('API Performance', 'P95 and P99 within target').match, 'ambiguous');
});

test('blanks: ___ and _____ too, a unit after the blank is kept, none there puts the unit in the value', () => {
  const md = [
    '## Phase 3: Performance Testing',
    '',
    '### API Performance',
    '',
    '- [ ] P95 latency: ___ ms',
    '- [ ] P99 latency: _____ s (target: < 0.2 s)',
    '- [ ] Error rate: **\\_** (target: below 0.1%)',
    '- [x] No timeouts during load test',
    '- [ ] Concurrent connections tested: 100 (by hand)',
    '',
    '**Performance Screenshot**: [our own chart](charts/mine.png)',
    '',
  ].join('\n');
  const out = fillChecklist(md, newerRun(), { screenshot: SCREENSHOT });
  assertSound(md, out);
  assert.equal(lineWith(out.markdown, 'P95'), '- [ ] P95 latency: **150** ms — ✗ measured 150 ms, target < 100 ms');
  assert.equal(lineWith(out.markdown, 'P99'), '- [x] P99 latency: **0.19** s (target: < 0.2 s)');
  assert.equal(lineWith(out.markdown, 'Error rate'), '- [x] Error rate: **0.03%** (target: below 0.1%)');
  assert.equal(lineWith(out.markdown, 'No timeouts'), '- [x] No timeouts during load test');
  assert.equal(lineWith(out.markdown, 'Concurrent'), '- [x] Concurrent connections tested: 100 (by hand)', 'a value the team wrote without bold is not a slot');
  assert.equal(lineWith(out.markdown, 'Screenshot'), '**Performance Screenshot**: [our own chart](charts/mine.png)', "the team's own link stays");
  assert.ok(out.markdown.endsWith(`${RESULTS_BLOCK_END}\n`));
  assertIdempotent(out, newerRun());
});

test('no screenshot option: the screenshot line is left alone; a byte-order mark is kept', () => {
  const input = `\uFEFF${fixture('full.md')}`;
  const out = fillChecklist(input, newerRun());
  assertSound(input, out);
  assert.ok(out.markdown.startsWith('\uFEFF# Mainnet Migration Checklist'));
  assert.equal(lineWith(out.markdown, 'Performance Screenshot'), '**Performance Screenshot**: **\\_**');
  assert.equal(lineWith(out.markdown, 'P95 latency: **1'), '- [ ] P95 latency: **150** ms (target: < 100ms) — ✗ measured 150 ms, target < 100 ms');
});

test('a results block copied twice is written back once', () => {
  const once = fillChecklist(fixture('full.md'), olderRun()).markdown;
  const block = once.slice(once.indexOf(RESULTS_BLOCK_START), once.indexOf(RESULTS_BLOCK_END) + RESULTS_BLOCK_END.length);
  const twice = once.replace(block, `${block}\n\n${block}`);
  const out = fillChecklist(twice, newerRun());
  assertSound(twice, out);
  assert.equal(count(out.markdown, RESULTS_BLOCK_START), 1);
  assert.equal(count(out.markdown, RESULTS_BLOCK_END), 1);
});
