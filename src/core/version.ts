import { readFileSync } from 'node:fs';
import { packagePath } from './paths.js';

let cached: string | undefined;

/** Vigil's version from package.json (read once, lazily). */
export function vigilVersion(): string {
  cached ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
