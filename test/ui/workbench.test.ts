/**
 * The extension as a person uses it, in a real VS Code (code-server 4.100.3) driven by Debian's
 * chromium: open the Phase 3 view on an empty folder, start the demo target, run the API load
 * test, read the verdict in the tree and the charts in the dashboard, stop the demo target, and
 * check that nothing this test started is left running.
 *
 * Run: npm run --silent build && node --import tsx --test test/ui/workbench.test.ts
 * Needs `bash .ci/host-setup.sh` (code-server + chromium); skips when either is missing.
 * Screenshots: test-results/ui/ (workbench-after-run.png, dashboard.png; failure-*.png on failure).
 * PHASE3_UI_VERBOSE=1 prints code-server's output and the browser console's errors.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { CodeServerHost, chromiumPath } from '../host/codeServerHost';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(REPO_ROOT, 'test-results', 'ui');
const CODE_SERVER_ENTRY = path.join(REPO_ROOT, 'test', 'host', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const EXTENSION_ID = 'phase3-perf.phase3-perf';
const VERBOSE = process.env.PHASE3_UI_VERBOSE === '1';
/**
 * Browser console errors that every code-server 4.100.3 workbench logs here, with or without this
 * extension: two 404s for the missing vsda module, and one "unknown error" at start-up.
 */
function isKnownConsoleError(text: string, url: string): boolean {
  if (text.startsWith('Failed to load resource')) return /\/vsda(_bg\.wasm|\.js)$/.test(url);
  return /An unknown error occurred\. Please consult the log for more details\./.test(text);
}
/**
 * Where the demo target's PostgreSQL keeps its data: `<tmpdir>/phase3-pg-*` (src/demo/postgres.ts).
 * code-server gets this TMPDIR too (see before()).
 */
const PG_TMPDIR = os.tmpdir();
const PG_PREFIX = 'phase3-pg-';

// ---------------------------------------------------------------------------------------------
// Skip only when the harness is not installed.

function missingPrerequisite(): string | false {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) return 'code-server is not installed (run bash .ci/host-setup.sh)';
  try {
    const chromium = chromiumPath();
    if (!fs.existsSync(chromium)) return `chromium is not installed at ${chromium} (run bash .ci/host-setup.sh)`;
  } catch {
    return 'chromium is not installed (run bash .ci/host-setup.sh, or set PHASE3_CHROMIUM)';
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Processes (Linux /proc): what this test started, and whether it is still there.

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  cmdline: string;
}

function processes(): Proc[] {
  const all: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      all.push({ pid: Number(name), ppid: Number(ppid), state, comm: stat.slice(stat.indexOf('(') + 1, close), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** Every live (non-zombie) descendant of `root`. */
function descendants(root: number, all = processes()): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      if (child.state !== 'Z') found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Alive = exists and is not a zombie (this sandbox's PID 1 reaps late). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

function pgDataDirs(): Set<string> {
  return new Set(fs.readdirSync(PG_TMPDIR).filter((n) => n.startsWith(PG_PREFIX)).map((n) => path.join(PG_TMPDIR, n)));
}

/** The pid of the process that created a data directory (its phase3-owner.json), if readable. */
function pgDirOwner(dir: string): number | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(dir, 'phase3-owner.json'), 'utf8')) as { ownerPid?: unknown };
    return typeof owner.ownerPid === 'number' ? owner.ownerPid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The postmasters under this test's process tree, with the data directory each was started on.
 * (A backend it has just forked still shows the postmaster's command line: a postmaster is the
 * postgres whose parent is not a postgres.)
 */
function postmasters(): Array<{ pid: number; dataDir: string }> {
  const all = processes();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  return descendants(process.pid, all)
    .filter((p) => p.comm === 'postgres' && / -D /.test(p.cmdline) && byPid.get(p.ppid)?.comm !== 'postgres')
    .map((p) => ({ pid: p.pid, dataDir: /-D (\S+)/.exec(p.cmdline)?.[1] ?? '' }));
}

// ---------------------------------------------------------------------------------------------
// Waiting: poll a condition, bounded, with a message that says what was seen last.

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, last?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      const seen = last ? `; last seen: ${await last()}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// The workbench, through the selectors documented in test/host/README.md.

const SEL = {
  quickInput: '.quick-input-widget',
  quickInputRow: (label: string) => `.quick-input-widget .monaco-list-row[aria-label="${label}"]`,
  activityTab: (title: string) => `.part.activitybar [role="tab"] a[aria-label="${title}"]`,
  sidebarTitle: '.part.sidebar .composite.title',
  container: (id: string) => `[id="workbench.view.extension.${id}"]`,
  paneHeader: (name: string) => `.part.sidebar .pane-header[aria-label="${name} Section"]`,
  viewPane: (name: string) => `.part.sidebar .pane:has(.pane-header[aria-label^="${name}"])`,
  welcomeContent: (name: string) => `.part.sidebar .pane:has(.pane-header[aria-label^="${name}"]) .welcome-view-content`,
  treeRow: (name: string) => `.part.sidebar .pane:has(.pane-header[aria-label^="${name}"]) .monaco-list-row[role="treeitem"]`,
  toast: '.notifications-toasts .notification-list-item-message',
  dashboardTab: '.tabs-container .tab[aria-label="Phase 3 Dashboard"]',
  dashboardFrame: `iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]:not([src*="purpose="])`,
} as const;

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator(`${SEL.quickInput} input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  // fill(), not keyboard.type(): once the focus was in the dashboard webview, typed keys were
  // seen to miss the palette (F1 reaches the workbench from the frame by a message; keys typed
  // before the palette takes the focus go to the webview).
  await input.fill(`>${title}`);
  const row = page.locator(SEL.quickInputRow(title)).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
  await page.locator(SEL.quickInput).waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The text of each notification toast (the toast's textContent also holds a <style>). */
async function toasts(page: Page): Promise<string[]> {
  return (await page.locator(SEL.toast).allInnerTexts()).map((t) => t.trim());
}

async function waitForToast(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  return until(`a notification matching ${pattern}`, async () => (await toasts(page)).find((t) => pattern.test(t)), timeoutMs, async () => JSON.stringify(await toasts(page)));
}

interface TreeRow {
  label: string;
  description: string;
  level: number;
  expanded: string | null;
  ariaLabel: string | null;
}

async function treeRows(page: Page, view: string): Promise<TreeRow[]> {
  return page.locator(SEL.treeRow(view)).evaluateAll((rows) =>
    rows.map((row) => ({
      label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
      level: Number(row.getAttribute('aria-level')),
      expanded: row.getAttribute('aria-expanded'),
      ariaLabel: row.getAttribute('aria-label'),
    })),
  );
}

function describeRows(rows: TreeRow[]): string {
  return rows.map((r) => `${'  '.repeat(r.level - 1)}${r.label}${r.description ? ` — ${r.description}` : ''}`).join(' | ');
}

/**
 * Pixels on a chart's canvas that differ from the editor background ("ink"), and those of one
 * theme colour (a series). Runs in the dashboard's own document.
 */
function chartInk(frame: FrameLocator, chart: string, colorVar: string): Promise<{ ink: number; colored: number; total: number; width: number; height: number }> {
  // No named helpers inside: tsx (esbuild keepNames) would wrap them in a `__name()` call that
  // does not exist in the page.
  return frame.locator(`[data-chart="${chart}"] canvas`).first().evaluate(
    (canvas: HTMLCanvasElement, colorVar: string) => {
      const ctx = canvas.getContext('2d');
      const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
      if (!ctx || !probe) return { ink: 0, colored: 0, total: 0, width: canvas.width, height: canvas.height };
      // [editor background, the series colour] as RGB, through a 2×1 probe canvas.
      probe.fillStyle = getComputedStyle(document.body).backgroundColor;
      probe.fillRect(0, 0, 1, 1);
      probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim();
      probe.fillRect(1, 0, 1, 1);
      const [br, bg, bb, , r, g, b] = probe.getImageData(0, 0, 2, 1).data;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let ink = 0;
      let colored = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        if (Math.abs(data[i] - br) + Math.abs(data[i + 1] - bg) + Math.abs(data[i + 2] - bb) < 24) continue;
        ink++;
        if (data[i + 3] > 160 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60) colored++;
      }
      return { ink, colored, total: data.length / 4, width: canvas.width, height: canvas.height };
    },
    colorVar,
  );
}

// ---------------------------------------------------------------------------------------------

const skip = missingPrerequisite();

describe('Phase 3 in VS Code (code-server + chromium), as a user runs it', { skip, timeout: 180_000 }, () => {
  let host: CodeServerHost | undefined;
  let page: Page;
  let workspace: string;
  let dashboard: FrameLocator;
  const serverOutput: string[] = [];
  const consoleErrors: string[] = [];
  const pgDirsBefore = pgDataDirs();
  /** Postmasters and data directories seen while the demo target ran. */
  const ourPostgres = new Map<number, string>();
  /** Everything under this test process at its busiest (code-server, extension host, chromium, postgres). */
  const ourProcesses = new Map<number, string>();
  let failed: string | null = null;

  /** Children this process had before the test started anything (tsx's esbuild service). */
  const preexisting = new Set(descendants(process.pid).map((p) => p.pid));

  const remember = (): void => {
    for (const p of descendants(process.pid)) if (!preexisting.has(p.pid)) ourProcesses.set(p.pid, `${p.comm}: ${p.cmdline.slice(0, 120)}`);
    for (const pm of postmasters()) ourPostgres.set(pm.pid, pm.dataDir);
  };

  /** A step of the walk-through: skipped once an earlier one failed, with a screenshot on failure. */
  const step = (name: string, timeoutMs: number, fn: (t: TestContext) => Promise<void>): void => {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (failed) {
        t.skip(`an earlier step failed: ${failed}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        failed = name;
        const file = path.join(RESULTS, `failure-${name.replace(/[^\w]+/g, '-').replace(/^-|-$/g, '').toLowerCase()}.png`);
        await page?.screenshot({ path: file }).then(() => t.diagnostic(`screenshot: ${path.relative(REPO_ROOT, file)}`), () => undefined);
        if (consoleErrors.length) t.diagnostic(`browser console errors:\n${consoleErrors.slice(-15).join('\n')}`);
        if (serverOutput.length) t.diagnostic(`code-server output (last lines):\n${serverOutput.slice(-15).join('\n')}`);
        throw err;
      }
    });
  };

  before(async () => {
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js')), 'dist/extension.js is missing: run npm run build first');
    fs.mkdirSync(RESULTS, { recursive: true });
    for (const name of fs.readdirSync(RESULTS)) if (name.startsWith('failure-')) fs.rmSync(path.join(RESULTS, name));
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-ui-workspace-'));
    host = await CodeServerHost.start({
      workspace,
      // code-server's own TMPDIR is inside the host's 0700 work folder; the demo target's
      // PostgreSQL runs as `nobody` when we are root and must reach its data directory.
      env: { TMPDIR: PG_TMPDIR },
      onServerOutput: (line) => {
        serverOutput.push(line);
        if (VERBOSE) console.log(`[code-server] ${line}`);
      },
    });
    page = await host.openPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      const url = m.location().url;
      if (VERBOSE) console.log(`[browser] ${text} (${url})`);
      if (!isKnownConsoleError(text, url)) consoleErrors.push(`${text} (${url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.setViewportSize({ width: 1600, height: 1000 });
    void host.serverExit.then((message) => {
      if (!host?.disposing) consoleErrors.push(`${message} during the test`);
    });
  });

  /**
   * After a failed step the demo target may still run: stop it as a user would, so that the
   * extension host shuts PostgreSQL down. (dispose() SIGKILLs code-server's process group, which
   * holds the PostgreSQL watchdog too and can catch it half-way through its cleanup.)
   */
  const stopDemoIfRunning = async (): Promise<void> => {
    const running = [...ourPostgres].filter(([pid, dataDir]) => alive(pid) || fs.existsSync(dataDir));
    if (!running.length || !host || host.disposing) return;
    await runCommand(page, 'Phase 3: Stop Demo Target').catch(() => undefined);
    await until('postgres to exit', () => running.every(([pid, dataDir]) => !alive(pid) && !fs.existsSync(dataDir)), 20_000).catch(() => undefined);
  };

  after(async () => {
    await stopDemoIfRunning();
    await host?.dispose();
    // Last resort, for what this test itself started only.
    for (const [pid, dataDir] of ourPostgres) {
      if (alive(pid)) {
        console.error(`# killing postgres ${pid} that this test started and nothing stopped`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  step('the workbench loads with the extension, and the Phase 3 view offers Create Config and Start Demo Target', 60_000, async (t) => {
    await page.goto((host as CodeServerHost).workbenchUrl({ extensionDevelopmentPath: REPO_ROOT }));
    const tab = page.locator(SEL.activityTab('Phase 3'));
    await tab.waitFor({ state: 'visible', timeout: 45_000 });
    await tab.click();
    // One view in the container: its title merges into the container's, "PHASE 3: RESULTS".
    await until('the Phase 3 container to open', async () => /^PHASE 3\b/i.test((await page.locator(SEL.sidebarTitle).innerText()).trim()), 10_000, () => page.locator(SEL.sidebarTitle).innerText());
    await page.locator(SEL.container('phase3')).waitFor({ state: 'visible', timeout: 5000 });
    const header = page.locator(SEL.paneHeader('Results'));
    await header.waitFor({ state: 'attached', timeout: 5000 });
    assert.notEqual(await header.getAttribute('aria-expanded'), 'false', 'the Results view is expanded');
    for (const label of ['Create Config', 'Start Demo Target']) {
      // a.monaco-button[role=button] (`:text-is()` does not match these anchors)
      await page.locator(SEL.welcomeContent('Results')).getByRole('button', { name: label, exact: true }).waitFor({ state: 'visible', timeout: 15_000 });
    }
    const welcome = (await page.locator(SEL.welcomeContent('Results')).innerText()).replace(/\s+/g, ' ');
    assert.match(welcome, /No phase3\.config\.json in this workspace yet\./);
    assert.equal(await page.locator(SEL.treeRow('Results')).count(), 0, 'no tree rows while the welcome content shows');
    t.diagnostic(`welcome view: ${welcome}`);
  });

  let graphqlUrl = '';
  step('Phase 3: Start Demo Target starts PostgreSQL + the GraphQL API and names the URL', 60_000, async (t) => {
    await runCommand(page, 'Phase 3: Start Demo Target');
    const started = Date.now();
    const message = await waitForToast(page, /Phase 3 demo target: GraphQL API at http:\/\/127\.0\.0\.1:\d+\/graphql/, 45_000);
    t.diagnostic(`"${message}" after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    graphqlUrl = /http:\/\/127\.0\.0\.1:\d+\/graphql/.exec(message)?.[0] ?? '';
    remember();
    assert.equal(ourPostgres.size, 1, `one postmaster under this test: ${JSON.stringify([...ourPostgres])}`);
    const [dataDir] = ourPostgres.values();
    assert.ok(dataDir.startsWith(path.join(PG_TMPDIR, PG_PREFIX)), `data directory ${dataDir}`);
    const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    assert.equal(res.status, 200, `the demo API answers at ${graphqlUrl}`);
  });

  step('Phase 3: Run API Load Test runs, opens the dashboard, and announces the verdict', 90_000, async (t) => {
    await runCommand(page, 'Phase 3: Run API Load Test');
    const started = Date.now();
    await page.locator(SEL.dashboardTab).waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator(SEL.dashboardFrame).waitFor({ state: 'attached', timeout: 15_000 });
    dashboard = page.frameLocator(SEL.dashboardFrame).frameLocator('#active-frame');
    remember();
    const verdict = await waitForToast(page, /^Phase 3: (every measured criterion passed\.|\d+ criteri(a|on) failed: .+)$/, 60_000);
    t.diagnostic(`"${verdict}" after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const task = await until(
      'the API load test row to show its verdict',
      async () => (await treeRows(page, 'Results')).find((r) => r.label === 'API load test' && /^(passed|failed) \d\/5\b/.test(r.description)),
      15_000,
      async () => describeRows(await treeRows(page, 'Results')),
    );
    t.diagnostic(`tree: ${task.label} — ${task.description}`);
    assert.equal(/^passed/.test(task.description), /every measured criterion passed/.test(verdict), 'the tree and the notification agree');
  });

  step('the tree lists the five criteria under the API task, and a History node', 20_000, async (t) => {
    const taskRow = page.locator(SEL.treeRow('Results')).filter({ has: page.locator('.label-name', { hasText: /^API load test$/ }) });
    if ((await taskRow.getAttribute('aria-expanded')) === 'false') {
      // The row was a leaf ("not run yet", then "running") under the same id, so VS Code keeps it
      // collapsed although the provider now says Expanded: a user has to open it.
      t.diagnostic('the API load test row came back collapsed after the run: expanding it');
      await taskRow.locator('.monaco-tl-twistie').click();
      await until('the API load test row to expand', async () => (await taskRow.getAttribute('aria-expanded')) === 'true', 5000);
    }
    const rows = await until(
      'the criteria rows under the API load test row',
      async () => {
        const all = await treeRows(page, 'Results');
        return all.filter((r) => /^[✓✗] /.test(r.label)).length >= 5 && all;
      },
      5000,
      async () => describeRows(await treeRows(page, 'Results')),
    );
    t.diagnostic(describeRows(rows));
    const taskIndex = rows.findIndex((r) => r.label === 'API load test');
    assert.ok(taskIndex >= 0, 'the API load test row');
    assert.equal(rows[taskIndex].level, 1);
    const children: TreeRow[] = [];
    for (const row of rows.slice(taskIndex + 1)) {
      if (row.level <= 1) break;
      if (row.level === 2) children.push(row);
    }
    const criteria = children.filter((r) => /^[✓✗] /.test(r.label));
    const number = String.raw`\d+(\.\d+)?`;
    const expected = [
      new RegExp(`^[✓✗] P95 latency ${number} ms < ${number} ms$`),
      new RegExp(`^[✓✗] P99 latency ${number} ms < ${number} ms$`),
      new RegExp(`^[✓✗] Concurrent connections \\d+ ≥ \\d+$`),
      new RegExp(`^[✓✗] Error rate ${number}(e-\\d+)?% < ${number}%$`),
      new RegExp(`^[✓✗] Timeouts \\d+ \\(target \\d+\\)$`),
    ];
    assert.equal(criteria.length, expected.length, `criteria rows: ${JSON.stringify(children.map((r) => r.label))}`);
    expected.forEach((pattern, i) => assert.match(criteria[i].label, pattern));
    const passedCount = criteria.filter((r) => r.label.startsWith('✓')).length;
    assert.match(rows[taskIndex].description, new RegExp(`^(passed|failed) ${passedCount}/5 · (just now|\\d+ s ago)$`));
    assert.ok(children.some((r) => r.label === 'Metrics'), 'a Metrics node under the task');
    const history = rows.find((r) => r.label === 'History');
    assert.ok(history, 'a History node');
    assert.equal(history.level, 1);
  });

  step('the dashboard draws the latency and percentile charts and lists 5 criteria', 30_000, async (t) => {
    await dashboard.locator('[data-chart="api:distribution"] canvas').first().waitFor({ state: 'attached', timeout: 15_000 });
    const status = dashboard.locator('.p3-status-text');
    await until('the dashboard to say the run finished', async () => /^Run finished/.test((await status.textContent()) ?? ''), 10_000, async () => (await status.textContent()) ?? '');
    t.diagnostic(`status: ${await status.textContent()}`);
    for (const [chart, colorVar] of [
      ['api:latency', '--vscode-charts-green'], // p50
      ['api:latency', '--vscode-charts-red'], // p99 (and its target)
      ['api:distribution', '--vscode-charts-blue'], // this run
    ] as const) {
      const drawn = await chartInk(dashboard, chart, colorVar);
      t.diagnostic(`${chart} ${colorVar}: ${JSON.stringify(drawn)}`);
      assert.ok(drawn.width > 300 && drawn.height > 150, `${chart} canvas has a size: ${JSON.stringify(drawn)}`);
      assert.ok(drawn.ink > drawn.total * 0.01, `${chart} has ink: ${JSON.stringify(drawn)}`);
      assert.ok(drawn.colored > 50, `${chart} draws a ${colorVar} series: ${JSON.stringify(drawn)}`);
    }
    const rows = dashboard.locator('[data-task="api"] .p3-criteria-table tbody tr.p3-criterion');
    assert.equal(await rows.count(), 5);
    const texts = (await rows.allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
    t.diagnostic(texts.join(' | '));
    assert.match(texts[0], /^[✓✗] P95 latency [\d.]+ ms < 100 ms$/);
    assert.match(texts[4], /^[✓✗] Timeouts \d+ = 0$/);
    assert.deepEqual(consoleErrors, [], 'no browser console errors (the workbench, the dashboard)');
  });

  step('screenshots: the workbench after the run, and the dashboard', 30_000, async (t) => {
    await page.mouse.move(800, 2); // off the activity bar, whose tooltip would stay in the picture
    await page.locator('.monaco-hover').waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
    await page.screenshot({ path: path.join(RESULTS, 'workbench-after-run.png') });
    // For a readable dashboard: the editor gets the whole window, tall enough for every chart
    // and the criteria table, and no toast covers a chart.
    const layout = (): Promise<string> =>
      dashboard.locator('body').evaluate((body) => {
        const widths = Array.from(body.querySelectorAll('[data-chart] canvas'), (c) => (c as HTMLCanvasElement).width);
        return `${widths.join(',')} / ${body.scrollHeight}x${body.clientWidth}`;
      });
    const before = await layout();
    await page.setViewportSize({ width: 1600, height: 1200 });
    await runCommand(page, 'View: Close Primary Side Bar');
    await runCommand(page, 'Notifications: Clear All Notifications');
    await until('the toasts to go', async () => (await page.locator(SEL.toast).count()) === 0, 5000);
    // The charts follow the wider editor (a ResizeObserver redraws each): wait until the layout
    // has changed and then holds still.
    let last = before;
    let still = 0;
    await until(
      'the dashboard to lay out for the wider editor',
      async () => {
        const now = await layout();
        still = now === last ? still + 1 : 0;
        last = now;
        return now !== before && still >= 3;
      },
      10_000,
      () => `${before} -> ${last}`,
    );
    t.diagnostic(`dashboard canvases / page: ${before} -> ${last}`);
    const box = await page.locator(SEL.dashboardFrame).boundingBox();
    assert.ok(box, 'the dashboard frame is on screen');
    const content = await dashboard.locator('body').evaluate((body) => ({ height: body.scrollHeight, view: window.innerHeight }));
    assert.ok(content.height <= content.view, `the whole dashboard fits in the window: ${JSON.stringify(content)}`);
    // The frame cropped to the dashboard's content, without the empty editor below it.
    const clip = { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, content.height + 16) };
    await page.screenshot({ path: path.join(RESULTS, 'dashboard.png'), clip });
    t.diagnostic(`dashboard.png ${Math.round(clip.width)}x${Math.round(clip.height)}`);
  });

  step('Phase 3: Stop Demo Target stops PostgreSQL and removes its data directory', 40_000, async () => {
    assert.equal(ourPostgres.size, 1);
    const [[pid, dataDir]] = [...ourPostgres];
    await runCommand(page, 'Phase 3: Stop Demo Target');
    await until(`postgres ${pid} to exit`, () => !alive(pid), 30_000);
    await until(`${dataDir} to be removed`, () => !fs.existsSync(dataDir), 5000);
    await assert.rejects(fetch(graphqlUrl, { method: 'POST', body: '{}' }), 'the demo API no longer answers');
  });

  test('at the end nothing this test started is left: code-server, chromium, postgres', { timeout: 40_000 }, async () => {
    remember();
    await stopDemoIfRunning();
    await host?.dispose();
    const leftovers = (): string[] => [...ourProcesses].filter(([pid]) => alive(pid)).map(([pid, what]) => `${pid} ${what}`);
    await until('every process this test started to exit', () => leftovers().length === 0, 15_000, () => leftovers().join('\n'));
    assert.deepEqual(descendants(process.pid).filter((p) => !preexisting.has(p.pid)).map((p) => `${p.pid} ${p.comm}`), [], 'no child processes left');
    for (const [pid, dataDir] of ourPostgres) {
      assert.equal(alive(pid), false, `postgres ${pid}`);
      assert.equal(fs.existsSync(dataDir), false, `${dataDir} removed`);
    }
    // New data directories, but not those of another process's live demo target (another test
    // running on this machine meanwhile).
    const newDirs = [...pgDataDirs()].filter((d) => {
      if (pgDirsBefore.has(d)) return false;
      const owner = pgDirOwner(d);
      return owner === undefined || ourProcesses.has(owner) || !alive(owner);
    });
    assert.deepEqual(newDirs, [], `no ${PG_PREFIX}* data directory left in ${PG_TMPDIR}`);
    assert.equal(fs.existsSync(host?.workDir ?? ''), false, 'the host work folder is removed');
  });
});
