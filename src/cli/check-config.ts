import { isRecordRule } from '../alerting/types.js';
import { describeShard, shardOf } from '../cluster/shard.js';
import type { VigilConfig } from '../config/schema.js';
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

/**
 * `cluster.shard`: which models this shard monitors and which the others do (Prometheus's hashmod
 * of each name), and the store the shard group must have to itself.
 */
export function shardAssignment(config: VigilConfig): string {
  const { count, index } = config.cluster.shard;
  const byShard = new Map<number, string[]>();
  for (const m of config.models) {
    const s = shardOf(m.name, count);
    byShard.set(s, [...(byShard.get(s) ?? []), m.name]);
  }
  const mine = byShard.get(index) ?? [];
  const others = [...byShard.entries()].filter(([s]) => s !== index).sort(([a], [b]) => a - b).map(([s, names]) => `shard ${s}: ${names.join(', ')}`);
  const empty = count - 1 - others.length;
  const store = config.storage.backend === 'postgres' ? `storage.schema "${config.storage.schema}"` : `storage.path ${config.storage.path}`;
  return [
    `${describeShard(config.cluster.shard)} (cluster.shard) monitors ${mine.length} of ${config.models.length} model(s)${mine.length > 0 ? `: ${mine.join(', ')}` : ''}`,
    ...others,
    ...(empty > 0 ? [`${empty} other shard(s) without a model`] : []),
    `this shard group needs its store to itself (${store})`,
  ].join('; ');
}

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
      if (config.cluster.shard.count > 1) io.stdout(`${file}: ${shardAssignment(config)}\n`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const issue of e.issues) io.stderr(`${formatIssue(issue)}\n`);
      io.stderr(`${file}: ${e.issues.length} problem(s)\n`);
      code = 2;
    }
  }
  return code;
}
