#!/usr/bin/env node
import type { CliIo } from './cli/args.js';
import { main } from './cli/main.js';

const io: CliIo = { stdout: (s) => void process.stdout.write(s), stderr: (s) => void process.stderr.write(s) };
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
