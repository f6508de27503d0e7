import { PRICE_FAMILIES, type KindRates, type ModelRates } from './pricing-table.js';

/** The token counts of one message, split the way they are priced. */
export interface MessageTokens {
  input: number;
  output: number;
  /** 5-minute cache writes (or all cache writes when the message has no split). */
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

/** A `usage.pricing` entry: USD per million tokens, as in the shipped table. */
export interface PricingOverride {
  input: number;
  output: number;
  cache_write?: number | undefined;
  cache_read?: number | undefined;
  above_200k?: { input: number; output: number; cache_write?: number | undefined; cache_read?: number | undefined } | undefined;
  fast?: number | undefined;
}

export interface ResolvedPrice {
  /** The family named in the table, or `configured` for a `usage.pricing` entry. */
  family: string;
  rates: ModelRates;
}

/** ccusage's tier boundary: the tokens of one kind in one message beyond this cost the higher rate. */
const TIER_THRESHOLD = 200_000;
/** ccusage prices 1-hour cache writes at twice the input rate. */
const CACHE_WRITE_1H_INPUT_MULTIPLIER = 2;
const PER_MILLION = 1_000_000;

/**
 * Model id → rates: the shipped table (ccusage 20.0.24's offline prices), then `usage.pricing`
 * over it. Unknown ids resolve to null: the caller counts them instead of pricing them at zero
 * unnoticed.
 */
export class PriceList {
  private readonly byModel = new Map<string, ResolvedPrice>();
  private readonly cache = new Map<string, ResolvedPrice | null>();

  constructor(overrides: Record<string, PricingOverride> = {}) {
    for (const { family, rates, models } of PRICE_FAMILIES) for (const model of models) this.byModel.set(model, { family, rates });
    for (const [model, override] of Object.entries(overrides)) this.byModel.set(model, { family: 'configured', rates: ratesOf(override) });
  }

  /** Exact id first, then the id without a trailing `[…]` tag (`claude-sonnet-4-5-20250929[1m]`). */
  resolve(model: string): ResolvedPrice | null {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached;
    const untagged = model.replace(/\[[^\]]*\]$/, '');
    const found = this.byModel.get(model) ?? this.byModel.get(untagged) ?? null;
    this.cache.set(model, found);
    return found;
  }
}

function ratesOf(override: PricingOverride): ModelRates {
  const kinds = (rates: { input: number; output: number; cache_write?: number | undefined; cache_read?: number | undefined }): KindRates => ({
    input: rates.input,
    output: rates.output,
    // ccusage's defaults for a price list entry without cache rates
    cacheWrite: rates.cache_write ?? rates.input * 1.25,
    cacheRead: rates.cache_read ?? rates.input * 0.1,
  });
  return {
    ...kinds(override),
    ...(override.above_200k ? { above200k: kinds(override.above_200k) } : {}),
    ...(override.fast !== undefined ? { fast: override.fast } : {}),
  };
}

/** What ccusage charges for one message (see the notes in pricing-table.ts). */
export function messageCost(rates: ModelRates, tokens: MessageTokens, fast: boolean): number {
  const above = rates.above200k;
  const cost =
    tiered(tokens.input, rates.input, above?.input) +
    tiered(tokens.output, rates.output, above?.output) +
    tiered(tokens.cacheWrite5m, rates.cacheWrite, above?.cacheWrite) +
    tiered(tokens.cacheWrite1h, rates.input * CACHE_WRITE_1H_INPUT_MULTIPLIER, above ? above.input * CACHE_WRITE_1H_INPUT_MULTIPLIER : undefined) +
    tiered(tokens.cacheRead, rates.cacheRead, above?.cacheRead);
  return fast ? cost * (rates.fast ?? 1) : cost;
}

function tiered(tokens: number, perMillion: number, abovePerMillion: number | undefined): number {
  if (tokens === 0) return 0;
  const base = perMillion / PER_MILLION;
  if (abovePerMillion !== undefined && tokens > TIER_THRESHOLD) return TIER_THRESHOLD * base + (tokens - TIER_THRESHOLD) * (abovePerMillion / PER_MILLION);
  return tokens * base;
}
