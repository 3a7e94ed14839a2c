/**
 * The dashboard in a real Chromium: the bundle built from webview/, served with the host's CSP
 * and a nonce, driven through the same messages the extension host sends. Screenshots of both
 * themes and the saved chart images land in test-results/.
 *
 * Run: node --import tsx --test test/e2e/dashboard.test.ts   (PHASE3_CHROMIUM=/path overrides)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToWebview, WebviewToHost } from '../../src/shared/protocol';
import { apiRun } from './harness/apiRun';
import { THEMES } from './harness/themes';
import { buildWebview, startHarness, type Harness, type PageOptions } from './harness/server';

const RESULTS = path.resolve(__dirname, '../../test-results');

function findChromium(): string | null {
  if (process.env.PHASE3_CHROMIUM) return process.env.PHASE3_CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim().split('\n')[0] || null;
  } catch {
    return null;
  }
}

const executablePath = findChromium();

/**
 * The one violation the host's CSP causes, known and harmless: when the toolkit loads, FAST
 * probes for :focus-visible by adding an empty <style> to <head>; the CSP refuses it and the
 * toolkit uses :focus instead. harness/server.ts EMPTY_STYLE_HASH is the CSP change that
 * removes it; the last test shows that page clean.
 */
function isFocusVisibleProbe(v: Violation): boolean {
  return v.directive === 'style-src-elem' && v.blocked === 'inline' && v.sample === '' && v.element === '[object HTMLDocument]';
}
const FOCUS_PROBE_CONSOLE = /^Applying inline style violates .*'sha256-47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU='/;

interface Violation {
  directive: string;
  blocked: string;
  sample: string;
  source: string;
  line: number;
  /** The element whose style was refused, and the component it is inside. */
  element: string;
}

/** What the shim in the harness page exposes. */
interface HarnessWindow {
  __harness: {
    posted: WebviewToHost[];
    violations: Violation[];
    send(message: HostToWebview): void;
  };
}

interface Dashboard {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  send(...messages: HostToWebview[]): Promise<void>;
  posted(): Promise<WebviewToHost[]>;
  violations(): Promise<Violation[]>;
  /** Pixels drawn on a chart's canvas: any ink, and ink of one theme colour (a series). */
  ink(chart: string, colorVar: string): Promise<{ ink: number; colored: number; total: number }>;
  /** Fails on CSP violations and console errors, then closes the page. */
  close(): Promise<void>;
}

// A 60 s API run at 500 req/s: p50 ~20 ms, p99 ~85 ms, one stall with a timeout (so one ✗).
const live = apiRun({ runId: '2025-06-02T09-30-00-api', seed: 7 });
// A run from history in rate mode (corrected latency) and the baseline it is compared with.
const opened = apiRun({ runId: '2025-06-03T14-05-00-api', seed: 11, rateMode: true, startedAt: '2025-06-03T14:05:00.000Z' });
const baseline = apiRun({ runId: '2025-05-28T10-00-00-api', seed: 3, medianMs: 17, startedAt: '2025-05-28T10:00:00.000Z' });

describe('dashboard webview in Chromium', { skip: executablePath ? false : 'chromium is not installed (apt-get install -y chromium); the CI installs it' }, () => {
  let browser: Browser;
  let harness: Harness;
  let bundleDir: string;

  before(async () => {
    bundleDir = mkdtempSync(path.join(os.tmpdir(), 'phase3-webview-'));
    await buildWebview(bundleDir);
    harness = await startHarness(bundleDir);
    browser = await chromium.launch({
      executablePath: executablePath ?? undefined,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(path.join(RESULTS, 'charts'), { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  async function open(options: PageOptions | PageOptions['theme'], existing?: Page): Promise<Dashboard> {
    const pageOptions = typeof options === 'string' ? { theme: options } : options;
    const page = existing ?? (await (await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })).newPage());
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(harness.url(pageOptions));
    const dashboard: Dashboard = {
      page,
      errors,
      send: async (...messages) => {
        await page.evaluate((all) => all.forEach((m) => (window as unknown as HarnessWindow).__harness.send(m)), messages);
      },
      posted: () => page.evaluate(() => (window as unknown as HarnessWindow).__harness.posted),
      violations: () => page.evaluate(() => (window as unknown as HarnessWindow).__harness.violations),
      ink: (chart, colorVar) =>
        page.evaluate(
          ({ chart, colorVar }) => {
            const canvas = document.querySelector<HTMLCanvasElement>(`[data-chart="${chart}"] canvas`);
            const ctx = canvas?.getContext('2d');
            const probe = document.createElement('canvas').getContext('2d');
            if (!canvas || !ctx || !probe) return { ink: 0, colored: 0, total: 0 };
            probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim();
            probe.fillRect(0, 0, 1, 1);
            const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
            const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
            let ink = 0;
            let colored = 0;
            for (let i = 0; i < data.length; i += 4) {
              if (data[i + 3] === 0) continue;
              ink++;
              if (data[i + 3] > 160 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60) colored++;
            }
            return { ink, colored, total: data.length / 4 };
          },
          { chart, colorVar },
        ),
      close: async () => {
        const violations = await dashboard.violations();
        const unexpected = pageOptions.allowEmptyStyle ? violations : violations.filter((v) => !isFocusVisibleProbe(v));
        assert.deepEqual(unexpected, [], `CSP violations: ${JSON.stringify(unexpected, null, 1)}`);
        assert.ok(violations.length - unexpected.length <= 1, 'the focus-visible probe runs once per page load');
        const unexpectedErrors = pageOptions.allowEmptyStyle ? errors : errors.filter((e) => !FOCUS_PROBE_CONSOLE.test(e));
        assert.deepEqual(unexpectedErrors, [], 'console errors');
        await page.context().close();
      },
    };
    return dashboard;
  }

  const criteriaMarks = (page: Page): Promise<string[]> =>
    page.locator('[data-task="api"] .p3-criterion .p3-mark').allTextContents();

  test('says ready before anything else, and shows the empty state', async () => {
    const d = await open('dark');
    await d.page.waitForFunction(() => (window as unknown as HarnessWindow).__harness.posted.length > 0);
    assert.deepEqual(await d.posted(), [{ type: 'ready' }]);
    assert.match((await d.page.locator('.p3-empty').textContent()) ?? '', /^No run yet: run Phase 3: Run API Load Test/);
    assert.equal(await d.page.locator('.p3-empty').isVisible(), true);
    await d.page.screenshot({ path: path.join(RESULTS, 'dashboard-empty-dark.png') });
    await d.close();
  });

  for (const theme of ['dark', 'light'] as const) {
    test(`a live run draws as it goes, then its distribution and criteria (${theme})`, async () => {
      const d = await open(theme);
      const p = d.page;
      const [runStarted, ...rest] = live.messages;
      const intervals = rest.slice(0, 60);
      const [taskFinished, runFinished] = rest.slice(60);

      await d.send(runStarted, ...intervals.slice(0, 30));
      await p.waitForFunction(() => document.querySelector('[data-chart="api:latency"] canvas') !== null);
      await p.waitForFunction(() => /Running api: 30 s/.test(document.querySelector('.p3-status-text')?.textContent ?? ''));
      assert.equal(await p.locator('vscode-button', { hasText: 'Cancel run' }).isVisible(), true);
      assert.equal(await p.locator('vscode-progress-ring').isVisible(), true);
      const running = await d.ink('api:latency', '--vscode-charts-red');
      assert.ok(running.colored > 100, `p99 line drawn while running: ${JSON.stringify(running)}`);
      await p.screenshot({ path: path.join(RESULTS, `dashboard-running-${theme}.png`), fullPage: true });

      await d.send(...intervals.slice(30), taskFinished, runFinished);
      await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
      await p.waitForFunction(() => /^Run finished/.test(document.querySelector('.p3-status-text')?.textContent ?? ''));
      assert.equal(await p.locator('vscode-button', { hasText: 'Cancel run' }).isVisible(), false);

      for (const [chart, colorVar] of [
        ['api:latency', '--vscode-charts-red'],
        ['api:latency', '--vscode-charts-green'],
        ['api:throughput', '--vscode-charts-blue'],
        ['api:errors', '--vscode-charts-orange'],
        ['api:connections', '--vscode-charts-blue'],
        ['api:distribution', '--vscode-charts-blue'],
      ]) {
        const drawn = await d.ink(chart, colorVar);
        assert.ok(drawn.ink > drawn.total * 0.01, `${chart} has ink: ${JSON.stringify(drawn)}`);
        assert.ok(drawn.colored > 100, `${chart} draws a ${colorVar} series: ${JSON.stringify(drawn)}`);
      }
      assert.deepEqual(await criteriaMarks(p), ['✓', '✓', '✓', '✓', '✗']);
      const rows = await p.locator('[data-task="api"] .p3-criterion').allInnerTexts();
      assert.match(rows[0], /P95 latency\s+\d+\.\d+ ms\s+< 100 ms/);
      assert.match(rows[4], /Timeouts\s+1\s+= 0/);
      await p.screenshot({ path: path.join(RESULTS, `dashboard-${theme}.png`), fullPage: true });
      await d.close();
    });
  }

  test('"Save chart images" posts one PNG per chart, and shows where they were saved', async () => {
    const d = await open('dark');
    const p = d.page;
    await d.send(...live.messages);
    await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
    await p.locator('vscode-button', { hasText: 'Save chart images' }).click();
    await p.waitForFunction(() => (window as unknown as HarnessWindow).__harness.posted.some((m) => m.type === 'saveImages'));
    const message = (await d.posted()).find((m) => m.type === 'saveImages');
    assert.ok(message?.type === 'saveImages');
    assert.deepEqual(
      message.images.map((i) => i.name),
      ['phase3-api-latency.png', 'phase3-api-throughput.png', 'phase3-api-errors.png', 'phase3-api-connections.png', 'phase3-api-distribution.png'],
    );
    for (const image of message.images) {
      const match = /^data:image\/png;base64,(.+)$/.exec(image.dataUrl);
      assert.ok(match, `${image.name} is a PNG data URL`);
      const png = Buffer.from(match[1], 'base64');
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${image.name} has the PNG signature`);
      const width = png.readUInt32BE(16);
      const height = png.readUInt32BE(20);
      assert.ok(width >= 400 && height >= 250, `${image.name} is ${width}x${height}`);
      assert.ok(png.length > 8000, `${image.name} has content (${png.length} bytes)`);
      writeFileSync(path.join(RESULTS, 'charts', image.name), png);
    }
    await d.send({ type: 'imagesSaved', files: message.images.map((i) => `docs/perf/${i.name}`) });
    await p.waitForFunction(() => /^Saved 5 chart images: docs\/perf\/phase3-api-latency\.png/.test(document.querySelector('.p3-saved')?.textContent ?? ''));
    await d.send({ type: 'imagesSaved', files: [], error: 'EACCES: permission denied' });
    await p.waitForFunction(() => /Could not save the chart images: EACCES/.test(document.querySelector('.p3-saved')?.textContent ?? ''));
    await d.close();
  });

  test('Cancel posts cancel once and waits for the run to end', async () => {
    const d = await open('dark');
    const p = d.page;
    await d.send(...live.messages.slice(0, 5));
    const cancel = p.locator('vscode-button', { hasText: 'Cancel run' });
    await cancel.waitFor({ state: 'visible' });
    await cancel.click();
    await p.waitForFunction(() => document.querySelector('.p3-status-text')?.textContent === 'Cancelling…');
    await cancel.click({ force: true });
    assert.deepEqual((await d.posted()).map((m) => m.type), ['ready', 'cancel']);
    assert.equal(await cancel.getAttribute('disabled'), '');
    await d.close();
  });

  for (const theme of ['dark', 'light'] as const) {
    test(`a run from history with a baseline shows the change and overlays the baseline (${theme})`, async () => {
      const d = await open(theme);
      const p = d.page;
      await d.send({ type: 'showRun', run: opened.finished, baseline: baseline.finished });
      await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
      const headings = await p.locator('[data-task="api"] .p3-criteria-table th').allTextContents();
      assert.deepEqual(headings, ['', 'Criterion', 'Measured', 'Target', `Baseline ${baseline.finished.runId}`, 'Change']);
      const p95 = await p.locator('[data-criterion="api.p95"]').innerText();
      assert.match(p95, /[+-]\d+(\.\d+)? ms \([+-]\d+(\.\d+)?%\)/);
      const legend = await p.locator('[data-chart="api:distribution"] .u-legend').innerText();
      assert.match(legend, /baseline/);
      assert.match(legend, /corrected for coordinated omission/);
      // Target marks sit at one percentile each; their legend reads the target wherever the cursor is.
      assert.match(legend, /p95 target 100 ms\s*100 ms/);
      assert.match(legend, /p99 target 200 ms\s*200 ms/);
      const latencyLegend = await p.locator('[data-chart="api:latency"] .u-legend').innerText();
      assert.match(latencyLegend, /p99 corrected/);
      const baselineInk = await d.ink('api:distribution', '--vscode-charts-purple');
      assert.ok(baselineInk.colored > 100, `corrected curve drawn: ${JSON.stringify(baselineInk)}`);
      await p.screenshot({ path: path.join(RESULTS, `dashboard-baseline-${theme}.png`), fullPage: true });
      await d.close();
    });
  }

  test('a reload (the panel hidden and shown again) restores the run from getState', async () => {
    const d = await open('dark');
    const p = d.page;
    await d.send(...live.messages);
    await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
    await p.waitForTimeout(300); // the state is saved with each message; let the last render land
    const again = await open('dark', p);
    assert.deepEqual(await again.posted(), [{ type: 'ready' }]);
    await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
    assert.deepEqual(await criteriaMarks(p), ['✓', '✓', '✓', '✓', '✗']);
    const drawn = await again.ink('api:latency', '--vscode-charts-red');
    assert.ok(drawn.colored > 100, `latency redrawn from saved state: ${JSON.stringify(drawn)}`);
    await again.close();
  });

  test('charts follow the panel width and a theme switch without being sent anything', async () => {
    const d = await open('dark');
    const p = d.page;
    await d.send(...live.messages);
    await p.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
    const width = (): Promise<number> => p.evaluate(() => document.querySelector<HTMLCanvasElement>('[data-chart="api:latency"] canvas')?.clientWidth ?? 0);
    const wide = await width();
    await p.setViewportSize({ width: 560, height: 900 }); // one column of charts, narrower than each of two at 1280
    await p.waitForFunction((before) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-chart="api:latency"] canvas');
      return canvas !== null && canvas.clientWidth < before - 20;
    }, wide);
    const narrow = await width();
    assert.ok(narrow > 300 && narrow < wide, `latency chart ${wide}px -> ${narrow}px`);

    // As VS Code does on a theme change: new variables on <html>, a new body class.
    await p.evaluate((theme) => {
      for (const [name, value] of Object.entries(theme.vars)) document.documentElement.style.setProperty(name, value);
      document.body.classList.replace('vscode-dark', theme.bodyClass);
    }, THEMES.light);
    await p.waitForTimeout(200);
    const light = await d.ink('api:latency', '--vscode-charts-red');
    assert.ok(light.colored > 100, `p99 redrawn in the light theme's red: ${JSON.stringify(light)}`);
    await p.screenshot({ path: path.join(RESULTS, 'dashboard-narrow-switched-to-light.png'), fullPage: true });
    await d.close();
  });

  test('with the empty-style hash in style-src, the page is free of CSP violations and the toolkit gets :focus-visible', async () => {
    const d = await open({ theme: 'dark', allowEmptyStyle: true });
    await d.send(...live.messages);
    await d.page.waitForFunction(() => document.querySelector('[data-chart="api:distribution"] canvas') !== null);
    await d.page.locator('vscode-button', { hasText: 'Save chart images' }).click();
    const focusRules: string[] = await d.page.evaluate(() => {
      const button = document.querySelector('vscode-button');
      const sheets = button?.shadowRoot?.adoptedStyleSheets ?? [];
      const css = sheets.flatMap((sheet) => Array.from(sheet.cssRules, (rule) => rule.cssText)).join('\n');
      return css.match(/:focus(-visible)?\b/g) ?? [];
    });
    assert.ok(focusRules.includes(':focus-visible'), `button focus rules: ${focusRules.join(' ')}`);
    assert.deepEqual(await d.violations(), []);
    await d.close();
  });
});

