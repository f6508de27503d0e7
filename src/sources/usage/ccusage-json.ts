import type { TokenCounts } from './types.js';
import { asRecord, asRecords, booleanField, numberField, recordField, stringField, timeField, type JsonRecord } from './fields.js';

/** One `ccusage blocks --json` block. `totalTokens` is ccusage's: all four kinds. */
export interface CcusageBlock {
  start: number;
  end: number;
  lastActivity: number | null;
  isActive: boolean;
  isGap: boolean;
  tokens: TokenCounts;
  totalTokens: number;
  costUsd: number;
  models: string[];
  /** `tokensPerMinute` counts all four kinds, `inputOutputTokensPerMinute` input+output. */
  burnRate: { tokensPerMinute: number; inputOutputTokensPerMinute: number | null; costPerHour: number } | null;
  projection: { totalTokens: number; totalCost: number; remainingMinutes: number } | null;
  limitResetsAt: number | null;
}

export interface CcusageModelUsage {
  model: string;
  tokens: TokenCounts;
  costUsd: number;
}

/** One `ccusage daily --json` row (Claude's share when the row is split by agent). */
export interface CcusageDay {
  date: string;
  costUsd: number;
  tokens: TokenCounts;
  models: CcusageModelUsage[];
}

const KEYS = {
  input: ['inputTokens', 'input_tokens', 'input'],
  output: ['outputTokens', 'output_tokens', 'output'],
  cacheCreation: ['cacheCreationInputTokens', 'cacheCreationTokens', 'cache_creation_input_tokens', 'cache_creation_tokens'],
  cacheRead: ['cacheReadInputTokens', 'cacheReadTokens', 'cache_read_input_tokens', 'cache_read_tokens'],
  cost: ['costUSD', 'costUsd', 'cost_usd', 'totalCost', 'total_cost', 'cost'],
} as const;

export class CcusageFormatError extends Error {}

export function parseCcusageBlocks(document: unknown): CcusageBlock[] {
  const root = asRecord(document);
  if (!root || !Array.isArray(root.blocks)) throw new CcusageFormatError('ccusage blocks: expected {"blocks": [...]}');
  return asRecords(root.blocks).flatMap((raw) => {
    const block = parseBlock(raw);
    return block ? [block] : [];
  });
}

function parseBlock(raw: JsonRecord): CcusageBlock | null {
  const start = timeField(raw, ['startTime', 'start_time', 'start']);
  const end = timeField(raw, ['endTime', 'end_time', 'end']);
  if (start === null || end === null) return null;
  const tokens = tokenCounts(recordField(raw, ['tokenCounts', 'token_counts']) ?? raw);
  return {
    start,
    end,
    lastActivity: timeField(raw, ['actualEndTime', 'actual_end_time', 'lastActivity']),
    isActive: booleanField(raw, ['isActive', 'is_active']) ?? false,
    isGap: booleanField(raw, ['isGap', 'is_gap']) ?? false,
    tokens,
    totalTokens: numberField(raw, ['totalTokens', 'total_tokens']) ?? tokens.input + tokens.output + tokens.cache_creation + tokens.cache_read,
    costUsd: numberField(raw, KEYS.cost) ?? 0,
    models: Array.isArray(raw.models) ? raw.models.filter((m): m is string => typeof m === 'string') : [],
    burnRate: burnRateOf(recordField(raw, ['burnRate', 'burn_rate'])),
    projection: projectionOf(recordField(raw, ['projection'])),
    limitResetsAt: timeField(raw, ['usageLimitResetTime', 'usage_limit_reset_time']),
  };
}

function burnRateOf(raw: JsonRecord | null): CcusageBlock['burnRate'] {
  const tokensPerMinute = numberField(raw, ['tokensPerMinute', 'tokens_per_minute']);
  if (tokensPerMinute === null) return null;
  return {
    tokensPerMinute,
    inputOutputTokensPerMinute: numberField(raw, ['tokensPerMinuteForIndicator', 'tokens_per_minute_for_indicator']),
    costPerHour: numberField(raw, ['costPerHour', 'cost_per_hour']) ?? 0,
  };
}

function projectionOf(raw: JsonRecord | null): CcusageBlock['projection'] {
  const totalTokens = numberField(raw, ['totalTokens', 'total_tokens']);
  if (totalTokens === null) return null;
  return {
    totalTokens,
    totalCost: numberField(raw, ['totalCost', 'total_cost', 'costUSD']) ?? 0,
    remainingMinutes: numberField(raw, ['remainingMinutes', 'remaining_minutes']) ?? 0,
  };
}

export function parseCcusageDaily(document: unknown): CcusageDay[] {
  const root = asRecord(document);
  const rows = root?.daily ?? root?.data;
  if (!Array.isArray(rows)) throw new CcusageFormatError('ccusage daily: expected {"daily": [...]}');
  return asRecords(rows).flatMap((raw) => {
    const date = stringField(raw, ['date', 'period', 'day']);
    if (date === null) return [];
    const row = claudeShare(raw);
    return [{ date, costUsd: numberField(row, KEYS.cost) ?? 0, tokens: tokenCounts(row), models: modelsOf(row) }];
  });
}

/** With `--by-agent`, rows of the unified report carry `agents[]`: keep Claude's own figures. */
function claudeShare(row: JsonRecord): JsonRecord {
  return asRecords(row.agents).find((a) => stringField(a, ['agent']) === 'claude') ?? row;
}

function modelsOf(row: JsonRecord): CcusageModelUsage[] {
  return asRecords(row.modelBreakdowns ?? row.model_breakdowns).flatMap((raw) => {
    const model = stringField(raw, ['modelName', 'model_name', 'model']);
    return model === null ? [] : [{ model, tokens: tokenCounts(raw), costUsd: numberField(raw, KEYS.cost) ?? 0 }];
  });
}

function tokenCounts(raw: JsonRecord): TokenCounts {
  return {
    input: numberField(raw, KEYS.input) ?? 0,
    output: numberField(raw, KEYS.output) ?? 0,
    cache_creation: numberField(raw, KEYS.cacheCreation) ?? 0,
    cache_read: numberField(raw, KEYS.cacheRead) ?? 0,
  };
}
