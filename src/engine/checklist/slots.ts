import type { CriterionResult } from '../../shared/result';
import { formatNumber, SYMBOLS, unitSuffix } from '../criteria';

/**
 * The text forms the writer reads and writes inside an item: the blank (or the value a run
 * filled in), and the note on a failed criterion. Both have to be recognized again on the next
 * write, so that a newer run replaces them instead of adding to them.
 */

const NUM = String.raw`-?\d+(?:\.\d+)?(?:e[-+]?\d+)?`;
const UNIT = String.raw`(?:%| ms| s)`;

/** Unfilled: `**\_**`, `**___**`, `_____`, `___`, `\_\_\_`. */
const BLANK = String.raw`\*\*(?:\\_)+\*\*|\*\*_+\*\*|(?<![\w\\])_{3,}(?!\w)|(?:\\_){3,}`;
/** Filled by a run (or by hand, the same way): a bold number, with the unit when the item has none beside it. */
const FILLED = String.raw`\*\*${NUM}${UNIT}?\*\*`;

const BLANK_RE = new RegExp(BLANK);
const FILLED_RE = new RegExp(FILLED, 'g');

/** ` — ✗ measured 150 ms, target < 100 ms`: written after a failed item, found again by this pattern. */
const NOTE_RE = new RegExp(String.raw` ?— ✗ measured ${NUM}${UNIT}?, target (?:[<>≤≥=] )?${NUM}${UNIT}?`, 'g');

export interface TextSpan {
  start: number;
  end: number;
  text: string;
}

function spans(re: RegExp, text: string, base: number): TextSpan[] {
  const found: TextSpan[] = [];
  for (const m of text.matchAll(new RegExp(re.source, 'g'))) found.push({ start: base + (m.index ?? 0), end: base + (m.index ?? 0) + m[0].length, text: m[0] });
  return found;
}

/** The writer's notes in an item's text (more than one only if someone copied one). */
export function findNotes(text: string, base: number): TextSpan[] {
  return spans(NOTE_RE, text, base);
}

export function withoutNotes(text: string): string {
  return text.replace(NOTE_RE, '');
}

/**
 * The item's value slot: its first blank; else, once filled, the bold number after the label's
 * colon (or the first bold number when there is no colon). Offsets are into `text` plus `base`.
 */
export function findSlot(text: string, base: number): TextSpan | null {
  const noteless = maskNotes(text);
  const blank = BLANK_RE.exec(noteless);
  if (blank) return { start: base + blank.index, end: base + blank.index + blank[0].length, text: blank[0] };
  const filled = [...noteless.matchAll(FILLED_RE)];
  if (!filled.length) return null;
  const colon = noteless.indexOf(':');
  const pick = filled.find((m) => colon >= 0 && (m.index ?? 0) > colon) ?? filled[0];
  const at = pick.index ?? 0;
  return { start: base + at, end: base + at + pick[0].length, text: pick[0] };
}

/** Notes replaced by spaces of the same length, so offsets stay valid and a note's numbers are never a slot. */
function maskNotes(text: string): string {
  return text.replace(NOTE_RE, (m) => ' '.repeat(m.length));
}

/** A blank at the start of `text` (after spaces): the "Performance Screenshot" line's. */
export const LEADING_BLANK = new RegExp(String.raw`^[ \t]*(${BLANK})`);

/** A Test Results line's value: a blank, or the number a write put there. */
export const LINE_SLOT = String.raw`(?:${BLANK}|${NUM})`;

/** The note on a failed item; `ms`/`%` shown, counts bare. */
export function failureNote(c: CriterionResult): string {
  const u = unitSuffix(c.unit);
  const actual = c.actual === null ? '' : formatNumber(c.actual);
  return ` — ✗ measured ${actual}${u}, target ${SYMBOLS[c.comparator]} ${formatNumber(c.target)}${u}`;
}

/**
 * The value for an item's slot, in the item's unit: the unit written right after the blank
 * (`**\_** ms`, `**\_**%`, `**\_** s`) is kept outside the bold; with none there, the value
 * carries the criterion's own (`**42.5 ms**`, `**0.03%**`), counts stay bare.
 */
export function slotValue(c: CriterionResult & { actual: number }, after: string): string {
  const unitAfter = /^\s*(ms|s|%)(?![\w])/.exec(after)?.[1];
  if (c.unit === 'ms' && unitAfter === 's') return `**${formatNumber(c.actual / 1000)}**`;
  if ((c.unit === 'ms' && unitAfter === 'ms') || (c.unit === '%' && unitAfter === '%')) return `**${formatNumber(c.actual)}**`;
  return `**${formatNumber(c.actual)}${unitSuffix(c.unit)}**`;
}
