import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { ComponentContext } from '../../../src/component.js';
import type { BridgeConfig } from '../../../src/config/index.js';
import { RecoveryController } from '../../../src/recovery/controller.js';
import { MemoryStateStore } from '../../../src/recovery/store.js';
import type { Clock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/logger.js';
import { fixturePath } from '../../support/fixtures.js';

const HOUR_MS = 3600 * 1000;

export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix = 'usage-test-'): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An instant for tests that shift the recorded transcripts: far from the day they were recorded
 * and from the day the suite runs, so a figure that silently followed the real clock (or ccusage's
 * own) instead of the injected one cannot pass.
 */
export const INJECTED_NOW = Date.parse('2031-03-30T01:47:00Z');

/**
 * A Claude config folder `<root>/projects/<project>/` holding copies of a fixture folder's
 * transcripts, every timestamp moved by `shiftMs`. Each file's mtime is its last timestamp, as
 * if Claude Code had just written it (the bridge skips files not written since a block began).
 */
export function claudeConfigCopy(root: string, fixtureFolder: string, project: string, shiftMs = 0): string {
  const target = path.join(root, 'projects', project);
  mkdirSync(target, { recursive: true });
  const source = fixturePath(fixtureFolder);
  for (const name of readdirSync(source).filter((n) => n.endsWith('.jsonl'))) {
    const text = shiftTranscript(readFileSync(path.join(source, name), 'utf8'), shiftMs);
    const file = path.join(target, name);
    writeFileSync(file, text);
    const last = lastTimestamp(text);
    if (last !== null) utimesSync(file, last / 1000, last / 1000);
  }
  return root;
}

function lastTimestamp(text: string): number | null {
  const times = [...text.matchAll(/"timestamp":"([^"]+)"/g)].map((m) => Date.parse(m[1]!)).filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : null;
}

/**
 * Moves every timestamp of a transcript by `shiftMs` (whole hours keep ccusage's hour-aligned
 * block boundaries), including the reset epoch inside rate-limit messages.
 */
export function shiftTranscript(text: string, shiftMs: number): string {
  if (shiftMs === 0) return text;
  return text
    .replace(/"timestamp":"([^"]+)"/g, (_m, iso: string) => `"timestamp":"${new Date(Date.parse(iso) + shiftMs).toISOString()}"`)
    .replace(/usage limit reached\|(\d+)/g, (_m, epoch: string) => `usage limit reached|${Number(epoch) + shiftMs / 1000}`);
}

/**
 * The whole-hour shift that puts `anchor` (the recorded last activity) within the hour before
 * `now`, so the recorded active block is active again for ccusage, whatever today's date is.
 */
export function shiftToNow(anchor: number, now: number): number {
  return Math.floor((now - anchor) / HOUR_MS) * HOUR_MS;
}

/** A claude-monitor snapshot with every instant in it (ISO strings and `*_epoch` seconds) moved by `shiftMs`. */
export function shiftSnapshot(text: string, shiftMs: number): string {
  if (shiftMs === 0) return text;
  return text
    .replace(/"(\d{4}-\d\d-\d\dT[^"]+)"/g, (whole, iso: string) => {
      const at = Date.parse(iso);
      return Number.isNaN(at) ? whole : `"${new Date(at + shiftMs).toISOString()}"`;
    })
    .replace(/("\w+_epoch"\s*:\s*)(\d+)/g, (_m, key: string, epoch: string) => `${key}${Number(epoch) + shiftMs / 1000}`);
}

export interface StandInOptions {
  version?: string;
  /** Moves every instant of the default snapshot (see shiftSnapshot). */
  shiftMs?: number;
  exitCode?: number;
  /** What `--once` prints; the v4 snapshot fixture by default. */
  stdout?: string;
  stderr?: string;
  /** Sleep (in a child process of the script) this many seconds before answering `--once`. */
  hangSeconds?: number;
}

/** A stand-in `claude-monitor` shell script; every call appends its arguments to `<dir>/calls.log`. */
export function writeClaudeMonitorStandIn(dir: string, options: StandInOptions = {}): { path: string; calls: () => string[] } {
  const file = path.join(dir, 'claude-monitor');
  const log = path.join(dir, 'calls.log');
  const snapshot = path.join(dir, 'snapshot.out');
  writeFileSync(snapshot, options.stdout ?? shiftSnapshot(readFileSync(fixturePath('claude-monitor', 'v4-once-json-snapshot.json'), 'utf8'), options.shiftMs ?? 0));
  const script = [
    '#!/bin/sh',
    `echo "$*" >> '${log}'`,
    `if [ "$1" = "--version" ]; then echo '${options.version ?? 'claude-monitor 4.0.0'}'; exit 0; fi`,
    options.hangSeconds ? `sleep ${options.hangSeconds}` : '',
    options.stderr ? `echo '${options.stderr}' >&2` : '',
    `cat '${snapshot}'`,
    `exit ${options.exitCode ?? 0}`,
    '',
  ].join('\n');
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  const calls = () => {
    try {
      return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { path: file, calls };
}

/** What a component gets from the bridge, on a fresh registry; rate-limit hits are collected in `hits`. */
export function testContext(config: BridgeConfig, clock: Clock): ComponentContext & { hits: unknown[] } {
  const controller = new RecoveryController({ config, clock, store: new MemoryStateStore(), logger: silentLogger });
  const hits: unknown[] = [];
  return {
    config,
    registry: new Registry(),
    clock,
    logger: silentLogger,
    report: { rateLimitHit: (hit) => hits.push(hit) },
    recoveryState: () => controller.snapshot().state,
    hits,
  };
}

/** The value of one series in a Prometheus text exposition, or undefined. */
export function seriesValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
