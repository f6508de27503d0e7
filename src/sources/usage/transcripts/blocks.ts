import { aggregateOf, HOUR_MS, mergeSums, type Aggregate, type HourBuckets, type Sums, type Unit } from './aggregates.js';

export const BLOCK_MS = 5 * HOUR_MS;

/**
 * How consecutive entries are grouped into 5-hour blocks. Both start a block at the hour (UTC) of
 * its first entry and end it 5 h later; they differ at the edges:
 * - ccusage: an entry joins the block unless it comes more than 5 h after the block's start or
 *   more than 5 h after the previous entry; a block is active while its last entry is under 5 h
 *   old and it has not ended;
 * - claude-monitor: an entry at or after the block's end, or 5 h or more after the previous entry,
 *   starts the next; a block is active until its end.
 */
export type BlockRule = 'ccusage' | 'claude-monitor';

export class Block {
  readonly end: number;
  /** First and last entry: the span the burn rate is measured over. */
  last: number;
  sums: Sums = [];
  limitResetAt: number | null = null;

  constructor(
    readonly start: number,
    readonly first: number,
    /** The key of the block's first unit, where identification resumes after a change. */
    readonly firstUnit: number,
  ) {
    this.end = start + BLOCK_MS;
    this.last = first;
  }

  /** Built when asked for (blocks are many and kept for long: their sums are held flat). */
  get aggregate(): Aggregate {
    return aggregateOf(this.sums);
  }
}

/**
 * The blocks of one rule over the hour buckets, kept between calls: after appends only the
 * block holding the first changed hour (and the ones after it) are identified again.
 */
export class BlockList {
  private blocks: Block[] = [];

  constructor(
    private readonly buckets: HourBuckets,
    readonly rule: BlockRule,
  ) {}

  /** `dirtyFrom`: the lowest unit key that changed since the last call (Infinity: none). */
  update(dirtyFrom: number): Block[] {
    if (dirtyFrom === Infinity) return this.blocks;
    let keep = this.blocks.length;
    while (keep > 0 && this.blocks[keep - 1]!.firstUnit >= dirtyFrom) keep--;
    // the block that holds dirtyFrom is identified again from its first unit
    if (keep > 0) keep--;
    const kept = this.blocks.slice(0, keep);
    const from = keep < this.blocks.length ? Math.min(dirtyFrom, this.blocks[keep]!.firstUnit) : dirtyFrom;
    this.blocks = kept.concat(this.walk(from));
    return this.blocks;
  }

  reset(): void {
    this.blocks = [];
  }

  private walk(fromKey: number): Block[] {
    const out: Block[] = [];
    let current: Block | null = null;
    for (const unit of this.buckets.units(fromKey)) {
      if (current && this.joins(current, unit)) {
        absorb(current, unit);
        continue;
      }
      if (current) out.push(current);
      const start = Math.floor(unit.first / HOUR_MS) * HOUR_MS;
      current = new Block(start, unit.first, unit.key);
      absorb(current, unit);
    }
    if (current) out.push(current);
    return out;
  }

  private joins(block: Block, unit: Unit): boolean {
    const sinceStart = unit.first - block.start;
    const sinceLast = unit.first - block.last;
    if (this.rule === 'ccusage') return sinceStart <= BLOCK_MS && sinceLast <= BLOCK_MS;
    return sinceStart < BLOCK_MS && sinceLast < BLOCK_MS;
  }
}

function absorb(block: Block, unit: Unit): void {
  block.last = Math.max(block.last, unit.last);
  block.sums = mergeSums(block.sums, unit.sums);
  // the reset of the block's earliest rate-limit message
  if (unit.limitReset && block.limitResetAt === null) block.limitResetAt = unit.limitReset.value;
}

/** Active at `now` by the rule's own definition. */
export function isActiveBlock(block: Block, now: number, rule: BlockRule): boolean {
  if (rule === 'claude-monitor') return block.start <= now && now < block.end;
  return block.start <= now && now < block.end && now - block.last < BLOCK_MS;
}
