// The folder a host test run opens: a fresh copy of test/fixtures/workspace when the repo has
// one (tests may write into it), else an empty folder.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const WORKSPACE_FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'workspace');

/** Creates `<parentDir>/workspace` and returns its path. */
export function freshWorkspace(parentDir: string): string {
  const workspace = path.join(parentDir, 'workspace');
  if (fs.existsSync(WORKSPACE_FIXTURE)) fs.cpSync(WORKSPACE_FIXTURE, workspace, { recursive: true });
  else fs.mkdirSync(workspace, { recursive: true });
  return workspace;
}
