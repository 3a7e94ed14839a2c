import type { TextEdit } from './types';

/**
 * Collects edits on one original text. An edit that would not change anything is dropped, so a
 * second write of the same run yields no edits at all; adjacent edits are merged, so two
 * insertions never share an offset (VS Code's WorkspaceEdit refuses those).
 */
export class EditList {
  private readonly edits: TextEdit[] = [];

  constructor(private readonly original: string) {}

  replace(start: number, end: number, text: string): void {
    if (start < 0 || end < start || end > this.original.length) throw new RangeError(`edit [${start}, ${end}) outside the text`);
    if (this.original.slice(start, end) === text) return;
    this.edits.push({ start, end, text });
  }

  insert(at: number, text: string): void {
    if (text) this.replace(at, at, text);
  }

  /** Sorted, merged where they touch; throws on an overlap, which would be a bug in the writer. */
  result(): TextEdit[] {
    const sorted = [...this.edits].sort((a, b) => a.start - b.start || a.end - b.end);
    const merged: TextEdit[] = [];
    for (const edit of sorted) {
      const last = merged[merged.length - 1];
      if (last && edit.start < last.end) throw new Error(`overlapping checklist edits at ${edit.start}`);
      if (last && edit.start === last.end) {
        merged[merged.length - 1] = { start: last.start, end: edit.end, text: last.text + edit.text };
      } else {
        merged.push({ ...edit });
      }
    }
    return merged;
  }
}

/** Applies sorted, non-overlapping edits to the text they were made on. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = '';
  let at = 0;
  for (const edit of edits) {
    if (edit.start < at || edit.end < edit.start || edit.end > text.length) throw new RangeError(`edit [${edit.start}, ${edit.end}) out of order or outside the text`);
    out += text.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + text.slice(at);
}
