import { execFileSync } from 'node:child_process';

/**
 * Programs from Debian packages some tests need (promtool from `prometheus`, …). Under CI=true a
 * missing program fails the test (.ci/run installs them); elsewhere the test is skipped with a
 * message saying what to install.
 */
export function debianTool(name: string, pkg: string): { available: boolean; reason: string } {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return { available: true, reason: '' };
  } catch {
    const reason = `${name} is not installed: apt-get install -y ${pkg}`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI must have it; .ci/run installs it)`);
    process.stderr.write(`skipping: ${reason}\n`);
    return { available: false, reason };
  }
}
