import * as vscode from 'vscode';
import { startDemoTarget, type DemoTarget } from '../demo/target';
import { errorMessage } from '../engine/errors';
import { ContextKeys } from './ids';
import { workspaceRoot } from './settings';
import { Disposable } from './lifecycle';
import type { Log } from './log';

/** The embedded demo target, started and stopped from the palette or the welcome view. */
export class DemoTargetService extends Disposable {
  private target: DemoTarget | null = null;
  private starting: Promise<DemoTarget | null> | null = null;
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {
    super();
  }

  get current(): DemoTarget | null {
    return this.target;
  }

  start(): Promise<DemoTarget | null> {
    if (this.target) return Promise.resolve(this.target);
    this.starting ??= this.doStart().finally(() => (this.starting = null));
    return this.starting;
  }

  private async doStart(): Promise<DemoTarget | null> {
    const root = workspaceRoot();
    try {
      const target = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Phase 3: starting the demo target (PostgreSQL + GraphQL API)…' },
        () => startDemoTarget({ log: (line) => this.log.info(`demo: ${line}`), searchPaths: root ? [root.fsPath] : [] }),
      );
      this.target = target;
      this.log.info(`demo target: GraphQL ${target.graphqlUrl}, PostgreSQL pid ${target.postgresPid}`);
      await this.setContext(true);
      return target;
    } catch (err) {
      this.log.error(`demo target failed to start: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Phase 3: the demo target did not start: ${errorMessage(err)}`);
      return null;
    }
  }

  async stop(): Promise<void> {
    const target = this.target;
    this.target = null;
    if (!target) return;
    await target.stop();
    this.log.info('demo target stopped');
    await this.setContext(false);
  }

  private async setContext(running: boolean): Promise<void> {
    await vscode.commands.executeCommand('setContext', ContextKeys.demoRunning, running);
    this.changed.fire();
  }

  override dispose(): void {
    void this.stop();
    super.dispose();
  }
}
