/**
 * Serves the dashboard as VS Code would: the host's exact HTML and CSP with a fresh nonce per
 * page, the bundle, media/, and in place of VS Code a nonce'd shim defining acquireVsCodeApi.
 * The shim records what the page posts and any CSP violation, keeps setState in sessionStorage
 * (so a reload restores it, as hiding and showing a webview does), and lets the test deliver
 * host messages the way VS Code does: a `message` event on window whose data is the message.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { THEMES } from './themes';

const REPO = path.resolve(__dirname, '../../..');

/** Bundles webview/main.ts like esbuild.js does, into `outdir` (webview.js and webview.css). */
export async function buildWebview(outdir: string): Promise<void> {
  await build({
    entryPoints: { webview: path.join(REPO, 'webview/main.ts') },
    bundle: true,
    outdir,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    loader: { '.ttf': 'file', '.woff2': 'file' },
    logLevel: 'warning',
  });
}

/**
 * SHA-256 of the empty string. FAST (under the toolkit) probes for :focus-visible when it loads
 * by adding an empty <style> to <head>; the host's CSP refuses it (one violation per page load)
 * and the toolkit falls back to :focus. Allowing this one hash in style-src lets the probe pass
 * and allows no style at all: an empty <style> is the only thing that hashes to it.
 */
export const EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='";

export interface PageOptions {
  theme: keyof typeof THEMES;
  /** Serve the CSP with EMPTY_STYLE_HASH added to style-src (the change proposed to the host). */
  allowEmptyStyle?: boolean;
}

export interface Harness {
  /** The page URL for a theme. */
  url(options: PageOptions): string;
  close(): Promise<void>;
}

/** The shim VS Code's own preload would stand for; runs before webview.js. */
function shim(theme: keyof typeof THEMES): string {
  return `(() => {
  const theme = ${JSON.stringify(THEMES[theme])};
  for (const [name, value] of Object.entries(theme.vars)) document.documentElement.style.setProperty(name, value);
  document.body.classList.add(theme.bodyClass);
  document.body.dataset.vscodeThemeKind = theme.bodyClass;
  const harness = { posted: [], violations: [], acquired: 0 };
  window.__harness = harness;
  document.addEventListener('securitypolicyviolation', (e) => {
    const target = e.composedPath()[0];
    const element = target instanceof Element ? target.tagName.toLowerCase() + (target.className ? '.' + String(target.className).split(' ').join('.') : '') : String(target);
    const root = target instanceof Node ? target.getRootNode() : null;
    const host = root instanceof ShadowRoot ? root.host.tagName.toLowerCase() : '';
    harness.violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber, element: host ? host + ' > ' + element : element });
  });
  const key = 'phase3.dashboard.state';
  window.acquireVsCodeApi = () => {
    if (harness.acquired++) throw new Error('An instance of the VS Code API has already been acquired');
    return Object.freeze({
      postMessage: (message) => { harness.posted.push(JSON.parse(JSON.stringify(message))); },
      getState: () => { const saved = sessionStorage.getItem(key); return saved === null ? undefined : JSON.parse(saved); },
      setState: (state) => { sessionStorage.setItem(key, JSON.stringify(state)); return state; },
    });
  };
  harness.send = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
})();`;
}

/** The host's HTML, byte for byte in shape, with the shim added before the bundle. */
function page(origin: string, nonce: string, { theme, allowEmptyStyle }: PageOptions): string {
  const styleSrc = allowEmptyStyle ? `${origin} ${EMPTY_STYLE_HASH}` : origin;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${origin} data:; style-src ${styleSrc}; font-src ${origin}; script-src 'nonce-${nonce}';">
<link rel="stylesheet" href="${origin}/dist/webview.css"><link rel="stylesheet" href="${origin}/media/dashboard.css">
<title>Phase 3 Dashboard</title></head><body><div id="app"></div><script nonce="${nonce}">${shim(theme)}</script><script nonce="${nonce}" src="${origin}/dist/webview.js"></script></body></html>`;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
};

export async function startHarness(bundleDir: string): Promise<Harness> {
  const roots: Record<string, string> = { dist: bundleDir, media: path.join(REPO, 'media') };
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const theme = url.searchParams.get('theme') === 'light' ? 'light' : 'dark';
      const allowEmptyStyle = url.searchParams.has('allowEmptyStyle');
      const nonce = randomBytes(16).toString('base64');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(origin, nonce, { theme, allowEmptyStyle }));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end(); // a webview never asks for one; the browser here does
      return;
    }
    const [, root, ...rest] = url.pathname.split('/');
    const base = roots[root];
    const file = base ? path.resolve(base, ...rest.map(decodeURIComponent)) : '';
    if (!base || !file.startsWith(base + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: ({ theme, allowEmptyStyle }) => `${origin}/?theme=${theme}${allowEmptyStyle ? '&allowEmptyStyle' : ''}`,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}
