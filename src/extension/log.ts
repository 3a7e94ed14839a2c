import * as vscode from 'vscode';
import { redactText } from '../engine/redact';
import { Disposable } from './lifecycle';

/** The "Phase 3" output channel. Every line passes through redaction of the known secrets. */
export class Log extends Disposable {
  private readonly channel = this.register(vscode.window.createOutputChannel('Phase 3', { log: true }));
  private readonly secrets = new Set<string>();

  addSecrets(values: readonly string[]): void {
    for (const v of values) if (v.length >= 4) this.secrets.add(v);
  }

  private clean(text: string): string {
    return redactText(text, [...this.secrets]);
  }

  info(text: string): void {
    this.channel.info(this.clean(text));
  }

  warn(text: string): void {
    this.channel.warn(this.clean(text));
  }

  error(text: string): void {
    this.channel.error(this.clean(text));
  }

  /** A block of text (a report) as it is, line by line. */
  block(text: string): void {
    for (const line of this.clean(text).split('\n')) this.channel.info(line);
  }

  show(): void {
    this.channel.show(true);
  }
}
