// The same host suite on VS Code desktop, for machines that can download it (this one cannot:
// use runInCodeServer.ts here). Build the suite first: node test/host/build.js
//
//   node --import tsx test/host/runTest.ts        (PHASE3_VSCODE_VERSION=stable for the newest)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { freshWorkspace, REPO_ROOT } from './workspace';

/** The oldest VS Code that package.json's engines.vscode (^1.100.0) allows, as code-server 4.100.3 runs. */
const DEFAULT_VSCODE_VERSION = '1.100.3';

async function main(): Promise<number> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-electron-'));
  try {
    return await runTests({
      version: process.env.PHASE3_VSCODE_VERSION ?? DEFAULT_VSCODE_VERSION,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'host', 'suite', 'index.js'),
      // Other installed extensions stay off; the one under development is still loaded.
      launchArgs: [freshWorkspace(workDir), '--disable-extensions'],
    });
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // runTests rejects when the suite fails (TestRunFailedError) or VS Code cannot be downloaded.
    console.error(`host tests failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
