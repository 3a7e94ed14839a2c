import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { assertNever, type HostToWebview, type WebviewToHost } from '../shared/protocol';
import { DASHBOARD_VIEW_TYPE } from './ids';
import { Disposable } from './lifecycle';

export interface DashboardHandlers {
  /** The page (re)loaded and wants the current picture. */
  onReady(): HostToWebview[];
  onCancel(): void;
  onSaveImages(images: Array<{ name: string; dataUrl: string }>): Promise<HostToWebview>;
}

/**
 * The dashboard webview. Locked down: CSP `default-src 'none'`, one nonce'd script, resources only
 * from dist/ and media/. Messages wait until the page says `ready`; the page keeps its own state
 * (getState/setState) across hide and show, so the panel does not need to stay alive hidden.
 */
export class DashboardPanel extends Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private ready = false;
  private queue: HostToWebview[] = [];
  private readonly posted = this.register(new vscode.EventEmitter<HostToWebview>());
  /** Every message handed to the page (after the ready handshake), in order. */
  readonly onDidPost = this.posted.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly handlers: DashboardHandlers) {
    super();
  }

  get isOpen(): boolean {
    return this.panel !== null;
  }

  show(preserveFocus = false): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')];
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'Phase 3 Dashboard', { viewColumn: vscode.ViewColumn.Active, preserveFocus }, {
      enableScripts: true,
      localResourceRoots: roots,
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'phase3.svg');
    this.panel = panel;
    this.ready = false;
    this.queue = [];
    const subscriptions = [
      panel.webview.onDidReceiveMessage((message: WebviewToHost) => void this.receive(message)),
      panel.onDidDispose(() => {
        this.panel = null;
        this.ready = false;
        this.queue = [];
        subscriptions.forEach((s) => s.dispose());
      }),
    ];
    panel.webview.html = this.html(panel.webview);
  }

  /** Sends now if the page is listening, else when it says ready. Dropped when no panel is open. */
  post(message: HostToWebview): void {
    if (!this.panel) return;
    if (this.ready) this.deliver(message);
    else this.queue.push(message);
  }

  private deliver(message: HostToWebview): void {
    void this.panel?.webview.postMessage(message);
    this.posted.fire(message);
  }

  private async receive(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        const pending = [...this.handlers.onReady(), ...this.queue];
        this.queue = [];
        for (const m of pending) this.deliver(m);
        return;
      }
      case 'cancel':
        this.handlers.onCancel();
        return;
      case 'saveImages':
        this.post(await this.handlers.onSaveImages(message.images));
        return;
      default:
        assertNever(message);
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const asset = (...p: string[]): vscode.Uri => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      // The toolkit's FAST core probes :focus-visible by appending an empty <style>; this hash
      // (of the empty string) allows exactly that and no other inline style.
      `style-src ${webview.cspSource} 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('dist', 'webview.css')}"><link rel="stylesheet" href="${asset('media', 'dashboard.css')}">
<title>Phase 3 Dashboard</title></head><body><div id="app"></div><script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script></body></html>`;
  }

  override dispose(): void {
    this.panel?.dispose();
    super.dispose();
  }
}
