import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedConfig } from './config';
import { parseJson } from './config';
import { InputError } from './errors';
import type { ApiOptions } from './tasks/api';
import { isLoopbackHost, type HttpRequestSpec } from './load/target';
import { redactUrl } from './redact';
import type { TaskSpec } from '../shared/protocol';
import { TASK_IDS, type RunTarget, type TaskId } from '../shared/result';
import { IMPLEMENTED_TASKS } from './tasks/catalog';
import { DEFAULT_TABLE, USAGE_BUFFER_DEFAULTS, type UsageBufferOptions } from './tasks/usageBuffer/types';
import { newRunId } from './results';
import { DB_DEFAULTS, type DbOptions } from './tasks/db/types';
import { USERS_DEFAULTS, parseStages, totalDurationS, type Stage, type UsersOptions } from './tasks/users/types';

/** What the command line (or the extension) may set over the config file. */
export interface Overrides {
  url?: string;
  bodyFile?: string;
  requests?: number;
  connections?: number;
  durationS?: number;
  rate?: number;
  timeoutMs?: number;
  warmupS?: number;
  operations?: number;
  concurrency?: number;
  keepRows?: boolean;
  metricsUrls?: string[];
  stages?: string;
  thinkTimeMs?: number;
  intervalS?: number;
  workers?: number;
  /** The demo target's PostgreSQL, sampled for CPU and memory. */
  localPid?: number;
  dbUrl?: string;
  allowRemote?: boolean;
}

export interface RunPlan {
  /** Chosen up front: the usage-buffer task names its rows after it. */
  runId: string;
  tasks: TaskSpec[];
  /** Asked for but not built yet: reported as such, never faked. */
  notImplemented: TaskId[];
  /** The request sent once before any load, when a task loads the API. */
  preflight: HttpRequestSpec | null;
  /** For the result file: passwords and tokens already redacted. */
  target: RunTarget;
  /** Values that must never appear in output (tokens, passwords). */
  secrets: string[];
  /** The database URL with its password, for tasks that connect (never written anywhere). */
  dbUrl: string | null;
}

export const DEFAULTS = {
  requests: 1000,
  connections: 100,
  timeoutMs: 10_000,
  maxDurationS: 600,
  intervalMs: 1000,
  query: '{ __typename }',
} as const;

export function parseTaskList(words: readonly string[]): TaskId[] {
  const tasks: TaskId[] = [];
  for (const word of words) {
    if (word === 'all') tasks.push(...TASK_IDS);
    else if ((TASK_IDS as readonly string[]).includes(word)) tasks.push(word as TaskId);
    else throw new InputError(`unknown task "${word}": expected one of ${[...TASK_IDS, 'all'].join(', ')}`);
  }
  return [...new Set(tasks)];
}

/** The request body: a body file (ab -p query.json), an inline query, or `{ __typename }`. */
function resolveBody(loaded: LoadedConfig, overrides: Overrides, cwd: string): string {
  const request = loaded.config.request ?? {};
  const file = overrides.bodyFile ? path.resolve(cwd, overrides.bodyFile) : request.bodyFile ? path.resolve(loaded.baseDir, request.bodyFile) : null;
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const where = overrides.bodyFile ? '--body' : `${loaded.file}: $.request.bodyFile`;
      throw new InputError(`${where}: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code ?? 'error'})`);
    }
    const body = parseJson(text, file);
    if (!body || typeof body !== 'object' || typeof (body as { query?: unknown }).query !== 'string') {
      throw new InputError(`${file}: $.query: expected a GraphQL query string`);
    }
    return JSON.stringify(body);
  }
  const query = request.query ?? DEFAULTS.query;
  return JSON.stringify({
    query,
    ...(request.variables ? { variables: request.variables } : {}),
    ...(request.operationName ? { operationName: request.operationName } : {}),
  });
}

function resolveHeaders(loaded: LoadedConfig, env: NodeJS.ProcessEnv, secrets: string[]): Record<string, string> {
  const target = loaded.config.target ?? {};
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...(target.headers ?? {}) };
  if (target.authorizationEnv) {
    const value = env[target.authorizationEnv];
    if (!value) {
      throw new InputError(`${loaded.file ?? 'config'}: $.target.authorizationEnv: environment variable ${target.authorizationEnv} is not set`);
    }
    headers.authorization = value;
    secrets.push(value, value.replace(/^Bearer\s+/i, ''));
  }
  return headers;
}

function resolveDbUrl(loaded: LoadedConfig, overrides: Overrides, env: NodeJS.ProcessEnv, secrets: string[]): string | null {
  const raw = overrides.dbUrl ?? env.PHASE3_DB_URL ?? loaded.config.database?.url ?? null;
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`database URL is not a URL: ${redactUrl(raw)}`);
  }
  const passwordEnv = loaded.config.database?.passwordEnv;
  if (passwordEnv && !url.password) {
    const password = env[passwordEnv];
    if (!password) throw new InputError(`${loaded.file ?? 'config'}: $.database.passwordEnv: environment variable ${passwordEnv} is not set`);
    url.password = password;
  }
  if (url.password) secrets.push(decodeURIComponent(url.password));
  return url.toString();
}

/** Load, health polls and metric scrapes stay on this machine unless the user allowed others. */
function assertOnThisMachine(host: string, what: string, allowed: boolean | undefined): void {
  if (!isLoopbackHost(host) && !allowed) {
    throw new InputError(`refusing to ${what}, which is not on this machine: pass --allow-remote or set target.allowRemote to confirm`);
  }
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) throw new InputError(`${name}: expected a positive number, got ${value}`);
  return value;
}

/** The soak's options: stages from --stages or the config, think time, interval, health URLs. */
function usersOptions(loaded: LoadedConfig, overrides: Overrides, request: HttpRequestSpec): UsersOptions {
  const users = loaded.config.users ?? {};
  const d = USERS_DEFAULTS;
  const raw = overrides.stages ?? users.stages ?? d.stages;
  const stages: Stage[] = typeof raw === 'string' ? parseStages(raw) : raw.map((s) => ({ durationS: s.durationS, target: s.target }));
  const thinkTimeMs = overrides.thinkTimeMs ?? users.thinkTimeMs ?? d.thinkTimeMs;
  if (!Number.isFinite(thinkTimeMs) || thinkTimeMs < 0) throw new InputError(`--think-time: expected 0 or more milliseconds, got ${thinkTimeMs}`);
  const intervalMs = overrides.intervalS !== undefined ? (positive('--interval', overrides.intervalS) ?? 5) * 1000 : users.intervalMs ?? d.intervalMs;
  const totalS = totalDurationS(stages);
  const configured = overrides.workers ?? users.workers;
  const workers = configured === 'auto' ? undefined : configured;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 64)) {
    throw new InputError(`--workers: expected a whole number of load threads from 1 to 64, got ${workers}`);
  }
  for (const url of users.healthUrls ?? []) {
    const host = new URL(url).hostname;
    assertOnThisMachine(host, `poll ${host}`, overrides.allowRemote || loaded.config.target?.allowRemote);
  }
  return {
    request,
    stages,
    thinkTimeMs,
    intervalMs,
    healthEveryMs: users.healthEveryMs ?? d.healthEveryMs,
    healthUrls: users.healthUrls ?? [],
    maxDurationS: users.maxDurationS ?? totalS + request.timeoutMs / 1000 + 30,
    ...(workers !== undefined ? { workers } : {}),
  };
}


/** The database check's options: the config's `db`, the flags, the database. */
function dbOptions(loaded: LoadedConfig, overrides: Overrides, dbUrl: string | null, runId: string, alongside: boolean): DbOptions {
  const db = loaded.config.db ?? {};
  if (!dbUrl) throw new InputError('db needs a database: pass --db-url, set PHASE3_DB_URL or database.url');
  const d = DB_DEFAULTS;
  const maxDurationS = db.maxDurationS ?? d.maxDurationS;
  const durationS = positive('--duration', overrides.durationS) ?? db.durationS ?? d.durationS;
  const options: DbOptions = {
    dbUrl,
    runId,
    // Alongside, the probes go on until the load tasks are done (bounded by maxDurationS).
    durationS: alongside ? maxDurationS : durationS,
    readRate: db.readRate ?? d.readRate,
    writeRate: db.writeRate ?? d.writeRate,
    concurrency: db.concurrency ?? d.concurrency,
    statementTimeoutMs: db.statementTimeoutMs ?? d.statementTimeoutMs,
    metricsUrls: [...(db.metricsUrls ?? []), ...(overrides.metricsUrls ?? [])],
    nodeExporterUrls: db.nodeExporterUrls ?? [],
    intervalMs: d.intervalMs,
    maxDurationS: alongside ? maxDurationS : Math.max(maxDurationS, durationS + 60),
  };
  for (const url of [...options.metricsUrls, ...options.nodeExporterUrls]) {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw new InputError(`metrics URL is not a URL: ${redactUrl(url)}`);
    }
    assertOnThisMachine(host, `scrape ${host}`, overrides.allowRemote || loaded.config.target?.allowRemote);
  }
  if (overrides.allowRemote || loaded.config.target?.allowRemote) options.allowRemoteMetrics = true;
  if (db.readSql) options.readSql = db.readSql;
  if (db.cores !== undefined) options.cores = db.cores;
  if (db.diskMountpoint) options.diskMountpoint = db.diskMountpoint;
  if (db.probeSchema) options.probeSchema = db.probeSchema;
  if (overrides.localPid !== undefined) options.localPid = overrides.localPid;
  return options;
}

/** The usage-buffer task's options: the config's `usageBuffer`, the flags, the database. */
function usageBufferOptions(loaded: LoadedConfig, overrides: Overrides, dbUrl: string | null, runId: string): UsageBufferOptions {
  const ub = loaded.config.usageBuffer ?? {};
  const where = loaded.file ?? 'config';
  if (!dbUrl && !ub.script) {
    throw new InputError('usage-buffer needs a database: pass --db-url, set PHASE3_DB_URL or database.url (or give usageBuffer.script to run your own test)');
  }
  const whole = (name: string, v: number | undefined): number | undefined => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InputError(`${name}: expected a whole number of at least 1, got ${v}`);
    return v;
  };
  const statementTimeoutMs = ub.statementTimeoutMs ?? USAGE_BUFFER_DEFAULTS.statementTimeoutMs;
  const d = USAGE_BUFFER_DEFAULTS;
  const options: UsageBufferOptions = {
    ...(dbUrl ? { dbUrl } : {}),
    operations: whole('--ops', overrides.operations) ?? ub.operations ?? d.operations,
    concurrency: whole('--concurrency', overrides.concurrency) ?? ub.concurrency ?? d.concurrency,
    keys: ub.keys ?? d.keys,
    runId,
    table: { ...DEFAULT_TABLE, ...(ub.table ?? {}) },
    keepRows: overrides.keepRows ?? ub.keepRows ?? d.keepRows,
    statementTimeoutMs,
    clientTimeoutMs: ub.clientTimeoutMs ?? statementTimeoutMs + d.clientTimeoutGraceMs,
    maxRetries: ub.maxRetries ?? d.maxRetries,
    intervalMs: d.intervalMs,
    maxDurationS: ub.maxDurationS ?? d.maxDurationS,
  };
  if (ub.upsertSql) options.upsertSql = ub.upsertSql;
  if (ub.flush) {
    if (ub.flush.mode === 'custom' && !ub.flush.statements?.length) throw new InputError(`${where}: $.usageBuffer.flush.statements: the custom flush needs its statements`);
    options.flush = { mode: ub.flush.mode, everyMs: ub.flush.everyMs ?? d.flushEveryMs, ...(ub.flush.statements ? { statements: ub.flush.statements } : {}) };
  }
  if (ub.script) {
    options.script = {
      command: ub.script.command,
      runs: ub.script.runs ?? d.script.runs,
      parallelism: ub.script.parallelism ?? d.script.parallelism,
      timeoutMs: ub.script.timeoutMs ?? d.script.timeoutMs,
      cwd: path.resolve(loaded.baseDir, ub.script.cwd ?? '.'),
      ...(ub.script.patterns ? { patterns: ub.script.patterns } : {}),
    };
  }
  return options;
}

/**
 * Turns the config, the command line's overrides and the environment into what each task runs.
 * Everything a user can get wrong is checked here, before any load is sent.
 */
export function buildPlan(taskIds: readonly TaskId[], loaded: LoadedConfig, overrides: Overrides, env: NodeJS.ProcessEnv, cwd: string): RunPlan {
  const config = loaded.config;
  const secrets: string[] = [];
  const thresholds = { ...(config.thresholds ?? {}) };
  const implemented = taskIds.filter((t) => IMPLEMENTED_TASKS.includes(t));
  const notImplemented = taskIds.filter((t) => !IMPLEMENTED_TASKS.includes(t));
  const needsApi = implemented.includes('api') || implemented.includes('users');

  const rawUrl = overrides.url ?? config.target?.url;
  let request: HttpRequestSpec | null = null;
  if (needsApi) {
    if (!rawUrl) throw new InputError('no target URL: pass --url URL or set target.url in phase3.config.json');
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new InputError(`${overrides.url ? '--url' : '$.target.url'}: not a URL: ${redactUrl(rawUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InputError(`${overrides.url ? '--url' : '$.target.url'}: expected an http:// or https:// URL, got ${url.protocol}`);
    }
    assertOnThisMachine(url.hostname, `send load to ${url.host}`, overrides.allowRemote || config.target?.allowRemote);
    const api = config.api ?? {};
    const timeoutMs = positive('--timeout', overrides.timeoutMs) ?? api.timeoutMs ?? DEFAULTS.timeoutMs;
    if (timeoutMs < 1000) throw new InputError(`--timeout: expected at least 1000 ms, got ${timeoutMs}`);
    request = { url: url.toString(), method: 'POST', headers: resolveHeaders(loaded, env, secrets), body: resolveBody(loaded, overrides, cwd), timeoutMs };
  }

  const tasks: TaskSpec[] = [];
  if (implemented.includes('api') && request) {
    const api = config.api ?? {};
    const connections = positive('--connections', overrides.connections) ?? api.connections ?? DEFAULTS.connections;
    const durationS = positive('--duration', overrides.durationS) ?? (overrides.requests === undefined ? api.durationS : undefined);
    const rate = positive('--rate', overrides.rate) ?? api.rate;
    const warmupS = overrides.warmupS !== undefined ? (overrides.warmupS < 0 ? positive('--warmup', overrides.warmupS) : overrides.warmupS) : api.warmupS;
    const requests = durationS === undefined ? positive('--requests', overrides.requests) ?? api.requests ?? DEFAULTS.requests : undefined;
    if (!Number.isInteger(connections)) throw new InputError(`--connections: expected a whole number, got ${connections}`);
    if (requests !== undefined && !Number.isInteger(requests)) throw new InputError(`--requests: expected a whole number, got ${requests}`);
    if (requests !== undefined && rate === undefined && requests < connections) {
      throw new InputError(`--requests (${requests}) must be at least --connections (${connections}): every connection sends at least one request`);
    }
    const expectedS = durationS ?? (rate !== undefined && requests !== undefined ? requests / rate : undefined);
    const options: ApiOptions = {
      request,
      connections,
      requests,
      durationS,
      rate,
      // A count run gets a bound too, so a dead server cannot keep it going for ever.
      maxDurationS: (api.maxDurationS ?? (expectedS !== undefined ? expectedS + request.timeoutMs / 1000 + 5 : DEFAULTS.maxDurationS)) + (warmupS ?? 0),
      intervalMs: DEFAULTS.intervalMs,
      ...(warmupS ? { warmupS } : {}),
    };
    tasks.push({ task: 'api', options, thresholds });
  }

  const dbUrl = resolveDbUrl(loaded, overrides, env, secrets);
  const runId = newRunId();
  if (implemented.includes('users') && request) tasks.push({ task: 'users', options: usersOptions(loaded, overrides, request), thresholds });
  if (implemented.includes('usage-buffer')) tasks.push({ task: 'usage-buffer', options: usageBufferOptions(loaded, overrides, dbUrl, runId), thresholds });
  if (implemented.includes('db')) {
    // With load tasks in the run the check runs alongside them, "under load", until they finish.
    const alongside = tasks.length > 0;
    tasks.push({ task: 'db', options: dbOptions(loaded, overrides, dbUrl, runId, alongside), thresholds, ...(alongside ? { alongside } : {}) });
  }
  return {
    runId,
    tasks,
    notImplemented,
    preflight: request,
    target: { url: rawUrl ? redactUrl(rawUrl) : null, db: dbUrl ? redactUrl(dbUrl) : null },
    secrets: [...new Set(secrets)],
    dbUrl,
  };
}
