// A real VS Code workbench for tests on machines that cannot download VS Code desktop:
// code-server (VS Code 1.100.3 server, installed in test/host/code-server by .ci/host-setup.sh)
// on 127.0.0.1 and a free port, and Debian's chromium driven by playwright-core.
//
// runInCodeServer.ts uses it to run the mocha suite in the extension host; an end-to-end UI
// test can use it to open the workbench and drive it (selectors: test/host/README.md).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freshWorkspace } from './workspace';

const CODE_SERVER_DIR = path.join(__dirname, 'code-server');
const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these chromium keeps dialling Google's hosts, which this network refuses.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** User settings for the fresh profile: no welcome or walkthrough editor taking the focus. */
const DEFAULT_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
};

export interface HostOptions {
  /** Folder to open. Default: a fresh temp copy of test/fixtures/workspace, or an empty temp folder. */
  workspace?: string;
  /** Extra environment for code-server, and so for the extension host it starts. */
  env?: Readonly<Record<string, string>>;
  /** Merged over DEFAULT_SETTINGS into the fresh profile's settings.json. */
  settings?: Readonly<Record<string, unknown>>;
  /** Keep the temp work folder (profiles, logs) instead of removing it. */
  keepWorkDir?: boolean;
  /** Called with each of code-server's own output lines. */
  onServerOutput?: (line: string) => void;
  /** Give up waiting for /healthz after this long. */
  startTimeoutMs?: number;
  /** Aborting while start() is under way kills code-server at once (a signal handler's job). */
  signal?: AbortSignal;
}

export interface WorkbenchPayload {
  /** Folder of the extension under development (package.json with `main`). */
  extensionDevelopmentPath: string;
  /** Compiled module exporting `run(): Promise<void>`; the workbench reports its outcome through `codeAutomationExit`. */
  extensionTestsPath?: string;
}

export function chromiumPath(): string {
  if (process.env.PHASE3_CHROMIUM) return process.env.PHASE3_CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: run .ci/host-setup.sh (or set PHASE3_CHROMIUM)');
  }
}

/**
 * code-server and chromium, started together and stopped together. `dispose()` is safe to call
 * more than once and from a signal handler.
 */
export class CodeServerHost {
  private browser: Promise<BrowserContext> | undefined;
  private disposed: Promise<void> | undefined;

  private constructor(
    readonly workDir: string,
    readonly workspace: string,
    readonly port: number,
    private readonly server: ChildProcess,
    /** Settles with a message if code-server exits before dispose(). */
    readonly serverExit: Promise<string>,
    private readonly keepWorkDir: boolean,
  ) {}

  /** Starts code-server and waits for /healthz; the browser starts with `openPage()`. */
  static async start(options: HostOptions = {}): Promise<CodeServerHost> {
    if (!fs.existsSync(CODE_SERVER_ENTRY)) {
      throw new Error(`code-server is not installed in ${CODE_SERVER_DIR}: run .ci/host-setup.sh`);
    }
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-host-'));
    let server: ChildProcess | undefined;
    try {
      const workspace = prepareWorkspace(options.workspace, workDir);
      const userData = path.join(workDir, 'user-data');
      fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
      fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));
      const port = await freePort();
      options.signal?.throwIfAborted();
      server = spawnCodeServer(workDir, userData, port, workspace, options);
      const started = server;
      // The caller may exit straight after aborting, before this function's catch could run.
      const abandon = () => {
        if (started.pid !== undefined) killGroup(started.pid, 'SIGKILL');
        if (!options.keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
      };
      options.signal?.addEventListener('abort', abandon, { once: true });
      const serverExit = new Promise<string>((resolve) =>
        started.once('exit', (code, signal) => resolve(`code-server exited (${code ?? signal})`)),
      );
      const host = new CodeServerHost(workDir, workspace, port, server, serverExit, options.keepWorkDir ?? false);
      try {
        await waitForHealthz(port, serverExit, options.startTimeoutMs ?? 30_000);
      } finally {
        options.signal?.removeEventListener('abort', abandon);
      }
      options.signal?.throwIfAborted();
      return host;
    } catch (err) {
      if (server?.pid !== undefined) killGroup(server.pid, 'SIGKILL');
      if (!options.keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
      throw err;
    }
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The workbench URL with the folder open and, through `payload`, the extension under
   * development (and its tests) loaded. The payload's vscode-remote URIs carry the page's own
   * host:port, the workbench's remote authority; code-server 4.100.3 only reads their path
   * (localhost:PORT, a bare 127.0.0.1 and an unresolvable host all ran the suite in a check).
   */
  workbenchUrl(payload?: WorkbenchPayload): string {
    const remote = (p: string) => `vscode-remote://127.0.0.1:${this.port}${p}`;
    let url = `${this.baseUrl}/?folder=${encodeURIComponent(this.workspace)}`;
    if (payload) {
      const entries = [['extensionDevelopmentPath', remote(payload.extensionDevelopmentPath)]];
      if (payload.extensionTestsPath) entries.push(['extensionTestsPath', remote(payload.extensionTestsPath)]);
      url += `&payload=${encodeURIComponent(JSON.stringify(entries))}`;
    }
    return url;
  }

  /** Launches chromium (once) with a fresh profile and returns a blank page; navigate it yourself. */
  async openPage(): Promise<Page> {
    if (this.disposing) throw new Error('the host is stopping');
    // Held as a promise so that dispose() can wait for a launch under way and close it.
    this.browser ??= chromium.launchPersistentContext(path.join(this.workDir, 'chromium-profile'), {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      // dispose() stops chromium with code-server; playwright's own handlers would exit first.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const browser = await this.browser;
    const blank = browser.pages()[0];
    return blank && blank.url() === 'about:blank' ? blank : browser.newPage();
  }

  /** True once dispose() was called: code-server and chromium going away is expected then. */
  get disposing(): boolean {
    return this.disposed !== undefined;
  }

  dispose(): Promise<void> {
    this.disposed ??= this.stop();
    return this.disposed;
  }

  private async stop(): Promise<void> {
    if (this.browser) {
      const closed = this.browser.then((browser) => browser.close()).catch(() => undefined);
      await Promise.race([closed, delay(10_000, { unref: true })]);
    }
    const pid = this.server.pid;
    if (pid !== undefined) {
      const running = this.server.exitCode === null && this.server.signalCode === null;
      // code-server leads its own process group with the extension host, pty host and file
      // watcher: signal the group, then make sure nothing of it is left.
      killGroup(pid, 'SIGTERM');
      if (running) await Promise.race([this.serverExit, delay(5000, { unref: true })]);
      killGroup(pid, 'SIGKILL');
      // Output still buffered in the pipes is of no interest now, and open pipes would keep the
      // caller's event loop alive.
      this.server.stdout?.destroy();
      this.server.stderr?.destroy();
    }
    if (!this.keepWorkDir) fs.rmSync(this.workDir, { recursive: true, force: true, maxRetries: 3 });
  }

}

function prepareWorkspace(requested: string | undefined, workDir: string): string {
  if (!requested) return freshWorkspace(workDir);
  if (!fs.statSync(requested, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`workspace ${requested} is not a folder`);
  return path.resolve(requested);
}

function spawnCodeServer(workDir: string, userData: string, port: number, workspace: string, options: HostOptions): ChildProcess {
  const home = path.join(workDir, 'home');
  const tmp = path.join(workDir, 'tmp');
  const config = path.join(workDir, 'code-server.yaml');
  fs.mkdirSync(home);
  fs.mkdirSync(tmp);
  fs.writeFileSync(config, '');

  // Nothing that would make code-server act as the CLI of a VS Code this runs inside.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
  }
  Object.assign(env, { HOME: home, TMPDIR: tmp, EXTENSIONS_GALLERY: '{"serviceUrl":""}' }, options.env);

  const args = [
    CODE_SERVER_ENTRY,
    ...['--config', config],
    ...['--auth', 'none'],
    ...['--bind-addr', `127.0.0.1:${port}`],
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...['--user-data-dir', userData],
    ...['--extensions-dir', path.join(workDir, 'extensions')],
    workspace,
  ];
  const child = spawn(process.execPath, args, { env, cwd: workDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.onServerOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}

async function waitForHealthz(port: number, serverExit: Promise<string>, timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  void serverExit.then((message) => (exited = message));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${exited} before answering /healthz`);
    if (await answers(`http://127.0.0.1:${port}/healthz`)) return;
    await delay(200);
  }
  throw new Error(`code-server did not answer /healthz within ${timeoutMs / 1000} s`);
}

/** One GET without keep-alive: a pooled socket would hold the caller's event loop open for seconds. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** `unref`: for the losing side of a race, which must not keep the process alive after it. */
export function delay(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}
