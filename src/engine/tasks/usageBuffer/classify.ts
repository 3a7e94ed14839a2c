/**
 * What a failed statement means for the increment it carried. The integrity check is only exact
 * if this is right: an increment is not idempotent, so only a statement that certainly did not
 * apply may be sent again.
 */

export type FailureKind =
  /** 40001 / 40P01 / 23505: the statement did not apply; send it again after a backoff. */
  | 'retry'
  /** The statement never left this side (the connection was already unusable): send it again. */
  | 'not-sent'
  /** 57014 statement_timeout: cancelled on the server, rolled back, not applied. */
  | 'statement-timeout'
  /** Connection lost while the statement was out (57P01 terminate, reset, end): maybe applied. */
  | 'unknown'
  /** Any other error: the statement did not apply (constraint, type, permission ...). */
  | 'failed';

export interface Classified {
  kind: FailureKind;
  /** SQLSTATE, or `connection` for an error without one. */
  code: string;
  message: string;
}

const RETRY_CODES = new Set(['40001', '40P01', '23505']);
/** YugabyteDB spells some serialization conflicts this way, with or without 40001. */
const RETRY_MESSAGE = /restart read required|all transparent retries exhausted|^try again\b/i;
/** pg raises these before sending anything: the client was already broken or closed. */
const NOT_SENT_MESSAGE = /not queryable/i;

export function sqlstateOf(err: unknown): string | null {
  if (!err || typeof err !== 'object') return null;
  const code = (err as { code?: unknown }).code;
  // SQLSTATEs are 5 characters; Node's own codes (ECONNRESET, EPIPE) are not.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

export function classifyError(err: unknown): Classified {
  const message = err instanceof Error ? err.message : String(err);
  const code = sqlstateOf(err);
  if (code) {
    if (RETRY_CODES.has(code) || RETRY_MESSAGE.test(message)) return { kind: 'retry', code, message };
    if (code === '57014') return { kind: 'statement-timeout', code, message };
    // 57P01-57P05 (terminated, crash shutdown, cannot connect now, idle timeouts), 08xxx
    // (connection exception): the connection went away with the statement out.
    if (code.startsWith('57P') || code.startsWith('08')) return { kind: 'unknown', code, message };
    return { kind: 'failed', code, message };
  }
  if (NOT_SENT_MESSAGE.test(message)) return { kind: 'not-sent', code: 'connection', message };
  return { kind: 'unknown', code: 'connection', message };
}

/** Errors after which the connection must not go back to the pool. */
export function breaksConnection(kind: FailureKind): boolean {
  return kind === 'unknown' || kind === 'not-sent';
}

/** Exponential backoff with full jitter: 0 .. min(cap, base * 2^attempt). */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 5, capMs = 1000): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
