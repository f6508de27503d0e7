/**
 * The prices ccusage 20.0.24 uses offline, per model family and token kind, in USD per million
 * tokens.
 *
 * Provenance: ccusage 20.0.24's native binary embeds a deflated LiteLLM price snapshot (keys `i`,
 * `o`, `cc`, `cr`, the `*a` rates above 200k tokens, `fast`) and a models.dev snapshot it falls
 * back to; every rate below is what that binary charges, read back by pricing one probe message
 * per model and token kind with `ccusage daily --json --offline --breakdown` (100k tokens for the
 * base rate, 1M for the rate above 200k). They agree with Anthropic's published prices (e.g.
 * Sonnet 4.5 $3/$15, cache write $3.75, cache read $0.30; Opus 4.1 $15/$75; Haiku 4.5 $1/$5).
 * test/usage/pricing.test.ts prices every model id listed here with the real binary again and
 * fails on any difference.
 *
 * How ccusage applies them (and src/sources/usage/transcripts/pricing.ts does the same):
 * - cacheWrite prices 5-minute cache writes (and `cache_creation_input_tokens` when the message has
 *   no `cache_creation` split); 1-hour cache writes cost 2 × input;
 * - with `above200k`, each token kind of one message is priced marginally: its first 200,000
 *   tokens at the base rate, the rest at the higher one;
 * - `fast`: a message with `usage.speed: "fast"` costs that many times as much.
 * Model ids are matched exactly (case-sensitive, as ccusage does); a trailing `[…]` tag such as
 * `[1m]` is ignored. Any other id is an unknown model: priced at 0 by ccusage too, counted and
 * listed in /health, and priceable with `usage.pricing`.
 */

export interface KindRates {
  input: number;
  output: number;
  /** 5-minute cache writes. */
  cacheWrite: number;
  cacheRead: number;
}

export interface ModelRates extends KindRates {
  /** Rates for the tokens of one message beyond the first 200,000 of each kind. */
  above200k?: KindRates;
  /** Multiplier for `speed: "fast"` messages. */
  fast?: number;
}

export interface PriceFamily {
  family: string;
  rates: ModelRates;
  models: string[];
}

export const PRICE_FAMILIES: PriceFamily[] = [
  {
    family: 'haiku 3',
    rates: { input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 },
    models: [
      'claude-3-haiku-20240307',
    ],
  },
  {
    family: 'opus 3, 4, 4.1',
    rates: { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 },
    models: [
      'anthropic.claude-3-opus-20240229-v1:0',
      'anthropic.claude-opus-4-1-20250805-v1:0',
      'anthropic.claude-opus-4-20250514-v1:0',
      'claude-3-opus-20240229',
      'claude-4-opus-20250514',
      'claude-opus-4-1',
      'claude-opus-4-1-20250805',
      'claude-opus-4-1@20250805',
      'claude-opus-4-20250514',
      'claude-opus-4@20250514',
      'eu.anthropic.claude-3-opus-20240229-v1:0',
      'eu.anthropic.claude-opus-4-1-20250805-v1:0',
      'eu.anthropic.claude-opus-4-20250514-v1:0',
      'us.anthropic.claude-3-opus-20240229-v1:0',
      'us.anthropic.claude-opus-4-1-20250805-v1:0',
      'us.anthropic.claude-opus-4-20250514-v1:0',
    ],
  },
  {
    family: 'sonnet 3, 3.5, 3.7, 4.6',
    rates: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 },
    models: [
      'anthropic.claude-3-7-sonnet-20250219-v1:0',
      'anthropic.claude-3-sonnet-20240229-v1:0',
      'anthropic.claude-sonnet-4-6',
      'claude-3-5-sonnet-20240620',
      'claude-3-5-sonnet-20241022',
      'claude-3-5-sonnet-v2@20241022',
      'claude-3-7-sonnet-20250219',
      'claude-3-7-sonnet-latest',
      'claude-3-7-sonnet@20250219',
      'claude-3-sonnet-20240229',
      'claude-sonnet-4-5@20250929',
      'claude-sonnet-4-6',
      'eu.anthropic.claude-3-5-sonnet-20240620-v1:0',
      'eu.anthropic.claude-3-5-sonnet-20241022-v2:0',
      'eu.anthropic.claude-3-7-sonnet-20250219-v1:0',
      'eu.anthropic.claude-3-sonnet-20240229-v1:0',
      'global.anthropic.claude-sonnet-4-6',
      'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
      'us.anthropic.claude-3-5-sonnet-20241022-v2:0',
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
      'us.anthropic.claude-3-sonnet-20240229-v1:0',
    ],
  },
  {
    family: 'haiku 3.5',
    rates: { input: 0.8, output: 4, cacheWrite: 1, cacheRead: 0.08 },
    models: [
      'anthropic.claude-3-5-haiku-20241022-v1:0',
      'claude-3-5-haiku-20241022',
      'claude-3-5-haiku-latest',
      'claude-3-5-haiku@20241022',
      'eu.anthropic.claude-3-5-haiku-20241022-v1:0',
      'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    ],
  },
  {
    family: 'sonnet 4, 4.5',
    rates: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3, above200k: { input: 6, output: 22.5, cacheWrite: 7.5, cacheRead: 0.6 } },
    models: [
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'claude-4-sonnet-20250514',
      'claude-sonnet-4-20250514',
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'claude-sonnet-4-5-20250929-v1:0',
      'claude-sonnet-4@20250514',
      'eu.anthropic.claude-sonnet-4-20250514-v1:0',
      'global.anthropic.claude-sonnet-4-20250514-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
    ],
  },
  {
    family: 'haiku 4.5',
    rates: { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 },
    models: [
      'anthropic.claude-haiku-4-5-20251001-v1:0',
      'anthropic.claude-haiku-4-5@20251001',
      'claude-haiku-4-5',
      'claude-haiku-4-5-20251001',
      'claude-haiku-4-5@20251001',
      'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    ],
  },
  {
    family: 'opus 4.5',
    rates: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 },
    models: [
      'anthropic.claude-opus-4-5-20251101-v1:0',
      'anthropic.claude-opus-5',
      'claude-opus-4-5',
      'claude-opus-4-5-20251101',
      'claude-opus-4-5@20251101',
      'eu.anthropic.claude-opus-4-5-20251101-v1:0',
      'global.anthropic.claude-opus-4-5-20251101-v1:0',
      'global.anthropic.claude-opus-5',
    ],
  },
  {
    family: 'opus 4.6, 4.7',
    rates: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5, fast: 6 },
    models: [
      'anthropic.claude-opus-4-6-v1',
      'anthropic.claude-opus-4-7',
      'claude-opus-4-6',
      'claude-opus-4-6-20260205',
      'claude-opus-4-7',
      'claude-opus-4-7-20260416',
      'global.anthropic.claude-opus-4-6-v1',
      'global.anthropic.claude-opus-4-7',
    ],
  },
  {
    family: 'opus 4.8, 5',
    rates: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5, fast: 2 },
    models: [
      'anthropic.claude-opus-4-8',
      'claude-opus-4-8',
      'claude-opus-5',
      'global.anthropic.claude-opus-4-8',
    ],
  },
  {
    family: 'sonnet 5',
    rates: { input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 },
    models: [
      'anthropic.claude-sonnet-5',
      'claude-sonnet-5',
      'global.anthropic.claude-sonnet-5',
    ],
  },
  {
    family: 'fable 5, mythos 5',
    rates: { input: 10, output: 50, cacheWrite: 12.5, cacheRead: 1 },
    models: [
      'anthropic.claude-fable-5',
      'claude-fable-5',
      'claude-mythos-5',
      'claude-mythos-preview',
      'global.anthropic.claude-fable-5',
    ],
  },
  {
    family: 'fable 5.1, mythos 5.1',
    rates: { input: 10, output: 50, cacheWrite: 12.5, cacheRead: 0.25 },
    models: [
      'anthropic.claude-fable-5-1',
      'claude-fable-5-1',
      'claude-mythos-5-1',
      'global.anthropic.claude-fable-5-1',
    ],
  },
  {
    family: 'Bedrock sonnet 3.5',
    rates: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3, above200k: { input: 6, output: 30, cacheWrite: 7.5, cacheRead: 0.6 } },
    models: [
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
    ],
  },
  {
    family: 'Bedrock sonnet 3.7 (20240620)',
    rates: { input: 3.6, output: 18, cacheWrite: 4.5, cacheRead: 0.36 },
    models: [
      'anthropic.claude-3-7-sonnet-20240620-v1:0',
    ],
  },
  {
    family: 'Bedrock haiku 3',
    rates: { input: 0.25, output: 1.25, cacheWrite: 0.3125, cacheRead: 0.025 },
    models: [
      'anthropic.claude-3-haiku-20240307-v1:0',
      'eu.anthropic.claude-3-haiku-20240307-v1:0',
      'us.anthropic.claude-3-haiku-20240307-v1:0',
    ],
  },
  {
    family: 'Bedrock instant',
    rates: { input: 0.8, output: 2.4, cacheWrite: 1, cacheRead: 0.08 },
    models: [
      'anthropic.claude-instant-v1',
    ],
  },
  {
    family: 'Bedrock claude 1, 2',
    rates: { input: 8, output: 24, cacheWrite: 10, cacheRead: 0.8 },
    models: [
      'anthropic.claude-v1',
      'anthropic.claude-v2:1',
    ],
  },
  {
    family: 'Bedrock regional haiku 4.5',
    rates: { input: 1.1, output: 5.5, cacheWrite: 1.375, cacheRead: 0.11 },
    models: [
      'au.anthropic.claude-haiku-4-5-20251001-v1:0',
      'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
      'jp.anthropic.claude-haiku-4-5-20251001-v1:0',
      'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    ],
  },
  {
    family: 'Bedrock regional opus 4.6, 4.7',
    rates: { input: 5.5, output: 27.5, cacheWrite: 6.875, cacheRead: 0.55, fast: 6 },
    models: [
      'au.anthropic.claude-opus-4-6-v1',
      'au.anthropic.claude-opus-4-7',
      'eu.anthropic.claude-opus-4-6-v1',
      'eu.anthropic.claude-opus-4-7',
      'jp.anthropic.claude-opus-4-7',
      'us.anthropic.claude-opus-4-6-v1',
      'us.anthropic.claude-opus-4-7',
    ],
  },
  {
    family: 'Bedrock regional opus 4.8',
    rates: { input: 5.5, output: 27.5, cacheWrite: 6.875, cacheRead: 0.55, fast: 2 },
    models: [
      'au.anthropic.claude-opus-4-8',
      'eu.anthropic.claude-opus-4-8',
      'jp.anthropic.claude-opus-4-8',
      'us.anthropic.claude-opus-4-8',
    ],
  },
  {
    family: 'Bedrock regional opus 4.5, 5',
    rates: { input: 5.5, output: 27.5, cacheWrite: 6.875, cacheRead: 0.55 },
    models: [
      'au.anthropic.claude-opus-5',
      'eu.anthropic.claude-opus-5',
      'jp.anthropic.claude-opus-5',
      'us.anthropic.claude-opus-4-5-20251101-v1:0',
      'us.anthropic.claude-opus-5',
    ],
  },
  {
    family: 'Bedrock regional sonnet 4.5',
    rates: { input: 3.3, output: 16.5, cacheWrite: 4.125, cacheRead: 0.33, above200k: { input: 6.6, output: 24.75, cacheWrite: 8.25, cacheRead: 0.66 } },
    models: [
      'au.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'jp.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ],
  },
  {
    family: 'Bedrock regional sonnet 4.6',
    rates: { input: 3.3, output: 16.5, cacheWrite: 4.125, cacheRead: 0.33 },
    models: [
      'au.anthropic.claude-sonnet-4-6',
      'eu.anthropic.claude-sonnet-4-6',
      'jp.anthropic.claude-sonnet-4-6',
      'us.anthropic.claude-sonnet-4-6',
    ],
  },
  {
    family: 'Bedrock regional sonnet 5',
    rates: { input: 2.2, output: 11, cacheWrite: 2.75, cacheRead: 0.22 },
    models: [
      'au.anthropic.claude-sonnet-5',
      'eu.anthropic.claude-sonnet-5',
      'jp.anthropic.claude-sonnet-5',
      'us.anthropic.claude-sonnet-5',
    ],
  },
  {
    family: 'Bedrock regional fable 5',
    rates: { input: 11, output: 55, cacheWrite: 13.75, cacheRead: 1.1 },
    models: [
      'eu.anthropic.claude-fable-5',
      'us.anthropic.claude-fable-5',
    ],
  },
  {
    family: 'Bedrock regional fable 5.1',
    rates: { input: 11, output: 55, cacheWrite: 13.75, cacheRead: 0.275 },
    models: [
      'eu.anthropic.claude-fable-5-1',
      'us.anthropic.claude-fable-5-1',
    ],
  },
];
