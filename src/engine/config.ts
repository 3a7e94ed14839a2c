import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../schemas/phase3.config.schema.json';
import { parse as parseJsonc, printParseErrorCode, type ParseError, type ParseErrorCode } from 'jsonc-parser';
import { InputError } from './errors';

/** phase3.config.json, as the schema describes it. */
export interface Phase3Config {
  $schema?: string;
  target?: {
    url?: string;
    headers?: Record<string, string>;
    authorizationEnv?: string;
    allowRemote?: boolean;
  };
  request?: {
    bodyFile?: string;
    query?: string;
    variables?: Record<string, unknown>;
    operationName?: string;
  };
  database?: { url?: string; passwordEnv?: string };
  api?: {
    requests?: number;
    connections?: number;
    durationS?: number;
    rate?: number;
    timeoutMs?: number;
    maxDurationS?: number;
    warmupS?: number;
  };
  usageBuffer?: {
    operations?: number;
    concurrency?: number;
    keys?: number;
    table?: { schema?: string; name?: string; userId?: string; bandwidth?: string; compute?: string; requests?: string; updatedAt?: string | null };
    upsertSql?: string;
    keepRows?: boolean;
    statementTimeoutMs?: number;
    clientTimeoutMs?: number;
    maxRetries?: number;
    maxDurationS?: number;
    flush?: { mode: 'two-step' | 'delete-returning' | 'custom'; statements?: string[]; everyMs?: number };
    script?: { command: string; runs?: number; parallelism?: number; timeoutMs?: number; cwd?: string; patterns?: { averageMs?: string; p99Ms?: string; passing?: string; failing?: string } };
  };
  db?: {
    durationS?: number;
    readRate?: number;
    writeRate?: number;
    concurrency?: number;
    readSql?: string;
    statementTimeoutMs?: number;
    metricsUrls?: string[];
    nodeExporterUrls?: string[];
    cores?: number;
    diskMountpoint?: string;
    probeSchema?: string;
    maxDurationS?: number;
  };
  users?: {
    stages?: string | Array<{ durationS: number; target: number }>;
    thinkTimeMs?: number;
    intervalMs?: number;
    healthEveryMs?: number;
    workers?: number | 'auto';
    healthUrls?: string[];
    maxDurationS?: number;
  };
  thresholds?: Record<string, number>;
  checklist?: string;
}

export const CONFIG_FILE_NAME = 'phase3.config.json';

export interface LoadedConfig {
  config: Phase3Config;
  /** The file it came from, or null when no file was used. */
  file: string | null;
  /** Relative paths in the config resolve against this folder. */
  baseDir: string;
}

let compiled: ValidateFunction<Phase3Config> | null = null;
/** Compiled on first use, so importing the engine costs nothing. */
function schemaValidator(): ValidateFunction<Phase3Config> {
  compiled ??= new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile<Phase3Config>(schema);
  return compiled;
}

/** `/api/connections` -> `$.api.connections` */
function jsonPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((acc, p) => (/^[A-Za-z_$][\w$]*$/.test(p) ? `${acc}.${p}` : /^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}[${JSON.stringify(p)}]`), '$');
}

function describe(err: ErrorObject, data: unknown): string {
  const got = (value: unknown): string => (value === undefined ? '' : `, got ${JSON.stringify(value)}`);
  const valueAt = (instancePath: string): unknown =>
    instancePath.split('/').slice(1).reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
  switch (err.keyword) {
    case 'additionalProperties': {
      const prop = (err.params as { additionalProperty: string }).additionalProperty;
      return `${jsonPath(err.instancePath, prop)}: unknown property`;
    }
    case 'propertyNames':
      return `${jsonPath(err.instancePath)}: ${err.message}`;
    case 'enum':
      if (err.propertyName !== undefined) {
        return `${jsonPath(err.instancePath, err.propertyName)}: not a criterion id (see the schema for the list)`;
      }
      return `${jsonPath(err.instancePath)}: expected one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}${got(valueAt(err.instancePath))}`;
    case 'not':
      return `${jsonPath(err.instancePath)}: give either bodyFile or query, not both`;
    case 'pattern':
      return `${jsonPath(err.instancePath)}: expected a string matching ${(err.params as { pattern: string }).pattern}${got(valueAt(err.instancePath))}`;
    default:
      return `${jsonPath(err.instancePath)}: expected ${err.message?.replace(/^must be /, '').replace(/^must /, '')}${got(valueAt(err.instancePath))}`;
  }
}

/** Validates parsed JSON against the schema; every problem is one line naming its JSON path. */
export function validateConfig(data: unknown, source: string): Phase3Config {
  const validateSchema = schemaValidator();
  if (validateSchema(data)) return data;
  const lines = (validateSchema.errors ?? [])
    // A propertyNames failure reports twice (the name and the keyword); keep the useful line.
    .filter((e) => !(e.keyword === 'propertyNames' && validateSchema.errors?.some((o) => o.keyword === 'enum' && o.propertyName !== undefined)))
    .map((e) => `${source}: ${describe(e, data)}`);
  throw new InputError([...new Set(lines)]);
}

/** Line and column of a character offset, 1-based. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Parses JSON with comments (the config template is commented), turning the first syntax error
 * into `file:line:column: message`.
 */
export function parseJson(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length === 0) return value;
  const first = errors[0];
  const where = lineColumn(text, first.offset);
  throw new InputError(`${source}:${where.line}:${where.column}: invalid JSON: ${describeParseError(first.error)}`);
}

function describeParseError(code: ParseErrorCode): string {
  const text = printParseErrorCode(code);
  // InvalidSymbol -> invalid symbol; PropertyNameExpected -> property name expected
  return text.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the config file (${code === 'ENOENT' ? 'no such file' : code ?? 'error'})`);
  }
  const config = validateConfig(parseJson(text, file), file);
  return { config, file, baseDir: path.dirname(path.resolve(file)) };
}

/**
 * The config for a run: the file named, or ./phase3.config.json when present, or an empty one.
 */
export function findConfig(explicit: string | undefined, cwd: string): LoadedConfig {
  if (explicit) return loadConfigFile(path.resolve(cwd, explicit));
  const implicit = path.join(cwd, CONFIG_FILE_NAME);
  if (fs.existsSync(implicit)) return loadConfigFile(implicit);
  return { config: {}, file: null, baseDir: cwd };
}
