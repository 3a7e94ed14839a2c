// Bundles the host test suite (test/host/suite/index.ts and every *.test.ts beside it) into
// out/test/host/suite/, one CommonJS file per entry, for VS Code's extension host to load.
// `vscode` is provided by the extension host; mocha is resolved at run time from the repo's
// node_modules (out/ sits inside the repo), so the suite index and the tests share one mocha
// and its `describe`/`it` globals.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const suiteDir = path.join(__dirname, 'suite');
const outdir = path.join(root, 'out/test/host/suite');

const entryPoints = fs
  .readdirSync(suiteDir)
  .filter((name) => name === 'index.ts' || name.endsWith('.test.ts'))
  .map((name) => path.join(suiteDir, name));

async function main() {
  // A test deleted from suite/ must not keep running from a stale bundle.
  fs.rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
    external: ['vscode', 'mocha'],
  });
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
