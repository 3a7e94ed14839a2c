/**
 * The checklist writer: a `MAINNET_MIGRATION_CHECKLIST.md` and a run result in, the new text,
 * the same change as minimal edits, and what changed out. Pure: no file system, no vscode.
 */
import { findPhase3 } from './parse';
import type { ChecklistItem } from './types';

export type { ChangeKind, ChecklistChange, ChecklistItem, ChecklistOutcome, FillOptions, TextEdit, UnmatchedReason } from './types';
export { fillChecklist, findCriterion } from './fill';
export { applyEdits } from './edits';
export { newChecklist } from './standard';
export { matchItem } from './match';
export { BLOCK_END as RESULTS_BLOCK_END, BLOCK_START as RESULTS_BLOCK_START } from './parse';

/** The Phase 3 heading and its task items with the criterion each is about (for CodeLens, hover, diagnostics). */
export function phase3Items(markdown: string): { heading: { line: number; text: string } | null; items: ChecklistItem[] } {
  const section = findPhase3(markdown);
  if (!section) return { heading: null, items: [] };
  return {
    heading: { line: section.heading.line, text: section.heading.text },
    items: section.items.map(({ line, start, end, text, subsection, criterionId, match, checked }) => ({ line, start, end, text, subsection, criterionId, match, checked })),
  };
}
