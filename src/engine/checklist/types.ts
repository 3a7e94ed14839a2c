/** The checklist writer's public types (re-exported by index.ts; kept apart so the modules that build them need no cycle). */

/** A replacement of `[start, end)` of the ORIGINAL markdown by `text`. Lists of edits are sorted and never overlap or touch. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

export interface ChecklistItem {
  /** 1-based line of the task-list item. */
  line: number;
  /** Offsets of the item's own text: from its list marker to the end of its first paragraph (trailing spaces excluded). */
  start: number;
  end: number;
  /** The item's text as written, after the checkbox. */
  text: string;
  /** The `###` subsection it sits under, or null before the first one. */
  subsection: string | null;
  criterionId: string | null;
  match: 'matched' | 'none' | 'ambiguous';
  checked: boolean;
}

export type ChangeKind =
  | 'filled'
  | 'ticked'
  | 'unticked'
  | 'noted'
  | 'results-block'
  | 'section-added'
  | 'screenshot'
  | 'test-results';

/**
 * One change, for display. `before`/`after` are short one-line fragments (the blank and the
 * value, `[ ]` and `[x]`, the old and new note), not whole blocks: `markdown` and `edits` carry
 * the change itself. `line` is 1-based in the NEW markdown.
 */
export interface ChecklistChange {
  line: number;
  criterionId: string | null;
  what: ChangeKind;
  before: string;
  after: string;
}

export type UnmatchedReason = 'no criterion matches' | 'ambiguous' | 'not measured in this run';

export interface ChecklistOutcome {
  /** The new text. */
  markdown: string;
  /** The same change as minimal edits on the input: applying them to the input gives `markdown`. */
  edits: TextEdit[];
  changes: ChecklistChange[];
  /** Items left alone, with why; `line` is 1-based in the new markdown. */
  unmatched: Array<{ line: number; text: string; reason: UnmatchedReason }>;
  sectionAdded: boolean;
}

export interface FillOptions {
  /** A link to a chart image, relative to the checklist, for the "Performance Screenshot" line. */
  screenshot?: string;
}
