import { isRecordRule } from '../alerting/types.js';
import { ConfigError, formatIssue, loadConfigFile } from '../config/load.js';
import { formatDuration } from '../core/duration.js';
import { loadConfiguredRules } from '../alerting/service.js';
import { formatRuleFileError } from '../alerting/rules/index.js';
import type { CliIo } from './args.js';
import { defineCommand, parseCommand, usageOf } from './args.js';

export const CHECK_CONFIG_COMMAND = defineCommand({
  name: 'check-config',
  positionals: { name: 'FILE…', min: 1 },
  summary:
    'Validate configuration files and the rule files they name, without starting anything.\n' +
    'Every problem is printed as file:line:column: key.path: message (CODE).',
  notes: 'Exit codes: 0 every file is valid, 2 a file has problems (or bad usage).',
  flags: {},
});

/** `vigil check-config FILE…`: exit 0 when every file is valid, 2 when any is not. */
export async function runCheckConfig(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(CHECK_CONFIG_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(CHECK_CONFIG_COMMAND));
    return 0;
  }
  const { positionals } = parsed;
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
      const all = rules.groups.flatMap((g) => g.rules);
      const recording = all.filter(isRecordRule).length;
      io.stdout(
        `${file}: OK — ${config.models.length} model(s)` +
          `${config.models.length ? ` (${config.models.map((m) => `${m.name}: ${m.task}, ${m.features.length} features`).join('; ')})` : ''}` +
          `, ${all.length - recording} alert rule(s)${recording > 0 ? `, ${recording} recording rule(s)` : ''}, evaluation every ${formatDuration(config.evaluation_interval)}\n`,
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
