import { isJsonObject } from '../../util/json.js';
import { isSaneInstant } from '../../util/time.js';

/**
 * Tolerant field readers for the JSON of CLIs whose key names change between major versions
 * (`costUSD` / `totalCost`, `cacheCreationTokens` / `cacheCreationInputTokens`, …): each reader
 * takes every known spelling and returns the first that holds a value of the right type.
 */
export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | null {
  return isJsonObject(value) ? value : null;
}

export function asRecords(value: unknown): JsonRecord[] {
  return Array.isArray(value) ? value.map(asRecord).filter((r): r is JsonRecord => r !== null) : [];
}

export function numberField(record: JsonRecord | null, keys: readonly string[]): number | null {
  for (const key of keys) {
    const value = record?.[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}

export function stringField(record: JsonRecord | null, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = record?.[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

export function booleanField(record: JsonRecord | null, keys: readonly string[]): boolean | null {
  for (const key of keys) {
    const value = record?.[key];
    if (typeof value === 'boolean') return value;
  }
  return null;
}

export function recordField(record: JsonRecord | null, keys: readonly string[]): JsonRecord | null {
  for (const key of keys) {
    const value = asRecord(record?.[key]);
    if (value) return value;
  }
  return null;
}

export function timeField(record: JsonRecord | null, keys: readonly string[]): number | null {
  const text = stringField(record, keys);
  if (text === null) return null;
  const ms = Date.parse(text);
  return isSaneInstant(ms) ? ms : null;
}
