import { sloRulesYaml } from '../slo/rules.js';
import type { CliIo } from './args.js';
import { CONFIG_FLAG, defineCommand, loadConfigForCli, parseCommand, usageOf } from './args.js';

export const SLO_COMMAND = defineCommand({
  name: 'slo',
  positionals: { name: 'rules', min: 1 },
  summary:
    "Print the SLOs' multiwindow, multi-burn-rate alert rules (the slos: section) as a Prometheus rule file:\n" +
    '  vigil slo rules --config vigil.yaml > slo.rules.yml\n' +
    'Vigil evaluates the same groups itself; load the file in a Prometheus that scrapes Vigil.',
  notes: 'Exit codes: 0 printed, 2 bad configuration or usage.',
  flags: { config: CONFIG_FLAG },
});

/** `vigil slo rules [--config FILE]`. */
export async function runSlo(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(SLO_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(SLO_COMMAND));
    return 0;
  }
  if (parsed.positionals[0] !== 'rules') {
    io.stderr(`vigil slo: unknown subcommand "${parsed.positionals[0] ?? ''}" (try: vigil slo rules)\n`);
    return 2;
  }
  const loaded = await loadConfigForCli(parsed.values.config, io, env, { ruleFiles: false });
  if (loaded === null) return 2;
  if (loaded.config.slos.length === 0) io.stderr(`${loaded.file}: no slos: section; the rule file has no groups\n`);
  io.stdout(sloRulesYaml(loaded.config.slos));
  return 0;
}
