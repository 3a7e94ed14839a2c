import * as vscode from 'vscode';
import type { Phase3Config } from '../engine/config';

const keyFor = (name: string): string => `phase3.env.${name}`;

/**
 * Secrets the config names by environment variable (target.authorizationEnv,
 * database.passwordEnv). The process environment wins; otherwise the value comes from VS Code's
 * SecretStorage, asked for once and kept there. It is never written to a file.
 */
export class SecretEnv {
  constructor(private readonly storage: vscode.SecretStorage) {}

  async environment(config: Phase3Config): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const names = [config.target?.authorizationEnv, config.database?.passwordEnv].filter((n): n is string => !!n);
    for (const name of names) {
      if (env[name]) continue;
      let value = await this.storage.get(keyFor(name));
      if (!value) {
        value = await vscode.window.showInputBox({
          title: `Phase 3: ${name}`,
          prompt: `${name} is not set in the environment. Its value is kept in VS Code's secret storage, never in a file.`,
          password: true,
          ignoreFocusOut: true,
        });
        if (value) await this.storage.store(keyFor(name), value);
      }
      if (value) env[name] = value;
    }
    return env;
  }
}
