import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import type { ListItem, Nodes, Root, RootContent } from 'mdast';
import { matchItem } from './match';
import { withoutNotes } from './slots';
import type { ChecklistItem } from './types';

export const BLOCK_START = '<!-- phase3-perf:results:start -->';
export const BLOCK_END = '<!-- phase3-perf:results:end -->';

/** The "Performance Screenshot" label, bold, colon inside or after. */
export const SCREENSHOT_LABEL = /\*\*Performance Screenshots?\s*:?\*\*[ \t]*:?/i;

/** An item as the writer needs it: the public view plus where its checkbox and text are. */
export interface ParsedItem extends ChecklistItem {
  /** Offset of the character between the checkbox's brackets. */
  box: number;
  /** Offset where the item's text (`text`) starts. */
  textStart: number;
  /** The "Performance Screenshot" line written as a task item: not a criterion, and not reported as unmatched. */
  screenshot: boolean;
}

export interface Span {
  start: number;
  end: number;
}

export interface Phase3Section {
  heading: { line: number; text: string };
  /** From the heading's line to the next heading of depth ≤ 2, or the end of the text. */
  start: number;
  end: number;
  eol: string;
  items: ParsedItem[];
  /** Code blocks, with the subsection they are under (the Test Results block is one). */
  codeBlocks: Array<Span & { subsection: string | null }>;
  /** Paragraphs (at any depth) that carry the Performance Screenshot label. */
  screenshotLines: Span[];
  /** Results blocks a previous write left (normally one), start marker to end marker. */
  blocks: Span[];
  /** The section's last top-level node outside any results block. */
  last: { start: number; end: number; thematicBreak: boolean };
}

export interface ParsedDocument {
  root: Root;
  /** Offset in the text as given: the parser drops a byte-order mark, positions do not count it. */
  offset(pos: { offset?: number } | undefined): number;
}

export function parseMarkdown(markdown: string): ParsedDocument {
  const bom = markdown.charCodeAt(0) === 0xfeff ? 1 : 0;
  const root = fromMarkdown(bom ? markdown.slice(1) : markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  return { root, offset: (pos) => (pos?.offset ?? 0) + bom };
}

export function plainText(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string' && node.type !== 'html') return node.value;
  if ('children' in node) return (node.children as Nodes[]).map(plainText).join('');
  return '';
}

const PHASE_HEADING = /^phase\s*(\d+)\b/i;

/** The number of a top-level "Phase N" heading (`#` or `##`), else null. */
export function phaseNumber(node: RootContent): number | null {
  if (node.type !== 'heading' || node.depth > 2) return null;
  const m = PHASE_HEADING.exec(plainText(node).trim());
  return m ? Number(m[1]) : null;
}

/** The line ending the section (or, without one there, the file) already uses. */
export function detectEol(markdown: string, from = 0): string {
  const at = markdown.indexOf('\n', from);
  const nl = at >= 0 ? at : markdown.indexOf('\n');
  return nl > 0 && markdown[nl - 1] === '\r' ? '\r\n' : '\n';
}

export function lineStart(markdown: string, offset: number): number {
  return markdown.lastIndexOf('\n', offset - 1) + 1;
}

/** End of the line holding `offset`, before its line ending. */
export function lineEnd(markdown: string, offset: number): number {
  const nl = markdown.indexOf('\n', offset);
  if (nl < 0) return markdown.length;
  return nl > 0 && markdown[nl - 1] === '\r' ? nl - 1 : nl;
}

/** Pairs of results-block markers at line starts within [from, to). */
function findBlocks(markdown: string, from: number, to: number): Span[] {
  const blocks: Span[] = [];
  const section = markdown.slice(from, to);
  const marker = (m: string): RegExp => new RegExp(`^[ \\t]{0,3}${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'gm');
  const ends = [...section.matchAll(marker(BLOCK_END))].map((m) => (m.index ?? 0) + m[0].length);
  const starts = [...section.matchAll(marker(BLOCK_START))].map((m) => m.index ?? 0);
  let after = 0;
  for (const end of ends) {
    // the last start before this end and after the previous pair
    const start = starts.filter((s) => s >= after && s < end).pop();
    if (start === undefined) continue;
    blocks.push({ start: from + start, end: from + end });
    after = end;
  }
  return blocks;
}

const inside = (offset: number, spans: readonly Span[]): boolean => spans.some((s) => offset >= s.start && offset < s.end);

function matchText(text: string): string {
  return withoutNotes(text).replace(/[*`\\]|(?<!\w)_+|_+(?!\w)/g, ' ');
}

export function findPhase3(markdown: string, doc: ParsedDocument = parseMarkdown(markdown)): Phase3Section | null {
  const children = doc.root.children;
  const index = children.findIndex((n) => phaseNumber(n) === 3);
  if (index < 0) return null;
  const headingNode = children[index];
  // `## Phase 3` in the team's file: it ends at the next `#`/`##`, its subsections are `###` (a `# Phase 3`: the next `#`, and `##`)
  const depth = headingNode.type === 'heading' ? headingNode.depth : 2;
  const start = lineStart(markdown, doc.offset(headingNode.position?.start));
  let endIndex = children.length;
  for (let i = index + 1; i < children.length; i++) {
    const n = children[i];
    if (n.type === 'heading' && n.depth <= depth) {
      endIndex = i;
      break;
    }
  }
  const end = endIndex < children.length ? lineStart(markdown, doc.offset(children[endIndex].position?.start)) : markdown.length;
  const blocks = findBlocks(markdown, start, end);

  const items: ParsedItem[] = [];
  const codeBlocks: Phase3Section['codeBlocks'] = [];
  const screenshotLines: Span[] = [];
  let subsection: string | null = null;
  let last = { start: doc.offset(headingNode.position?.start), end: doc.offset(headingNode.position?.end), thematicBreak: false };

  const visit = (node: Nodes): void => {
    const nodeStart = doc.offset(node.position?.start);
    if (inside(nodeStart, blocks)) return;
    if (node.type === 'listItem' && typeof node.checked === 'boolean') {
      const item = toItem(markdown, doc, node, subsection);
      if (item) items.push(item);
    } else if (node.type === 'code') {
      codeBlocks.push({ start: nodeStart, end: doc.offset(node.position?.end), subsection });
    } else if (node.type === 'paragraph') {
      const raw = markdown.slice(nodeStart, doc.offset(node.position?.end));
      if (SCREENSHOT_LABEL.test(raw)) screenshotLines.push({ start: nodeStart, end: doc.offset(node.position?.end) });
    }
    if ('children' in node) for (const child of node.children as Nodes[]) visit(child);
  };

  for (let i = index + 1; i < endIndex; i++) {
    const node = children[i];
    const nodeStart = doc.offset(node.position?.start);
    if (inside(nodeStart, blocks)) continue;
    last = { start: nodeStart, end: doc.offset(node.position?.end), thematicBreak: node.type === 'thematicBreak' };
    if (node.type === 'heading' && node.depth === depth + 1) subsection = plainText(node).trim();
    visit(node);
  }

  return {
    heading: { line: headingNode.position?.start.line ?? 1, text: plainText(headingNode).trim() },
    start,
    end,
    eol: detectEol(markdown, start),
    items,
    codeBlocks,
    screenshotLines,
    blocks,
    last,
  };
}

function toItem(markdown: string, doc: ParsedDocument, node: ListItem, subsection: string | null): ParsedItem | null {
  const paragraph = node.children[0];
  if (!paragraph || paragraph.type !== 'paragraph') return null;
  const start = doc.offset(node.position?.start);
  const textStart = doc.offset(paragraph.position?.start);
  const box = /\[([ xX])\]/.exec(markdown.slice(start, textStart));
  if (!box) return null;
  const raw = markdown.slice(textStart, doc.offset(paragraph.position?.end));
  const text = raw.replace(/[ \t]+$/, '');
  const screenshot = SCREENSHOT_LABEL.test(text);
  const matched = screenshot ? { match: 'none' as const, criterionId: null } : matchItem(subsection, matchText(text));
  return {
    line: node.position?.start.line ?? 1,
    start,
    end: textStart + text.length,
    text,
    subsection,
    criterionId: matched.criterionId,
    match: matched.match,
    checked: node.checked === true,
    box: start + box.index + 1,
    textStart,
    screenshot,
  };
}
