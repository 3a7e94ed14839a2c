import type { CriterionResult, RunResult, TaskResult } from '../../shared/result';
import { formatNumber } from '../criteria';
import { InputError } from '../errors';
import { applyEdits, EditList } from './edits';
import { subsectionKind } from './match';
import { detectEol, findPhase3, lineEnd, lineStart, parseMarkdown, phaseNumber, SCREENSHOT_LABEL, type ParsedDocument, type ParsedItem, type Phase3Section } from './parse';
import { blockRunId, renderResultsBlock } from './resultsBlock';
import { failureNote, findNotes, findSlot, LEADING_BLANK, LINE_SLOT, slotValue } from './slots';
import { standardPhase3 } from './standard';
import type { ChangeKind, ChecklistOutcome, FillOptions, TextEdit, UnmatchedReason } from './types';

/** A change or a skipped item, placed by its offset in the input until the new lines are known. */
interface Pending {
  at: number;
  /** Line breaks between `at` and where the change shows (a block inserted after a blank line). */
  down: number;
  criterionId: string | null;
  what: ChangeKind;
  before: string;
  after: string;
}

interface Skipped {
  at: number;
  text: string;
  reason: UnmatchedReason;
}

type Measured = CriterionResult & { actual: number; passed: boolean };

/** A criterion of the run by id, whichever task it belongs to. */
export function findCriterion(run: RunResult, id: string): CriterionResult | null {
  for (const task of Object.values(run.tasks)) {
    const found = task?.criteria.find((c) => c.id === id);
    if (found) return found;
  }
  return null;
}

const isMeasured = (c: CriterionResult | null): c is Measured => !!c && c.passed !== null && c.actual !== null;

export function fillChecklist(markdown: string, run: RunResult, options: FillOptions = {}): ChecklistOutcome {
  const doc = parseMarkdown(markdown);
  const section = findPhase3(markdown, doc);
  if (section) return fillSection(markdown, section, run, options);
  return addSection(markdown, doc, run, options);
}

function fillSection(markdown: string, section: Phase3Section, run: RunResult, options: FillOptions): ChecklistOutcome {
  const edits = new EditList(markdown);
  const changes: Pending[] = [];
  const skipped: Skipped[] = [];
  // placed by the start of their line: no edit ends exactly there, so its line in the output is unambiguous
  const change: Change = (at, criterionId, what, before, after, down = 0) => {
    changes.push({ at: lineStart(markdown, at), down, criterionId, what, before, after });
  };

  for (const item of section.items) {
    if (item.screenshot) continue;
    if (item.match !== 'matched' || !item.criterionId) {
      skipped.push({ at: lineStart(markdown, item.start), text: item.text, reason: item.match === 'ambiguous' ? 'ambiguous' : 'no criterion matches' });
      continue;
    }
    const criterion = findCriterion(run, item.criterionId);
    if (!isMeasured(criterion)) {
      skipped.push({ at: lineStart(markdown, item.start), text: item.text, reason: 'not measured in this run' });
      continue;
    }
    fillItem(markdown, item, criterion, edits, change);
  }

  fillTestResults(markdown, section, run, edits, change);
  if (options.screenshot) fillScreenshot(markdown, section, options.screenshot, edits, change);
  writeResultsBlock(markdown, section, run, edits, change);

  const list = edits.result();
  const out = applyEdits(markdown, list);
  const lineOf = lineCounter(out, list);
  return {
    markdown: out,
    edits: list,
    changes: changes.sort((a, b) => a.at - b.at).map((c) => ({ line: lineOf(c.at) + c.down, criterionId: c.criterionId, what: c.what, before: c.before, after: c.after })),
    unmatched: skipped.map((s) => ({ line: lineOf(s.at), text: s.text, reason: s.reason })),
    sectionAdded: false,
  };
}

type Change = (at: number, criterionId: string | null, what: ChangeKind, before: string, after: string, down?: number) => void;

/** Value into the slot, tick or untick, and the note on a failure (replaced, never added twice). */
function fillItem(markdown: string, item: ParsedItem, c: Measured, edits: EditList, change: Change): void {
  const slot = findSlot(item.text, item.textStart);
  if (slot) {
    const value = slotValue(c, markdown.slice(slot.end, item.end));
    if (value !== slot.text) {
      edits.replace(slot.start, slot.end, value);
      change(item.start, c.id, 'filled', slot.text, value);
    }
  }

  const box = markdown[item.box];
  const ticked = box === 'x' || box === 'X';
  if (c.passed && !ticked) {
    edits.replace(item.box, item.box + 1, 'x');
    change(item.start, c.id, 'ticked', '[ ]', '[x]');
  } else if (!c.passed && ticked) {
    edits.replace(item.box, item.box + 1, ' ');
    change(item.start, c.id, 'unticked', `[${box}]`, '[ ]');
  }

  const notes = findNotes(item.text, item.textStart);
  const note = c.passed ? null : failureNote(c);
  notes.forEach((old, i) => {
    const replacement = i === 0 && note ? note : '';
    if (replacement === old.text) return;
    edits.replace(old.start, old.end, replacement);
    change(item.start, c.id, 'noted', old.text.trim(), replacement.trim());
  });
  if (note && notes.length === 0) {
    edits.insert(item.end, note);
    change(item.start, c.id, 'noted', '', note.trim());
  }
}

const TEST_RESULT_LINES: ReadonlyArray<{ label: RegExp; value(run: RunResult): { v: number; criterionId: string | null } | null }> = [
  { label: /average latency|avg latency|mean latency/, value: (run) => ubFigure(run, 'usage-buffer.avgLatency', 'mean') },
  { label: /p99 latency/, value: (run) => ubFigure(run, 'usage-buffer.p99', 'p99') },
  { label: /errors|failed operations|failures/, value: (run) => {
    const failed = run.tasks['usage-buffer']?.metrics.failed;
    return typeof failed === 'number' && Number.isFinite(failed) ? { v: failed, criterionId: null } : null;
  } },
];

/** The criterion's figure when it was measured, else the raw latency summary's. */
function ubFigure(run: RunResult, criterionId: string, pick: 'mean' | 'p99'): { v: number; criterionId: string } | null {
  const c = findCriterion(run, criterionId);
  if (c?.actual !== null && c?.actual !== undefined) return { v: c.actual, criterionId };
  const task: TaskResult | undefined = run.tasks['usage-buffer'];
  const summary = task?.metrics.latencyMs;
  const v = summary && typeof summary === 'object' ? (summary as Record<string, unknown>)[pick] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? { v, criterionId } : null;
}

/** The "Test Results" fenced block under Usage Buffer: its `Label: _____` lines. */
function fillTestResults(markdown: string, section: Phase3Section, run: RunResult, edits: EditList, change: Change): void {
  if (!run.tasks['usage-buffer']) return;
  for (const block of section.codeBlocks) {
    if (subsectionKind(block.subsection) !== 'usage-buffer') continue;
    for (const line of contentLines(markdown, block.start, block.end)) {
      for (const rule of TEST_RESULT_LINES) {
        const m = new RegExp(String.raw`^([ \t>]*(?:[-*][ \t]+)?(?:${rule.label.source})[ \t]*:[ \t]*)(${LINE_SLOT})`, 'i').exec(line.text);
        if (!m) continue;
        const figure = rule.value(run);
        if (!figure) break;
        const start = line.start + m[1].length;
        const value = formatNumber(figure.v);
        if (value !== m[2]) {
          edits.replace(start, start + m[2].length, value);
          change(line.start, figure.criterionId, 'test-results', line.text.trim(), (m[1] + value + line.text.slice(m[0].length)).trim());
        }
        break;
      }
    }
  }
}

/** The lines of a code block between its fences (all of them for an indented block). */
function contentLines(markdown: string, start: number, end: number): Array<{ start: number; text: string }> {
  const lines: Array<{ start: number; text: string }> = [];
  let at = lineStart(markdown, start);
  while (at < end) {
    const stop = lineEnd(markdown, at);
    lines.push({ start: at, text: markdown.slice(at, stop) });
    const nl = markdown.indexOf('\n', stop);
    if (nl < 0) break;
    at = nl + 1;
  }
  const fence = /^[ \t>]*(`{3,}|~{3,})/;
  if (lines.length && fence.test(lines[0].text)) lines.shift();
  if (lines.length && fence.test(lines[lines.length - 1].text)) lines.pop();
  return lines;
}

const OUR_IMAGE = /!\[Phase 3 performance chart\]\((?:<[^>\r\n]*>|[^)\s]*)\)/;

function imageLink(link: string): string {
  const path = link.replace(/\\/g, '/');
  const target = /[\s()<>]/.test(path) ? `<${path.replace(/[<>]/g, encodeURIComponent)}>` : path;
  return `![Phase 3 performance chart](${target})`;
}

/** The blank after "**Performance Screenshot**:", or the chart this writer put there before; a link of the team's own stays. */
function fillScreenshot(markdown: string, section: Phase3Section, link: string, edits: EditList, change: Change): void {
  const image = imageLink(link);
  for (const para of section.screenshotLines) {
    const raw = markdown.slice(para.start, para.end);
    const label = SCREENSHOT_LABEL.exec(raw);
    if (!label) continue;
    const afterLabel = para.start + label.index + label[0].length;
    const rest = markdown.slice(afterLabel, lineEnd(markdown, afterLabel));
    const ours = OUR_IMAGE.exec(rest);
    const blank = LEADING_BLANK.exec(rest);
    if (ours) {
      const start = afterLabel + ours.index;
      if (ours[0] !== image) {
        edits.replace(start, start + ours[0].length, image);
        change(para.start, null, 'screenshot', ours[0], image);
      }
    } else if (blank) {
      const start = afterLabel + blank[0].length - blank[1].length;
      edits.replace(start, start + blank[1].length, image);
      change(para.start, null, 'screenshot', blank[1], image);
    } else if (rest.trim() === '') {
      edits.insert(afterLabel, `${/[ \t]$/.test(label[0]) ? '' : ' '}${image}`);
      change(para.start, null, 'screenshot', '', image);
    }
  }
}

/** Replaces the block a previous write left, or adds one at the end of the section (before its closing `---`). */
function writeResultsBlock(markdown: string, section: Phase3Section, run: RunResult, edits: EditList, change: Change): void {
  const block = renderResultsBlock(run, section.eol);
  const summary = `results of run ${run.runId}`;
  const [first, ...extra] = section.blocks;
  if (first) {
    const old = markdown.slice(first.start, first.end);
    if (old !== block) {
      edits.replace(first.start, first.end, block);
      change(first.start, null, 'results-block', `results of run ${blockRunId(old) ?? '?'}`, summary);
    }
    for (const dup of extra) {
      edits.replace(dup.start, dup.end, '');
      change(dup.start, null, 'results-block', `results of run ${blockRunId(markdown.slice(dup.start, dup.end)) ?? '?'}`, '');
    }
    return;
  }
  const eol = section.eol;
  if (section.last.thematicBreak) {
    const at = lineStart(markdown, section.last.start);
    const previous = markdown.slice(lineStart(markdown, Math.max(at - 1, 0)), at).trim();
    edits.insert(at, `${previous ? eol : ''}${block}${eol}${eol}`);
    change(at, null, 'results-block', '', summary, previous ? 1 : 0);
  } else {
    const at = lineEnd(markdown, Math.max(section.last.end - 1, section.last.start));
    // a blank line after the block too, when the next heading follows right under the last line
    const nl = markdown.indexOf('\n', at);
    const next = nl < 0 ? '' : markdown.slice(nl + 1, lineEnd(markdown, nl + 1));
    edits.insert(at, `${eol}${eol}${block}${next.trim() ? eol : ''}`);
    change(at, null, 'results-block', '', summary, 2);
  }
}

/**
 * No Phase 3 section: the standard one goes before the first later phase (Phase 4, 5 …), which
 * keeps the phases in order, or at the end of the file; then it is filled like any other.
 */
function addSection(markdown: string, doc: ParsedDocument, run: RunResult, options: FillOptions): ChecklistOutcome {
  const eol = detectEol(markdown);
  const later = doc.root.children.find((n) => (phaseNumber(n) ?? 0) > 3);
  let at: number;
  let text: string;
  if (later) {
    at = lineStart(markdown, doc.offset(later.position?.start));
    const previous = at > 0 ? markdown.slice(lineStart(markdown, at - 1), at).trim() : '';
    text = `${previous ? eol : ''}${standardPhase3(eol)}${eol}---${eol}${eol}`;
  } else {
    at = markdown.length;
    const children = doc.root.children;
    const endsWithBreak = children[children.length - 1]?.type === 'thematicBreak';
    const lead = markdown.trim() === '' ? '' : `${/\r?\n$/.test(markdown) ? '' : eol}${eol}${endsWithBreak ? '' : `---${eol}${eol}`}`;
    text = lead + standardPhase3(eol);
  }
  const draft = markdown.slice(0, at) + text + markdown.slice(at);
  const section = findPhase3(draft);
  if (!section || section.start < at || section.end > at + text.length) {
    // Only an unclosed code fence or HTML comment can swallow the heading.
    throw new InputError('the checklist has no Phase 3 section, and one cannot be added: it ends inside an unclosed code block or HTML comment');
  }
  const filled = fillSection(draft, section, run, options);
  const inserted = filled.markdown.slice(at, filled.markdown.length - (markdown.length - at));
  const edits: TextEdit[] = [{ start: at, end: at, text: inserted }];
  const headingLine = lineCounter(filled.markdown, [])(section.start);
  return {
    markdown: filled.markdown,
    edits,
    changes: [{ line: headingLine, criterionId: null, what: 'section-added', before: '', after: section.heading.text }, ...filled.changes],
    unmatched: filled.unmatched,
    sectionAdded: true,
  };
}

/** 1-based line in `out` (the edited text) of an offset in the text the edits were made on. */
function lineCounter(out: string, edits: readonly TextEdit[]): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let shift = 0;
    let mapped = offset;
    for (const e of edits) {
      if (e.end <= offset && !(e.start === e.end && e.start === offset)) shift += e.text.length - (e.end - e.start);
      else if (e.start < offset) {
        mapped = e.start;
        break;
      } else break;
    }
    const target = mapped + shift;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
