import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { TaskEvent } from '../shared/protocol';
import type { RunResult, TaskId } from '../shared/result';
import { findConfig, type LoadedConfig } from '../engine/config';
import { InputError, errorMessage } from '../engine/errors';
import { buildPlan, parseTaskList, type Overrides, type RunPlan } from '../engine/plan';
import { executeRun } from '../engine/runner';
import { exitCodeFor, resolveRun, saveRun, serializeRun, writeFileAtomic } from '../engine/results';
import { formatJunitReport, formatMarkdownReport, formatTextReport } from '../engine/report';
import { compareRuns, formatComparison } from '../engine/compare';
import { TOOL } from '../engine/tool';
import type { DemoTarget } from '../demo/target';
import { demoConfig } from '../demo/config';
import { ProgressLine } from './progress';
import { describeOutcome, writeChecklist } from './checklist';

/** Exit status: 0 every criterion passed, 1 a criterion failed, 2 bad input before any load. */
const EXIT_INPUT = 2;

interface RunFlags {
  config?: string;
  demo?: boolean;
  url?: string;
  body?: string;
  requests?: number;
  connections?: number;
  duration?: number;
  rate?: number;
  timeout?: number;
  warmup?: number;
  ops?: number;
  concurrency?: number;
  keepRows?: boolean;
  metricsUrl?: string[];
  stages?: string;
  thinkTime?: number;
  interval?: number;
  workers?: number;
  dbUrl?: string;
  allowRemote?: boolean;
  json?: string;
  checklist?: string;
}

const number = (name: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`${name}: expected a number, got "${value}"`);
  return n;
};

const workerPath = (): string => path.join(__dirname, 'worker.js');

/** Ctrl-C once: stop the load and keep what was measured. Twice: leave now. */
function cancelOnSigint(onForce: () => Promise<void>): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let presses = 0;
  const handler = (): void => {
    presses++;
    if (presses === 1) {
      process.stderr.write('\nstopping: keeping what was measured (Ctrl-C again to quit at once)\n');
      controller.abort();
    } else {
      void onForce().finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); } };
}

async function runAndReport(plan: RunPlan, options: { signal: AbortSignal; json?: string; checklist?: string; demo?: boolean; cwd: string }): Promise<number> {
  // A checklist that is not there is bad input: say so before any load is sent, not after.
  if (options.checklist && !fs.existsSync(path.resolve(options.cwd, options.checklist))) {
    throw new InputError(`--checklist: ${options.checklist}: no such file (create it with \`phase3 checklist --file ${options.checklist} --create\`)`);
  }
  const progress = new ProgressLine(process.stderr);
  const run: RunResult = await executeRun(plan, {
    signal: options.signal,
    workerPath: workerPath(),
    demo: options.demo,
    onPreflight: (report) => report.warnings.forEach((w) => process.stderr.write(`warning: ${w}\n`)),
    onTaskStart: (task) => progress.start(task),
    onEvent: (event: TaskEvent) => {
      if (event.type === 'interval') progress.update(event.task, event.point);
      else process.stderr.write(`${event.level}: ${event.message}\n`);
    },
    onTaskEnd: () => progress.clear(),
  });
  progress.clear();
  const savedTo = saveRun(options.cwd, run, plan.secrets);
  if (options.json) writeFileAtomic(path.resolve(options.cwd, options.json), serializeRun(run, plan.secrets));
  process.stdout.write(formatTextReport(run, { savedTo: path.relative(options.cwd, savedTo), notImplemented: plan.notImplemented }) + '\n');
  if (options.signal.aborted) process.stdout.write('Run cancelled: the figures above cover what was measured before the stop.\n');
  if (options.checklist) {
    const file = path.resolve(options.cwd, options.checklist);
    process.stdout.write(`\n${describeOutcome(path.relative(options.cwd, file), writeChecklist(file, run))}\n`);
  }
  return exitCodeFor(run);
}

async function withDemoTarget<T>(log: (line: string) => void, fn: (target: DemoTarget, signal: AbortSignal) => Promise<T>): Promise<T> {
  let target: DemoTarget | null = null;
  const stopTarget = async (): Promise<void> => { await target?.stop(); };
  const sigint = cancelOnSigint(stopTarget);
  try {
    process.stderr.write('starting the demo target (PostgreSQL + GraphQL API on 127.0.0.1)…\n');
    // Loaded only for the demo: PostgreSQL and GraphQL have no business in a plain run's memory.
    const { startDemoTarget } = await import('../demo/target');
    target = await startDemoTarget({ log, signal: sigint.signal });
    return await fn(target, sigint.signal);
  } finally {
    await stopTarget();
    sigint.dispose();
  }
}

function demoLoaded(target: DemoTarget, cwd: string): LoadedConfig {
  return { config: demoConfig(target.graphqlUrl), file: null, baseDir: cwd };
}

export function buildProgram(cwd: string, env: NodeJS.ProcessEnv): Command {
  const program = new Command('phase3')
    .description('Phase 3 performance checks: API load, usage-buffer upserts, database, concurrent users')
    .version(TOOL.version)
    .showHelpAfterError('(run phase3 --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description('run tasks: api | usage-buffer | db | users | all')
    .argument('<task...>', 'tasks to run')
    .option('--config <file>', 'config file (default ./phase3.config.json when present)')
    .option('--demo', 'start the embedded demo target and aim every task at it')
    .option('--url <url>', 'GraphQL endpoint')
    .option('--body <file>', 'request body file (query.json)')
    .addOption(new Option('-n, --requests <n>', 'total requests (ab -n)').argParser(number('--requests')))
    .addOption(new Option('-c, --connections <n>', 'concurrent connections (ab -c)').argParser(number('--connections')))
    .addOption(new Option('-d, --duration <sec>', 'run for a time instead of a count').argParser(number('--duration')))
    .addOption(new Option('--rate <rps>', 'open model: constant arrival rate').argParser(number('--rate')))
    .addOption(new Option('--timeout <ms>', 'per-request timeout').argParser(number('--timeout')))
    .addOption(new Option('--warmup <sec>', 'unmeasured load first, to warm connections and caches').argParser(number('--warmup')))
    .option('--db-url <url>', 'PostgreSQL/YSQL URL (or env PHASE3_DB_URL)')
    .addOption(new Option('--ops <n>', 'usage-buffer: increments to send (default 1000)').argParser(number('--ops')))
    .addOption(new Option('--concurrency <n>', 'usage-buffer: increments in flight (default 10)').argParser(number('--concurrency')))
    .option('--keep-rows', "usage-buffer: keep this run's rows after the check")
    .option('--stages <spec>', 'users: k6-style stages, e.g. 1m:100,5m:500,1m:0')
    .addOption(new Option('--think-time <ms>', 'users: pause between an answer and the next request (default 1000)').argParser(number('--think-time')))
    .addOption(new Option('--interval <sec>', 'users: series interval (default 5)').argParser(number('--interval')))
    .addOption(new Option('-w, --workers <n>', 'users: load threads (default: adapt to the load, up to the cores)').argParser(number('--workers')))
    .option('--metrics-url <url>', 'db: a yb-tserver metrics base URL, e.g. http://node-a:9000 (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--allow-remote', 'allow load to a host that is not this machine')
    .option('--json <file>', 'also write the run result here')
    .option('--checklist <file>', 'fill the Phase 3 section of this checklist with the result')
    .action(async (words: string[], flags: RunFlags) => {
      const tasks: TaskId[] = parseTaskList(words);
      const overrides: Overrides = {
        url: flags.url, bodyFile: flags.body, requests: flags.requests, connections: flags.connections,
        durationS: flags.duration, rate: flags.rate, timeoutMs: flags.timeout, warmupS: flags.warmup, operations: flags.ops, concurrency: flags.concurrency, keepRows: flags.keepRows, metricsUrls: flags.metricsUrl, stages: flags.stages, thinkTimeMs: flags.thinkTime, intervalS: flags.interval, workers: flags.workers, dbUrl: flags.dbUrl, allowRemote: flags.allowRemote,
      };
      if (flags.demo) {
        process.exitCode = await withDemoTarget(() => undefined, async (target, signal) => {
          const loaded = flags.config ? findConfig(flags.config, cwd) : demoLoaded(target, cwd);
          const plan = buildPlan(tasks, loaded, { ...overrides, url: target.graphqlUrl, dbUrl: target.dbUrl, localPid: target.postgresPid }, env, cwd);
          return runAndReport(plan, { signal, json: flags.json, checklist: flags.checklist, demo: true, cwd });
        });
        return;
      }
      const plan = buildPlan(tasks, findConfig(flags.config, cwd), overrides, env, cwd);
      if (plan.tasks.length === 0) throw new InputError(`not implemented yet: ${plan.notImplemented.join(', ')}`);
      const sigint = cancelOnSigint(async () => undefined);
      try {
        process.exitCode = await runAndReport(plan, { signal: sigint.signal, json: flags.json, checklist: flags.checklist, cwd });
      } finally {
        sigint.dispose();
      }
    });

  program
    .command('demo')
    .description('run every task against the embedded demo target and print the report')
    .option('--json <file>', 'also write the run result here')
    .option('--checklist <file>', 'fill the Phase 3 section of this checklist with the result')
    .option('--serve', 'keep the demo target running and print its URLs (Ctrl-C stops it)')
    .action(async (flags: { json?: string; checklist?: string; serve?: boolean }) => {
      process.exitCode = await withDemoTarget(() => undefined, async (target, signal) => {
        if (flags.serve) {
          process.stdout.write(`GraphQL API: ${target.graphqlUrl}\nDatabase:    ${target.dbUrl}\nCtrl-C stops both.\n`);
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          return 0;
        }
        const plan = buildPlan(['api', 'usage-buffer', 'db', 'users'], demoLoaded(target, cwd), { dbUrl: target.dbUrl, localPid: target.postgresPid }, env, cwd);
        return runAndReport(plan, { signal, json: flags.json, checklist: flags.checklist, demo: true, cwd });
      });
    });

  program
    .command('checklist')
    .description('fill the Phase 3 section of MAINNET_MIGRATION_CHECKLIST.md from a saved run')
    .requiredOption('--file <file>', 'the checklist to fill')
    .option('--run <ref>', 'latest, a run id, or a result file', 'latest')
    .option('--create', 'create the file (with a Phase 3 section) when it does not exist')
    .option('--dry-run', 'print what would change and write nothing')
    .action((flags: { file: string; run: string; create?: boolean; dryRun?: boolean }) => {
      const { run } = resolveRun(cwd, flags.run);
      const file = path.resolve(cwd, flags.file);
      const outcome = writeChecklist(file, run, { create: flags.create, dryRun: flags.dryRun });
      process.stdout.write(`${describeOutcome(path.relative(cwd, file), outcome, flags.dryRun)}\n`);
    });

  program
    .command('report')
    .description('print a saved run as Markdown, JSON or JUnit XML')
    .option('--run <ref>', 'latest, a run id, or a result file', 'latest')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json', 'junit']).default('md'))
    .action((flags: { run: string; format: 'md' | 'json' | 'junit' }) => {
      const { run } = resolveRun(cwd, flags.run);
      const text = flags.format === 'json' ? serializeRun(run) : flags.format === 'junit' ? formatJunitReport(run) : formatMarkdownReport(run);
      process.stdout.write(text);
    });

  program
    .command('compare')
    .description('compare a run with a baseline, criterion by criterion')
    .argument('<baseline>', 'baseline run: id, latest, or file')
    .argument('<current>', 'current run: id, latest, or file')
    .action((baselineRef: string, currentRef: string) => {
      const baseline = resolveRun(cwd, baselineRef).run;
      const current = resolveRun(cwd, currentRef).run;
      const rows = compareRuns(baseline, current);
      process.stdout.write(formatComparison(baseline, current, rows) + '\n');
      process.exitCode = rows.some((r) => r.regressed) ? 1 : 0;
    });

  return program;
}

export async function main(argv: string[], cwd = process.cwd(), env = process.env): Promise<number> {
  const program = buildProgram(cwd, env);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one line; help and version are not errors.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : EXIT_INPUT;
    }
    if (err instanceof InputError) {
      for (const line of err.lines) process.stderr.write(`phase3: ${line}\n`);
      return EXIT_INPUT;
    }
    process.stderr.write(`phase3: ${errorMessage(err)}\n`);
    if (env.PHASE3_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
