// Proves the harness itself: the suite runs inside a real VS Code extension host with the
// workspace folder open. It needs nothing from the Phase 3 extension.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';

describe('extension host', () => {
  it('is a VS Code 1.x extension host', () => {
    assert.match(vscode.version, /^1\./);
  });

  it('has the test workspace folder open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'exactly one workspace folder');
    const [folder] = folders;
    assert.equal(folder.uri.scheme, 'file');
    assert.ok(fs.statSync(folder.uri.fsPath).isDirectory(), `${folder.uri.fsPath} is a folder on disk`);
  });
});
