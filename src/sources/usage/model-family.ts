import type { ModelFamily } from './types.js';

/** `claude-opus-4-1-20250805` → opus; `<synthetic>` and unknown ids → other. */
export function modelFamily(modelId: string): ModelFamily {
  const id = modelId.toLowerCase();
  if (id.includes('opus')) return 'opus';
  if (id.includes('sonnet')) return 'sonnet';
  if (id.includes('haiku')) return 'haiku';
  return 'other';
}
