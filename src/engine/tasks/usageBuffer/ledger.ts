/**
 * What this side knows was sent: per key, the sums of acknowledged increments and of those whose
 * outcome is unknown. The integrity check compares them with what the table (and, with a
 * flusher, what was flushed) holds. Quantities are integers, so float8 sums stay exact.
 */
import type { HotKeyMetrics, IntegrityMetrics, QuantityTotals } from './types';

export const QUANTITIES = ['bandwidth', 'compute', 'requests'] as const;
export type Quantity = (typeof QUANTITIES)[number];

export const zeroTotals = (): QuantityTotals => ({ bandwidth: 0, compute: 0, requests: 0 });

export function addInto(into: QuantityTotals, add: QuantityTotals): void {
  into.bandwidth += add.bandwidth;
  into.compute += add.compute;
  into.requests += add.requests;
}

interface KeyEntry {
  acked: QuantityTotals;
  unknown: QuantityTotals;
  ackedOps: number;
  unknownOps: number;
}

export interface KeyPlan {
  /** All keys of the run: K random ones, then the hot key. */
  keys: string[];
  hotKey: string;
}

export function planKeys(runId: string, count: number): KeyPlan {
  const keys = Array.from({ length: count }, (_, i) => `phase3-${runId}-${i + 1}`);
  const hotKey = `phase3-${runId}-hot`;
  keys.push(hotKey);
  return { keys, hotKey };
}

/** One increment's quantities: each adds 1 request, so the requests column counts increments. */
export function randomIncrement(random: () => number = Math.random): QuantityTotals {
  return {
    bandwidth: 1 + Math.floor(random() * 1000),
    compute: 1 + Math.floor(random() * 100),
    requests: 1,
  };
}

export class Ledger {
  private readonly entries = new Map<string, KeyEntry>();

  constructor(readonly plan: KeyPlan) {
    for (const key of plan.keys) {
      this.entries.set(key, { acked: zeroTotals(), unknown: zeroTotals(), ackedOps: 0, unknownOps: 0 });
    }
  }

  private entry(key: string): KeyEntry {
    const e = this.entries.get(key);
    if (!e) throw new Error(`key ${key} is not a key of this run`);
    return e;
  }

  acknowledged(key: string, q: QuantityTotals): void {
    const e = this.entry(key);
    addInto(e.acked, q);
    e.ackedOps++;
  }

  unknownOutcome(key: string, q: QuantityTotals): void {
    const e = this.entry(key);
    addInto(e.unknown, q);
    e.unknownOps++;
  }

  ackedTotals(): QuantityTotals {
    const t = zeroTotals();
    for (const e of this.entries.values()) addInto(t, e.acked);
    return t;
  }

  /**
   * Compares every key of the run with what was found for it (rows left + rows flushed). A key
   * short in any quantity lost at least one update; the requests shortfall counts them exactly
   * when whole increments were lost. Phantoms are counted the same way above acked + unknown.
   */
  compare(found: ReadonlyMap<string, QuantityTotals>, rowsRead: number): { integrity: IntegrityMetrics; lostUpdates: number; phantomUpdates: number; hotKey: HotKeyMetrics } {
    const integrity: IntegrityMetrics = {
      rowsRead,
      keys: this.entries.size,
      keysWithLostUpdates: 0,
      keysWithPhantomUpdates: 0,
      expected: zeroTotals(),
      found: zeroTotals(),
      lost: zeroTotals(),
      phantom: zeroTotals(),
      unknownApplied: 0,
    };
    let lostUpdates = 0;
    let phantomUpdates = 0;
    let hotKey: HotKeyMetrics = { key: this.plan.hotKey, operations: 0, lostUpdates: 0, phantomUpdates: 0 };
    for (const [key, e] of this.entries) {
      const f = found.get(key) ?? zeroTotals();
      addInto(integrity.expected, e.acked);
      addInto(integrity.found, f);
      const lost = zeroTotals();
      const phantom = zeroTotals();
      for (const q of QUANTITIES) {
        lost[q] = Math.max(0, e.acked[q] - f[q]);
        phantom[q] = Math.max(0, f[q] - e.acked[q] - e.unknown[q]);
      }
      addInto(integrity.lost, lost);
      addInto(integrity.phantom, phantom);
      const keyLost = Math.max(lost.requests, lost.bandwidth > 0 || lost.compute > 0 ? 1 : 0);
      const keyPhantom = Math.max(phantom.requests, phantom.bandwidth > 0 || phantom.compute > 0 ? 1 : 0);
      if (keyLost) integrity.keysWithLostUpdates++;
      if (keyPhantom) integrity.keysWithPhantomUpdates++;
      lostUpdates += keyLost;
      phantomUpdates += keyPhantom;
      integrity.unknownApplied += Math.max(0, Math.min(f.requests - e.acked.requests, e.unknown.requests));
      if (key === this.plan.hotKey) hotKey = { key, operations: e.ackedOps, lostUpdates: keyLost, phantomUpdates: keyPhantom };
    }
    return { integrity, lostUpdates, phantomUpdates, hotKey };
  }
}

/** Sums rows (`userId` + quantities, numbers or numeric strings, null as 0) per key into `into`. */
export function sumRows(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: { userId: string; bandwidth: string; compute: string; requests: string },
  into: Map<string, QuantityTotals>,
): number {
  let n = 0;
  for (const row of rows) {
    const key = row[columns.userId];
    if (typeof key !== 'string') continue;
    const t = into.get(key) ?? zeroTotals();
    t.bandwidth += toNumber(row[columns.bandwidth]);
    t.compute += toNumber(row[columns.compute]);
    t.requests += toNumber(row[columns.requests]);
    into.set(key, t);
    n++;
  }
  return n;
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}
