/** The label value that collects everything past a label's budget. */
export const OVERFLOW_LABEL = 'other';
export const UNKNOWN_LABEL = 'unknown';

const MAX_LABEL_LENGTH = 100;

/**
 * Keeps a label's cardinality bounded: the first `limit` distinct values are used as they are,
 * every later one becomes `other`. First come first served is stable across scrapes, which a
 * "top N" that reshuffles would not be.
 */
export class BoundedLabel {
  private readonly admitted = new Set<string>();

  constructor(private readonly limit: number) {}

  value(raw: string | undefined): string {
    const value = raw === undefined || raw === '' ? UNKNOWN_LABEL : raw.slice(0, MAX_LABEL_LENGTH);
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.limit) return OVERFLOW_LABEL;
    this.admitted.add(value);
    return value;
  }
}
