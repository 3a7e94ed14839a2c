/**
 * The two generators, each run as its own child process under GNU time:
 *   ours: `node bin/phase3.js run api ... --json FILE` (the full CLI path: pre-flight, the task in a
 *         worker thread, GraphQL error checking on every body);
 *   raw:  `node node_modules/autocannon/autocannon.js ... --json URL` with the same request.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ApiMetrics } from '../src/shared/result';
import { REPO_ROOT, TMP_DIR, runMeasured, type Measured } from './proc';

const BIN = path.join(REPO_ROOT, 'bin', 'phase3.js');
const AUTOCANNON = path.join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js');
export const QUERY_BODY = JSON.stringify({ query: '{ __typename }' });

export type Load = { durationS: number; amount?: undefined } | { amount: number; durationS?: undefined };

export interface GeneratorRun {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  measured: Measured;
}

/** Generous bound for a child: its load, plus start-up, plus slack on a noisy machine. */
function timeoutFor(load: Load): number {
  return ((load.durationS ?? 30) + 60) * 1000;
}

let runSeq = 0;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function apiMetricsOf(file: string, m: Measured): ApiMetrics {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`phase3 wrote no readable --json result (exit ${m.code}): ${String(err)}\nstderr:\n${m.stderr}\nstdout:\n${m.stdout}`);
  }
  const api = isRecord(parsed) && isRecord(parsed.tasks) ? parsed.tasks.api : undefined;
  if (!isRecord(api) || !isRecord(api.metrics) || typeof api.metrics.requests !== 'number') {
    throw new Error(`phase3 --json result has no tasks.api.metrics.requests (exit ${m.code})`);
  }
  if (api.status !== 'passed' && api.status !== 'failed') {
    throw new Error(`phase3 api task ended "${String(api.status)}": ${String(api.error ?? '')}`);
  }
  return api.metrics as unknown as ApiMetrics;
}

export async function runOurs(url: string, connections: number, load: Load, opts: { pollRss?: boolean } = {}): Promise<GeneratorRun> {
  const json = path.join(TMP_DIR, `ours-${++runSeq}.json`);
  const loadArgs = load.durationS !== undefined ? ['-d', String(load.durationS)] : ['-n', String(load.amount)];
  const m = await runMeasured(
    [process.execPath, BIN, 'run', 'api', '--url', url, '-c', String(connections), ...loadArgs, '--json', json],
    // cwd: a scratch directory, so the CLI's .phase3/runs history lands there, not in the repo.
    { cwd: TMP_DIR, timeoutMs: timeoutFor(load), pollRss: opts.pollRss },
  );
  // 0: passed, 1: a criterion failed (none are configured here); anything else is a broken run.
  if (m.code !== 0 && m.code !== 1) throw new Error(`phase3 exited ${m.code}\nstderr:\n${m.stderr}`);
  const metrics = apiMetricsOf(json, m);
  return {
    requests: metrics.requests,
    errors: metrics.errors,
    p50Ms: metrics.latencyMs?.p50 ?? null,
    p99Ms: metrics.latencyMs?.p99 ?? null,
    measured: m,
  };
}

export async function runRaw(url: string, connections: number, load: Load, opts: { pollRss?: boolean } = {}): Promise<GeneratorRun> {
  const loadArgs = load.durationS !== undefined ? ['-d', String(load.durationS)] : ['-a', String(load.amount)];
  const m = await runMeasured(
    [process.execPath, AUTOCANNON, '-c', String(connections), ...loadArgs, '-m', 'POST', '-H', 'content-type=application/json', '-b', QUERY_BODY, '--json', url],
    { cwd: TMP_DIR, timeoutMs: timeoutFor(load), pollRss: opts.pollRss },
  );
  if (m.code !== 0) throw new Error(`autocannon exited ${m.code}\nstderr:\n${m.stderr}`);
  const line = m.stdout.split('\n').find((l) => l.startsWith('{'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(line ?? '');
  } catch {
    throw new Error(`autocannon printed no JSON result:\n${m.stdout}\n${m.stderr}`);
  }
  if (!isRecord(parsed) || !isRecord(parsed.requests) || typeof parsed.requests.total !== 'number' || !isRecord(parsed.latency)) {
    throw new Error('autocannon JSON has no requests.total');
  }
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  return {
    requests: parsed.requests.total,
    errors: num(parsed.errors) + num(parsed.non2xx),
    p50Ms: typeof parsed.latency.p50 === 'number' ? parsed.latency.p50 : null,
    p99Ms: typeof parsed.latency.p99 === 'number' ? parsed.latency.p99 : null,
    measured: m,
  };
}

/** bench/ac-fractional.ts: autocannon as a library, fractional per-response timings, no engine. */
export async function runFractional(url: string, connections: number, amount: number): Promise<{ requests: number; p50Ms: number; p99Ms: number }> {
  const script = path.join(REPO_ROOT, 'bench', 'ac-fractional.ts');
  const m = await runMeasured([process.execPath, '--import', 'tsx', script, url, String(connections), String(amount)], {
    cwd: REPO_ROOT,
    timeoutMs: timeoutFor({ amount }),
  });
  if (m.code !== 0) throw new Error(`ac-fractional exited ${m.code}\nstderr:\n${m.stderr}`);
  const parsed: unknown = JSON.parse(m.stdout.trim().split('\n').pop() ?? '');
  if (!isRecord(parsed) || typeof parsed.requests !== 'number' || typeof parsed.p50 !== 'number' || typeof parsed.p99 !== 'number') {
    throw new Error(`ac-fractional printed ${m.stdout}`);
  }
  return { requests: parsed.requests, p50Ms: parsed.p50, p99Ms: parsed.p99 };
}

/** Peak RSS (MB) of `node -e CODE` in the repo: what loading a bundle costs before any load. */
export async function peakRssOf(code: string): Promise<number> {
  const m = await runMeasured([process.execPath, '-e', code], { cwd: REPO_ROOT, timeoutMs: 30_000 });
  if (m.code !== 0) throw new Error(`node -e ${code} exited ${m.code}\n${m.stderr}`);
  return m.peakRssMb;
}
