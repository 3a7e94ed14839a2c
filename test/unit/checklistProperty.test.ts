import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyEdits, fillChecklist } from '../../src/engine/checklist';
import type { RunResult } from '../../src/shared/result';
import { newerRun, olderRun, passingRun, troubledRun } from '../fixtures/checklists/runs';

/**
 * Generated checklists around a Phase 3 section (or without one): random paragraphs, task lists
 * with the very item texts Phase 3 uses, code fences, block quotes, tables, comments with the
 * writer's own markers, other phases, LF, CRLF or both. Whatever the input, the writer's edits
 * reproduce its output, stay inside Phase 3 (or, when it adds the section, are one insertion at
 * its place), every other byte is kept, and a second write changes nothing.
 */

/** A line, tagged where the generator knows what the parser must find. */
interface Line {
  text: string;
  tag?: 'phase3' | 'closesPhase3' | 'laterPhase';
}

const ITEM_TEXTS = [
  'Test script executed successfully', 'All 10 tests passing', 'Average latency: **\\_** ms (target: < 5ms)',
  'P99 latency: **\\_** ms (target: < 10ms)', '100% success rate', 'No lost updates', 'Atomic upserts working correctly',
  'P95 latency: **\\_** ms (target: < 100ms)', 'Error rate: **\\_**% (target: < 0.1%)', 'Concurrent connections tested: **\\_**',
  'No timeouts during load test', 'P99 read latency: **\\_** ms (target: < 10ms)', 'CPU usage: **\\_**% (target: < 70%)',
  'Disk usage: ___% (target: < 75%)', 'No query timeouts', 'P99 latency: **42.5** ms — ✗ measured 42.5 ms, target < 10 ms',
  'Peak concurrent users: _____', 'Grafana reviewed', 'P95 and P99 within target', '**Performance Screenshot**: **\\_**',
];
const WORDS = [
  'latency', 'P99', 'P99 latency:', '**\\_**', '_____', '___', '**42.5**', 'ms', '%', '|', '[ ]', '[x]', '— ✗ measured 150 ms, target < 100 ms',
  'Error rate', 'CPU', 'Phase 3', '## Phase 3', '`code`', '*em*', '<!-- phase3-perf:results:start -->', 'ünïcödé', 'x\ty', '\\', '**Test Results**:',
];
const SUBSECTIONS = ['Usage Buffer Performance', 'API Performance', 'YugabyteDB Performance', 'Concurrent Users', 'Rollout notes'];
const COMMENTS = ['<!-- phase3-perf:results:start -->', '<!-- phase3-perf:results:end -->', '<!-- team: keep this -->'];
const CODE_LINES = ['Average latency: _____ ms', 'P99 latency: 3.2 ms', 'Errors: _____', '## Phase 4: not a heading', '- [ ] P95 latency: **\\_** ms', '---', COMMENTS[0]];

const textLine = fc
  .tuple(fc.constantFrom('Note', 'The', 'Team', 'Ana:', 'We'), fc.array(fc.constantFrom(...WORDS), { maxLength: 7 }), fc.constantFrom('', '', ' ', '   ', '\t'))
  .map(([first, words, trail]) => [first, ...words].join(' ') + trail);

const paragraph = fc.array(textLine, { minLength: 1, maxLength: 3 });
const taskList = fc
  .array(
    fc.record({
      marker: fc.constantFrom('-', '*', '1.'),
      box: fc.constantFrom('[ ]', '[x]', '[X]'),
      text: fc.constantFrom(...ITEM_TEXTS),
      trail: fc.constantFrom('', '', '  '),
      nested: fc.array(textLine.map((l) => `  - ${l}`), { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((items) => items.flatMap((i) => [`${i.marker} ${i.box} ${i.text}${i.trail}`, ...i.nested.map((n) => (i.marker === '1.' ? ` ${n}` : n))]));
const codeFence = fc
  .tuple(fc.constantFrom('```', '```text', '~~~'), fc.array(fc.constantFrom(...CODE_LINES), { maxLength: 4 }))
  .map(([open, body]) => [open, ...body, open.startsWith('~') ? '~~~' : '```']);
const subsection = fc.constantFrom(...SUBSECTIONS).map((s) => [`### ${s}`]);
const comment = fc.constantFrom(...COMMENTS).map((c) => [c]);
const quote = textLine.map((l) => [`> ${l}`]);
const table = fc.constant(['| Metric | Value |', '| --- | --- |', '| P99 latency | **\\_** |']);
const rule = fc.constant(['---']);
const block = fc.oneof(paragraph, taskList, codeFence, subsection, comment, quote, table, rule);

const phase = (n: number, tag?: Line['tag']) =>
  fc
    .tuple(fc.constantFrom(`## Phase ${n}: Step ${n}`, `## Phase ${n}`), fc.array(block, { maxLength: 8 }), fc.boolean())
    .map(([heading, blocks, closed]): Line[][] => [[{ text: heading, tag }], ...blocks.map((b) => b.map((text) => ({ text }))), ...(closed ? [[{ text: '---' }]] : [])]);

const phase3 = fc
  .tuple(
    fc.constantFrom('## Phase 3: Performance Testing (Day 2-3)', '## Phase 3', 'Phase 3: Performance\n---'),
    fc.array(fc.oneof(block, subsection, taskList), { maxLength: 12 }),
    fc.boolean(),
  )
  .map(([heading, blocks, closed]): Line[][] => [
    heading.split('\n').map((text, i) => (i === 0 ? { text, tag: 'phase3' as const } : { text })),
    ...blocks.map((b) => b.map((text) => ({ text }))),
    ...(closed ? [[{ text: '---' }]] : []),
  ]);

const document = fc
  .record({
    title: fc.boolean(),
    preamble: fc.array(block.filter((b) => b[0] !== '---'), { maxLength: 3 }),
    before: fc.subarray([1, 2]),
    hasPhase3: fc.boolean(),
    after: fc.subarray(['Phase 4', 'Sign-off', 'Phase 5']),
    eol: fc.constantFrom('\n', '\r\n', 'mixed'),
    finalEol: fc.boolean(),
  })
  .chain((d) =>
    fc
      .tuple(
        fc.tuple(...d.before.map((n) => phase(n))),
        d.hasPhase3 ? phase3 : fc.constant([] as Line[][]),
        fc.tuple(...d.after.map((name) => (name === 'Sign-off' ? fc.constant([[{ text: '## Sign-off', tag: undefined }], [{ text: '| Role | Name |' }, { text: '| --- | --- |' }]] as Line[][]) : phase(Number(name.slice(6)), 'laterPhase')))),
      )
      .map(([before, p3, after]) => ({ ...d, before, p3, after })),
  )
  .map((d) => {
    const blocks: Line[][] = [
      ...(d.title ? [[{ text: '# Mainnet Migration Checklist' }]] : []),
      ...d.preamble.map((b) => b.map((text) => ({ text }))),
      ...d.before.flat(),
      ...d.p3,
      ...d.after.map((section, i) => (i === 0 && d.p3.length ? [[{ ...section[0][0], tag: section[0][0].tag ?? ('closesPhase3' as const) }], ...section.slice(1)] : section)).flat(),
    ];
    return assemble(blocks, d.eol, d.finalEol);
  });

/** Blocks joined by blank lines; the offsets of the tagged lines. */
function assemble(blocks: Line[][], eolMode: string, finalEol: boolean) {
  const lines: Line[] = blocks.flatMap((b, i) => (i === 0 ? b : [{ text: '' }, ...b]));
  let text = '';
  const at: { phase3?: number; closesPhase3?: number; laterPhases: number[] } = { laterPhases: [] };
  lines.forEach((line, i) => {
    if (line.tag === 'phase3') at.phase3 = text.length;
    if (line.tag === 'closesPhase3' || (line.tag === 'laterPhase' && at.phase3 !== undefined && at.closesPhase3 === undefined)) at.closesPhase3 = text.length;
    if (line.tag === 'laterPhase') at.laterPhases.push(text.length);
    const eol = eolMode === 'mixed' ? (i % 3 === 1 ? '\r\n' : '\n') : eolMode;
    text += line.text + (i < lines.length - 1 || finalEol ? eol : '');
  });
  return { text, ...at };
}

const RUNS: Array<() => RunResult> = [newerRun, olderRun, passingRun, troubledRun];

test('the writer never alters a byte outside the Phase 3 section, and never throws', () => {
  fc.assert(
    fc.property(document, fc.nat(RUNS.length - 1), fc.option(fc.constantFrom('chart.png', 'phase3 charts/p99 (api).png')), (doc, runIndex, screenshot) => {
      const run = RUNS[runIndex]();
      const options = screenshot ? { screenshot } : {};
      const input = doc.text;
      const out = fillChecklist(input, run, options);

      assert.equal(applyEdits(input, out.edits), out.markdown);
      for (let i = 1; i < out.edits.length; i++) assert.ok(out.edits[i].start > out.edits[i - 1].end);

      if (doc.phase3 !== undefined) {
        const start = doc.phase3;
        const end = doc.closesPhase3 ?? input.length;
        assert.equal(out.sectionAdded, false);
        for (const e of out.edits) assert.ok(e.start >= start && e.end <= end, `edit [${e.start}, ${e.end}) outside Phase 3 [${start}, ${end})`);
        assert.ok(out.markdown.startsWith(input.slice(0, start)));
        assert.ok(out.markdown.endsWith(input.slice(end)));
      } else {
        assert.equal(out.sectionAdded, true);
        assert.equal(out.edits.length, 1);
        const [edit] = out.edits;
        assert.equal(edit.start, edit.end, 'the section is one insertion');
        assert.equal(edit.start, doc.laterPhases[0] ?? input.length, 'before the first later phase, or at the end');
      }
      if (input.includes('\n') && !/(^|[^\r])\n/.test(input)) {
        assert.ok(!/(^|[^\r])\n/.test(out.markdown), 'a CRLF file gets no bare LF');
      }

      const again = fillChecklist(out.markdown, run, options);
      assert.deepEqual(again.edits, [], 'a second write changes nothing');
    }),
    // Fixed seed in CI, so a red run is reproducible; PHASE3_PROPERTY_SEED/RUNS explore further.
    { numRuns: Number(process.env.PHASE3_PROPERTY_RUNS ?? 200), seed: Number(process.env.PHASE3_PROPERTY_SEED ?? 20261204) },
  );
});
