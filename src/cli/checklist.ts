import * as fs from 'node:fs';
import type { RunResult } from '../shared/result';
import { fillChecklist, newChecklist, type ChecklistOutcome } from '../engine/checklist';
import { InputError } from '../engine/errors';
import { screenshotFor, writeFileAtomic } from '../engine/results';

/**
 * Fills the checklist's Phase 3 section from a run and writes it in one atomic step (a crash
 * leaves the old file whole). A missing file is created only when asked.
 */
export function writeChecklist(file: string, run: RunResult, options: { create?: boolean; dryRun?: boolean } = {}): ChecklistOutcome {
  let text: string;
  const existed = fs.existsSync(file);
  if (existed) {
    text = fs.readFileSync(file, 'utf8');
  } else if (options.create) {
    text = newChecklist();
  } else {
    throw new InputError(`${file}: no such file (pass --create to start a new checklist)`);
  }
  const outcome = fillChecklist(text, run, { screenshot: screenshotFor(file) });
  const changed = outcome.markdown !== text || !existed;
  if (changed && !options.dryRun) writeFileAtomic(file, outcome.markdown);
  return outcome;
}

/** What changed, one line each, `file:line` first so terminals and editors can jump there. */
export function describeOutcome(file: string, outcome: ChecklistOutcome, dryRun = false): string {
  const where = (line: number): string => `${file}:${line}`;
  const lines: string[] = [];
  if (outcome.sectionAdded) lines.push(`${file}: the Phase 3 section was missing; added it with the standard items`);
  for (const c of outcome.changes) {
    const label = c.criterionId ? ` [${c.criterionId}]` : '';
    lines.push(`${where(c.line)}: ${c.what}${label}: ${c.after.trim()}`);
  }
  for (const u of outcome.unmatched) lines.push(`${where(u.line)}: left alone (${u.reason}): ${u.text.trim()}`);
  const verb = dryRun ? 'would change' : 'changed';
  lines.push(outcome.changes.length ? `${file}: ${verb} ${outcome.changes.length} place(s)` : `${file}: already up to date`);
  return lines.join('\n');
}
