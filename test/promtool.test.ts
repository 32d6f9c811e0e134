import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianTool } from './debian.js';

/** The bundled rule files pass `promtool check rules` and their unit tests pass `promtool test rules`. */
const promtool = debianTool('promtool', 'prometheus');
const root = join(import.meta.dirname, '..');
const ruleFiles = [...readdirSync(join(root, 'rules')).filter((f) => f.endsWith('.rules.yml')).map((f) => join('rules', f)), ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.rules.yml')).map((f) => join('examples', f))];

describe.runIf(promtool.available)('promtool', () => {
  it.each(ruleFiles)('promtool check rules %s', (file) => {
    const out = execFileSync('promtool', ['check', 'rules', file], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('promtool test rules rules/vigil-ml.rules.test.yml', () => {
    const out = execFileSync('promtool', ['test', 'rules', 'rules/vigil-ml.rules.test.yml'], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });
});
