/**
 * Bad input, bad config or an unreachable target, found before any load was sent: the CLI exits 2
 * and prints the message (one line each) without a stack trace.
 */
export class InputError extends Error {
  readonly lines: string[];
  constructor(lines: string | string[]) {
    const all = Array.isArray(lines) ? lines : [lines];
    super(all.join('\n'));
    this.name = 'InputError';
    this.lines = all;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err === undefined) return 'unknown error';
  return String(err);
}
