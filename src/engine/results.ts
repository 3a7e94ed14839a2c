import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../shared/result';
import { parseJson } from './config';
import { InputError } from './errors';
import { redactText } from './redact';

export const RUNS_DIR = path.join('.phase3', 'runs');

/** Where the dashboard's "Save chart images" puts the charts: beside the checklist. */
export const CHARTS_DIR = 'phase3-charts';

/** The saved latency chart beside the checklist, as a link relative to it, when there is one. */
export function screenshotFor(checklist: string): string | undefined {
  const link = `${CHARTS_DIR}/phase3-api-latency.png`;
  return fs.existsSync(path.join(path.dirname(checklist), link)) ? link : undefined;
}

/** `20261204-210501-3f2a`: sorts by time, safe in file names. */
export function newRunId(at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

/** JSON for a result file, with every known secret value replaced. */
export function serializeRun(run: RunResult, secrets: readonly string[] = []): string {
  return redactText(JSON.stringify(run, null, 2), secrets) + '\n';
}

/** Writes atomically (temp file, then rename), so a crash never leaves half a result. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(3).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Saves to `<root>/.phase3/runs/<runId>.json` and returns the path. */
export function saveRun(root: string, run: RunResult, secrets: readonly string[] = []): string {
  const file = path.join(root, RUNS_DIR, `${run.runId}.json`);
  writeFileAtomic(file, serializeRun(run, secrets));
  return file;
}

export function readRunFile(file: string): RunResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`${file}: cannot read the run result`);
  }
  const data = parseJson(text, file) as Partial<RunResult>;
  if (!data || typeof data !== 'object' || data.schemaVersion !== 1 || typeof data.tasks !== 'object') {
    throw new InputError(`${file}: $.schemaVersion: not a phase3 run result (schemaVersion 1 expected)`);
  }
  return data as RunResult;
}

/** Run ids under `<root>/.phase3/runs`, oldest first. */
export function listRunIds(root: string): string[] {
  const dir = path.join(root, RUNS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** `latest`, a run id, or a path to a result file. */
export function resolveRun(root: string, ref: string = 'latest'): { run: RunResult; file: string } {
  if (ref === 'latest') {
    const ids = listRunIds(root);
    if (ids.length === 0) throw new InputError(`no runs saved yet under ${path.join(root, RUNS_DIR)}: run \`phase3 run\` first`);
    ref = ids[ids.length - 1];
  }
  const byId = path.join(root, RUNS_DIR, `${ref}.json`);
  const file = fs.existsSync(byId) ? byId : path.resolve(root, ref);
  if (!fs.existsSync(file)) throw new InputError(`no run "${ref}": not a run id under ${path.join(root, RUNS_DIR)} nor a file`);
  return { run: readRunFile(file), file };
}

/** 0: every task passed; 1: a criterion failed or a task did not finish. */
export function exitCodeFor(run: RunResult): 0 | 1 {
  const results = Object.values(run.tasks);
  if (results.length === 0) return 1;
  return results.every((t) => t?.status === 'passed') ? 0 : 1;
}
