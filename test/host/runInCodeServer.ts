// Runs the extension's mocha suite inside a real VS Code extension host where VS Code desktop
// cannot be downloaded (what @vscode/test-electron does on desktop, see runTest.ts): code-server
// serves the workbench, chromium opens it with a `payload` that loads the extension under
// development and runs the suite, and the exit code comes back through `codeAutomationExit`.
//
//   node --import tsx test/host/runInCodeServer.ts [options]      (--help lists them)
//
// The reporter's lines reach this terminal through a file (PHASE3_HOST_TEST_LOG, written by
// suite/index.ts): inside code-server the extension host's console only reaches the browser
// console, mixed with the workbench's own log lines.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { CodeServerHost, delay } from './codeServerHost';
import { REPO_ROOT } from './workspace';

const REPORT_FILE_ENV = 'PHASE3_HOST_TEST_LOG';
/** The closing line suite/index.ts writes; printed last, where CI and people look for it. */
const CLOSING_LINE = /^host-tests: \d+ passed, \d+ failed/;

interface Options {
  extensionDir: string;
  suiteIndex: string;
  workspace: string | undefined;
  screenshotDir: string | undefined;
  timeoutMs: number;
  keepWorkDir: boolean;
  verbose: boolean;
}

const USAGE = `Usage: node --import tsx test/host/runInCodeServer.ts [options]

  --extension-dir DIR   extension under test             (PHASE3_HOST_EXTENSION_DIR; default: the repo root)
  --suite FILE          compiled suite index with run()   (PHASE3_HOST_SUITE; default: out/test/host/suite/index.js)
  --workspace DIR       folder to open                    (PHASE3_HOST_WORKSPACE; default: a temp copy of
                        test/fixtures/workspace if it exists, else an empty temp folder)
  --screenshot-dir DIR  save a PNG of the workbench when the run fails (PHASE3_HOST_SCREENSHOT_DIR)
  --timeout SECONDS     give up after this long           (PHASE3_HOST_TIMEOUT; default: 300)
  --keep                keep the temp work folder (profiles, logs) and print where it is
  --verbose             also print code-server's output and the browser console
`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'extension-dir': { type: 'string' },
      suite: { type: 'string' },
      workspace: { type: 'string' },
      'screenshot-dir': { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const env = process.env;
  const absolute = (value: string | undefined) => (value ? path.resolve(value) : undefined);
  const timeoutSeconds = Number(values.timeout ?? env.PHASE3_HOST_TIMEOUT ?? 300);
  if (!(timeoutSeconds > 0)) throw new Error('--timeout must be a positive number of seconds');
  return {
    extensionDir: absolute(values['extension-dir'] ?? env.PHASE3_HOST_EXTENSION_DIR) ?? REPO_ROOT,
    suiteIndex: absolute(values.suite ?? env.PHASE3_HOST_SUITE) ?? path.join(REPO_ROOT, 'out', 'test', 'host', 'suite', 'index.js'),
    workspace: absolute(values.workspace ?? env.PHASE3_HOST_WORKSPACE),
    screenshotDir: absolute(values['screenshot-dir'] ?? env.PHASE3_HOST_SCREENSHOT_DIR),
    timeoutMs: timeoutSeconds * 1000,
    keepWorkDir: values.keep,
    verbose: values.verbose,
  };
}

function log(message: string): void {
  process.stdout.write(`[host] ${message}\n`);
}

/** Follows the reporter file and prints each complete line as it arrives. */
class ReportTail {
  private offset = 0;
  private partial = '';
  private readonly timer: NodeJS.Timeout;
  closingLine: string | undefined;
  linesSeen = 0;

  constructor(readonly file: string) {
    fs.writeFileSync(file, '');
    this.timer = setInterval(() => this.poll(), 100);
  }

  /** Prints what is left; safe to call more than once. */
  stop(): void {
    clearInterval(this.timer);
    this.poll();
    if (this.partial) this.print(this.partial);
    this.partial = '';
  }

  private poll(): void {
    let text: string;
    try {
      const content = fs.readFileSync(this.file);
      if (content.length <= this.offset) return;
      text = content.subarray(this.offset).toString('utf8');
      this.offset = content.length;
    } catch {
      return; // the work folder is gone
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.print(line);
  }

  private print(line: string): void {
    this.linesSeen += 1;
    if (CLOSING_LINE.test(line)) this.closingLine = line;
    else process.stdout.write(`${line}\n`);
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function screenshot(page: Page | undefined, dir: string | undefined): Promise<void> {
  if (!page || !dir) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `host-failure-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
    await page.screenshot({ path: file, timeout: 10_000 });
    log(`screenshot: ${file}`);
  } catch (err) {
    log(`no screenshot: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resolves to 0 when every test passed, 1 otherwise. */
async function runSuite(options: Options, host: CodeServerHost, report: ReportTail, started: number): Promise<number> {
  const deadline = started + options.timeoutMs;
  log(`code-server ready on ${host.baseUrl} after ${seconds(started)}; workspace ${host.workspace}`);

  let page: Page | undefined;
  try {
    page = await host.openPage();
    let reportExit: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((resolve) => (reportExit = resolve));
    // Must exist before the workbench loads: it calls it when the suite's run() settles.
    await page.exposeFunction('codeAutomationExit', (code: unknown) => reportExit(typeof code === 'number' ? code : 1));

    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      const line = `browser ${message.type()}: ${message.text()}`;
      if (options.verbose) log(line);
      else if (message.type() === 'error') consoleErrors.push(line);
    });
    page.on('pageerror', (err) => {
      const line = `page error: ${err.message}`;
      if (options.verbose) log(line);
      else consoleErrors.push(line);
    });

    await page.goto(host.workbenchUrl({ extensionDevelopmentPath: options.extensionDir, extensionTestsPath: options.suiteIndex }), {
      waitUntil: 'domcontentloaded',
    });
    log(`workbench loading; running ${path.relative(process.cwd(), options.suiteIndex) || options.suiteIndex}`);

    // A referenced timer: it is what keeps the runner alive while it waits (main() exits explicitly).
    const timeout = delay(Math.max(0, deadline - Date.now())).then(() => 'timeout' as const);
    const outcome = await Promise.race([exitCode, host.serverExit, timeout]);
    // run() has settled (or never will): everything it reported is in the file now.
    report.stop();
    if (host.disposing) return 1; // a signal is stopping the run; its handler says so

    let code: number;
    if (outcome === 'timeout') {
      log(`TIMEOUT: the suite did not finish within ${options.timeoutMs / 1000} s (raise --timeout; look with --verbose --keep)`);
      code = 1;
    } else if (typeof outcome === 'string') {
      log(`${outcome} during the run`);
      code = 1;
    } else {
      code = outcome;
      log(`extension host exit code ${code} after ${seconds(started)}`);
    }
    if (code !== 0) {
      if (report.linesSeen === 0 && consoleErrors.length > 0) {
        // The suite said nothing (its index did not load, or the extension host died): show why.
        log('browser console errors (every console line with --verbose):');
        for (const line of consoleErrors.slice(-30)) log(`  ${line}`);
      }
      await screenshot(page, options.screenshotDir);
    }
    return code === 0 ? 0 : 1;
  } catch (err) {
    await screenshot(page, options.screenshotDir);
    throw err;
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2));
  if (!fs.existsSync(options.extensionDir)) throw new Error(`extension folder ${options.extensionDir} does not exist`);
  if (!fs.existsSync(options.suiteIndex)) throw new Error(`suite index ${options.suiteIndex} does not exist (build it: node test/host/build.js)`);

  // Known before code-server starts, which hands its environment down to the extension host.
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-host-report-'));
  const report = new ReportTail(path.join(reportDir, 'mocha.log'));
  let host: CodeServerHost | undefined;
  const starting = new AbortController();
  const stop = async () => {
    starting.abort();
    report.stop();
    try {
      await host?.dispose();
    } finally {
      fs.rmSync(reportDir, { recursive: true, force: true });
    }
    if (options.keepWorkDir && host) log(`kept work folder ${host.workDir}`);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping code-server and chromium`);
      void stop().finally(() => process.exit(1));
    });
  }

  try {
    host = await CodeServerHost.start({
      workspace: options.workspace,
      env: { [REPORT_FILE_ENV]: report.file },
      keepWorkDir: options.keepWorkDir,
      onServerOutput: options.verbose ? (line) => log(`code-server: ${line}`) : undefined,
      startTimeoutMs: Math.min(60_000, options.timeoutMs),
      signal: starting.signal,
    });
    return await runSuite(options, host, report, started);
  } finally {
    await stop();
    if (report.closingLine) process.stdout.write(`${report.closingLine}\n`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
