/**
 * The dashboard webview's entry: restores the saved state, renders, says `ready`, then folds
 * each host message into the state, saves it and renders again (at most every 250 ms, so a burst
 * of intervals costs one redraw).
 */
import type { HostToWebview, WebviewToHost } from '../src/shared/protocol';
import { DashboardPage } from './page';
import { reduce, reduceLocal, restoreState, type DashboardState } from './state';
import { registerToolkit } from './toolkit';

/** The part of VS Code's webview API this page uses. */
interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: DashboardState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const RENDER_INTERVAL_MS = 250;

const vscode = acquireVsCodeApi();
let state = restoreState(vscode.getState());

registerToolkit();
const root = document.getElementById('app');
if (!root) throw new Error('the dashboard page has no #app element');

const page = new DashboardPage(root, {
  cancel: () => {
    vscode.postMessage({ type: 'cancel' });
    apply(reduceLocal(state, { type: 'cancelRequested' }));
  },
  saveImages: () => {
    const images = page.images();
    if (images.length > 0) vscode.postMessage({ type: 'saveImages', images });
  },
  showLive: () => apply(reduceLocal(state, { type: 'showLive' })),
});

let lastRender = 0;
let renderTimer: ReturnType<typeof setTimeout> | undefined;

function render(): void {
  renderTimer = undefined;
  lastRender = performance.now();
  page.render(state);
}

function scheduleRender(): void {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(render, Math.max(0, lastRender + RENDER_INTERVAL_MS - performance.now()));
}

function apply(next: DashboardState): void {
  if (next === state) return;
  state = next;
  vscode.setState(state);
  scheduleRender();
}

function isHostMessage(data: unknown): data is HostToWebview {
  return typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string';
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (isHostMessage(event.data)) apply(reduce(state, event.data));
});

render();
vscode.postMessage({ type: 'ready' });
