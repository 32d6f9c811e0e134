import { ConfigError, formatIssue, loadConfigFile } from '../config/load.js';
import { formatDuration } from '../core/duration.js';
import { loadConfiguredRules } from '../alerting/service.js';
import { formatRuleFileError } from '../alerting/rules/index.js';
import type { CliIo } from './args.js';
import { parseCli } from './args.js';

/** `vigil check-config FILE…`: exit 0 when every file is valid, 2 when any is not. */
export async function runCheckConfig(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { positionals } = parseCli(argv, {}, true);
  if (positionals.length === 0) {
    io.stderr('usage: vigil check-config FILE [FILE…]\n');
    return 2;
  }
  let code = 0;
  for (const file of positionals) {
    try {
      const { config } = await loadConfigFile(file, env);
      const rules = await loadConfiguredRules(config, file);
      if (rules.errors.length > 0) {
        for (const r of rules.errors) io.stderr(`${formatRuleFileError(r)}\n`);
        io.stderr(`${file}: ${rules.errors.length} problem(s) in rule files\n`);
        code = 2;
        continue;
      }
      io.stdout(
        `${file}: OK — ${config.models.length} model(s)` +
          `${config.models.length ? ` (${config.models.map((m) => `${m.name}: ${m.task}, ${m.features.length} features`).join('; ')})` : ''}` +
          `, ${rules.groups.reduce((n, g) => n + g.rules.length, 0)} alert rule(s), evaluation every ${formatDuration(config.evaluation_interval)}\n`,
      );
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const issue of e.issues) io.stderr(`${formatIssue(issue)}\n`);
      io.stderr(`${file}: ${e.issues.length} problem(s)\n`);
      code = 2;
    }
  }
  return code;
}
