#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('phase3: not built yet: run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
require(cli)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // Anything still holding the event loop open (a socket in a close handshake) must not keep
    // a finished run alive; the timer itself does not hold it open.
    setTimeout(() => process.exit(code), 2000).unref();
  });
