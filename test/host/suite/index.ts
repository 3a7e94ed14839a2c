// The extension-test entry that VS Code's extension host calls with the path given as
// `extensionTestsPath`: @vscode/test-electron on desktop, code-server through runInCodeServer.ts here.
// It runs every `*.test.js` compiled next to it (test/host/build.js) with mocha.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/**
 * Set by runInCodeServer.ts: a file that receives the reporter's lines as plain text. Inside
 * code-server the extension host's console only reaches the browser console, mixed with the
 * workbench's own log lines; this file is what the runner prints to the terminal.
 */
const REPORT_FILE_ENV = 'PHASE3_HOST_TEST_LOG';

function writeReporterLines(reportFile: string | undefined): (line: string) => void {
  const toConsole = Mocha.reporters.Base.consoleLog;
  const write = (line: string) => {
    // One preformatted string: the extension host forwards printf-style arguments unformatted.
    toConsole(line);
    if (reportFile) fs.appendFileSync(reportFile, `${line}\n`);
  };
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => write(format(...args));
  return write;
}

export function run(): Promise<void> {
  const report = writeReporterLines(process.env[REPORT_FILE_ENV]);
  const mocha = new Mocha({
    ui: 'bdd',
    // The output is read in a log or a CI transcript, not a terminal.
    color: false,
    reporter: 'spec',
    timeout: 60_000,
  });

  const testFiles = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  if (testFiles.length === 0) {
    // A run that finds nothing must not look green.
    const error = new Error(`no *.test.js files next to ${__filename}`);
    report(`host-tests: ${error.message}`);
    return Promise.reject(error);
  }
  for (const name of testFiles) mocha.addFile(path.join(__dirname, name));

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, pending = 0 } = runner.stats ?? {};
        // A plain closing line that CI tooling and people both read.
        report(`host-tests: ${passes} passed, ${failures} failed, ${pending} skipped`);
        if (failures > 0) reject(new Error(`${failures} host test(s) failed`));
        else resolve();
      });
    } catch (err) {
      // A test file that throws while loading ends up here, before any test runs.
      const error = err instanceof Error ? err : new Error(String(err));
      report(`host-tests: could not load the suite: ${error.stack ?? error.message}`);
      reject(error);
    }
  });
}
