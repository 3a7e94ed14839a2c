/**
 * Which criterion a checklist item is about: a table of subsection kinds (by the `###` heading's
 * text) and of item patterns within each kind. The subsection decides whose "P99 latency" an item
 * is; under a heading of no known kind (or none, or one that names two kinds) every rule applies,
 * so only an item whose words are unique to one criterion ("P99 read latency", "CPU usage") still
 * matches, and "P99 latency" there is ambiguous.
 */

export type SectionKind = 'usage-buffer' | 'api' | 'db' | 'users';

export const SECTION_KINDS: ReadonlyArray<{ kind: SectionKind; heading: RegExp }> = [
  { kind: 'usage-buffer', heading: /usage[\s_-]*buffer|\bupserts?\b/i },
  { kind: 'api', heading: /\bapi\b|graphql|endpoint/i },
  { kind: 'db', heading: /yugabyte|database|\bdb\b|postgres|\bysql\b|\bsql\b/i },
  { kind: 'users', heading: /\busers?\b|\bsoak\b/i },
];

/** P99 latency, but not a database's read or write P99. */
const P99 = /^(?!.*\b(?:read|write)\b).*\bp99\b/i;
/** Timeouts of requests, not of queries. */
const TIMEOUTS = /^(?!.*\bquer(?:y|ies)\b).*\btime[\s-]?outs?\b/i;
const ERROR_RATE = /\berror[\s-]*rate\b/i;

export const ITEM_RULES: ReadonlyArray<{ kind: SectionKind; item: RegExp; criterion: string }> = [
  { kind: 'usage-buffer', item: /\b(?:average|avg|mean)\b.*\blatenc/i, criterion: 'usage-buffer.avgLatency' },
  { kind: 'usage-buffer', item: P99, criterion: 'usage-buffer.p99' },
  // "100% success rate", but not "executed successfully"
  { kind: 'usage-buffer', item: /\bsuccess(?:\s*rate)?\b/i, criterion: 'usage-buffer.successRate' },
  { kind: 'usage-buffer', item: /\blost\s+updates?\b/i, criterion: 'usage-buffer.lostUpdates' },
  { kind: 'usage-buffer', item: /\batomic/i, criterion: 'usage-buffer.atomicUpserts' },
  { kind: 'usage-buffer', item: /\btest\s+script\b|\btests?\s+pass|\biterations?\b/i, criterion: 'usage-buffer.script' },

  { kind: 'api', item: /\bp95\b/i, criterion: 'api.p95' },
  { kind: 'api', item: P99, criterion: 'api.p99' },
  { kind: 'api', item: /\bconcurrent\s+connections?\b|\bconnections\b|\bconcurrency\b/i, criterion: 'api.concurrency' },
  { kind: 'api', item: ERROR_RATE, criterion: 'api.errorRate' },
  { kind: 'api', item: TIMEOUTS, criterion: 'api.timeouts' },

  { kind: 'db', item: /^(?=.*\bread\b)(?=.*(?:\bp99\b|\blatenc))/i, criterion: 'db.readP99' },
  { kind: 'db', item: /^(?=.*\bwrite\b)(?=.*(?:\bp99\b|\blatenc))/i, criterion: 'db.writeP99' },
  { kind: 'db', item: /\bcpu\b/i, criterion: 'db.cpu' },
  { kind: 'db', item: /\bmemory\b|\bram\b/i, criterion: 'db.memory' },
  { kind: 'db', item: /\bdisk\b|\bstorage\b/i, criterion: 'db.disk' },
  { kind: 'db', item: /\btime[\s-]?outs?\b/i, criterion: 'db.queryTimeouts' },

  { kind: 'users', item: /^(?!.*degrad).*(?:\bpeak\b|\bconcurrent\s+users\b|\busers?\s+(?:reached|sustained|tested)\b)/i, criterion: 'users.concurrency' },
  { kind: 'users', item: ERROR_RATE, criterion: 'users.errorRate' },
  { kind: 'users', item: TIMEOUTS, criterion: 'users.timeouts' },
  { kind: 'users', item: /\bdegrad|\bstable\b|\bstability\b/i, criterion: 'users.degradation' },
];

export type ItemMatch =
  | { match: 'matched'; criterionId: string }
  | { match: 'none'; criterionId: null }
  | { match: 'ambiguous'; criterionId: null; candidates: string[] };

/** The one kind a `###` heading names, or null (no heading, no known kind, or two kinds). */
export function subsectionKind(subsection: string | null): SectionKind | null {
  const kinds = subsection === null ? [] : SECTION_KINDS.filter((k) => k.heading.test(subsection));
  return kinds.length === 1 ? kinds[0].kind : null;
}

function sectionKinds(subsection: string | null): SectionKind[] {
  const kind = subsectionKind(subsection);
  return kind ? [kind] : SECTION_KINDS.map((k) => k.kind);
}

/** `text` is the item's words, with markdown emphasis and the writer's own notes already taken out. */
export function matchItem(subsection: string | null, text: string): ItemMatch {
  const kinds = sectionKinds(subsection);
  const candidates = [...new Set(ITEM_RULES.filter((r) => kinds.includes(r.kind) && r.item.test(text)).map((r) => r.criterion))];
  if (candidates.length === 1) return { match: 'matched', criterionId: candidates[0] };
  if (candidates.length === 0) return { match: 'none', criterionId: null };
  return { match: 'ambiguous', criterionId: null, candidates };
}
