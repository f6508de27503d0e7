import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { buildDeveloperRuleGroups } from '../alerts/rules.js';
import { ConfigError, loadConfig, parseYamlFile, validateConfig } from '../config/index.js';
import { DEVELOPER_LABEL, developerName, type BridgeConfig } from '../config/schema.js';
import { UsageError, type Command } from './command.js';

const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as "15s" or "5m"');
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port');

/** The team file: who is on the team, where their bridges are, and what differs per developer. */
export const teamSchema = z.strictObject({
  prometheus: z
    .strictObject({
      scrape_interval: duration.default('15s'),
      evaluation_interval: duration.default('15s'),
    })
    .prefault({}),
  alertmanager: z.strictObject({
    /** Every peer of the cluster (host:port): Prometheus sends each alert to all of them. */
    peers: z.array(hostPort).min(1),
    group_wait: duration.default('5s'),
    group_interval: duration.default('30s'),
    repeat_interval: duration.default('1h'),
  }),
  developers: z
    .array(
      z.strictObject({
        name: developerName,
        /** The bridge's base URL, as Prometheus and Alertmanager reach it. */
        url: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as "http://alice-laptop:8080"' }),
        /** The file (as Alertmanager sees it) holding the bridge's auth.token. */
        token_file: z.string().min(1),
        /** This developer's thresholds and for-durations (the `alerts` section of config.yaml). */
        alerts: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1)
    .refine((list) => new Set(list.map((d) => d.name)).size === list.length, 'developer names must be unique'),
});

export type TeamFile = z.infer<typeof teamSchema>;
export type Developer = TeamFile['developers'][number];

export function parseTeam(raw: unknown, source: string): TeamFile {
  const result = teamSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(source, result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
}

const receiverName = (developer: string) => `bridge-${developer}`;
const RECOVERY_ACTIONS = 'backoff|pause|degrade';

/** Prometheus: one target per developer labelled `developer`, the team's rule file, every Alertmanager peer. */
export function teamPrometheusConfig(team: TeamFile): Record<string, unknown> {
  return {
    global: team.prometheus,
    rule_files: ['rules/*.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: team.alertmanager.peers }] }] },
    scrape_configs: (['http', 'https'] as const).flatMap((scheme) => {
      const developers = team.developers.filter((d) => new URL(d.url).protocol === `${scheme}:`);
      if (developers.length === 0) return [];
      return [
        {
          job_name: scheme === 'http' ? 'claude-bridge' : 'claude-bridge-https',
          ...(scheme === 'https' ? { scheme } : {}),
          metrics_path: '/prometheus',
          static_configs: developers.map((d) => ({ targets: [new URL(d.url).host], labels: { [DEVELOPER_LABEL]: d.name } })),
        },
      ];
    }),
  };
}

/**
 * Alertmanager: each developer's recovery alerts go to their own bridge only (matched on the
 * developer label, with that bridge's bearer token), then on (`continue`) to the humans receiver.
 */
export function teamAlertmanagerConfig(team: TeamFile): Record<string, unknown> {
  const am = team.alertmanager;
  return {
    route: {
      receiver: 'humans',
      group_by: ['alertname', 'alert_type', DEVELOPER_LABEL],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        ...team.developers.map((d) => ({
          receiver: receiverName(d.name),
          matchers: [`${DEVELOPER_LABEL}="${d.name}"`, `action=~"${RECOVERY_ACTIONS}"`],
          group_wait: am.group_wait,
          group_interval: am.group_interval,
          repeat_interval: am.repeat_interval,
          continue: true,
        })),
        { receiver: 'humans' },
      ],
    },
    receivers: [
      ...team.developers.map((d) => ({
        name: receiverName(d.name),
        webhook_configs: [
          {
            url: new URL('/alertmanager/webhook', d.url).toString(),
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: d.token_file } },
          },
        ],
      })),
      { name: 'humans' },
    ],
    inhibit_rules: [
      // A developer's pause makes their own backoff pointless; never someone else's.
      { source_matchers: ['action="pause"'], target_matchers: ['action="backoff"'], equal: [DEVELOPER_LABEL] },
    ],
  };
}

/** Every developer's rules (their own thresholds over the base config), one group pair each. */
export function teamRules(team: TeamFile, base: BridgeConfig): Record<string, unknown> {
  const groups = team.developers.flatMap((d) => {
    const config = d.alerts ? validateConfig({ ...base, alerts: { ...base.alerts, ...d.alerts } }, `team file, developer ${d.name}`) : base;
    return buildDeveloperRuleGroups(config, d.name);
  });
  return { groups };
}

const HEADER = '# Generated by `claude-bridge team` from the team file. Do not edit: change the team file, then regenerate.\n';
const dump = (value: unknown) => HEADER + stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

export const teamCommand: Command = {
  name: 'team',
  usage: `claude-bridge team --file TEAM.yaml --out DIR [--config PATH]

  --file TEAM.yaml  the team: alertmanager.peers, developers (name, url, token_file, alerts overrides)
  --out DIR         writes DIR/prometheus.yml, DIR/rules/claude-bridge-team.yml, DIR/alertmanager.yml
  --config PATH     base thresholds, for-durations and recovery actions (default ./config.yaml)`,
  options: {
    file: { type: 'string', short: 'f' },
    out: { type: 'string', short: 'o' },
    config: { type: 'string', short: 'c' },
  },
  async run(values, io) {
    if (typeof values.file !== 'string') throw new UsageError('--file TEAM.yaml is required');
    if (typeof values.out !== 'string') throw new UsageError('--out DIR is required');
    const out = path.resolve(io.cwd, values.out);
    let files: Record<string, string>;
    try {
      const teamPath = path.resolve(io.cwd, values.file);
      const team = parseTeam(parseYamlFile(teamPath), teamPath);
      const base = loadConfig(typeof values.config === 'string' ? { configPath: values.config } : {}, io.env, io.cwd).config;
      files = {
        'prometheus.yml': dump(teamPrometheusConfig(team)),
        'rules/claude-bridge-team.yml': dump(teamRules(team, base)),
        'alertmanager.yml': dump(teamAlertmanagerConfig(team)),
      };
    } catch (error) {
      if (error instanceof ConfigError) {
        io.stderr(`claude-bridge: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(out, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      io.stdout(`wrote ${path.relative(io.cwd, file) || file}\n`);
    }
    return 0;
  },
};
