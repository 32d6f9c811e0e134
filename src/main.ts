#!/usr/bin/env -S node --max-semi-space-size=16
import type { CliIo } from './cli/args.js';

// Vigil needs Node >= 22 (developed and tested on 24 LTS). Older ones fail in obscure ways (the
// SQLite driver's binary crashes on Node 20), so say it plainly before loading anything else.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `vigil: Node.js ${process.version} is too old; Vigil needs Node.js >= 22 (24 LTS recommended).\n` +
      `       In a checkout, \`source scripts/node.sh\` puts Node 24 from the npm registry on PATH.\n`,
  );
  process.exit(1);
}

const { main } = await import('./cli/main.js');
const io: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  // long work shows its progress: a bar on a terminal, a line per stage in a pipe or a log
  progress: process.stderr.isTTY ? 'bar' : 'lines',
  ...(process.stderr.isTTY && process.stderr.columns > 0 ? { columns: process.stderr.columns } : {}),
};
main(process.argv.slice(2), io, process.env).then(
  (code) => {
    process.exitCode = code;
    // Leave a moment for pino's async destination to flush, then exit even if a handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (e: unknown) => {
    process.stderr.write(`vigil: ${String(e)}\n`);
    process.exit(1);
  },
);
