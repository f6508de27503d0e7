import type { Registry } from 'prom-client';

/** Every sample of the registry as `name{label="value",…}` → value, labels sorted by name. */
export async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const name = (value as { metricName?: string }).metricName ?? metric.name;
      out.set(sampleKey(name, value.labels as Record<string, string | number>), value.value);
    }
  }
  return out;
}

export function sampleKey(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

/** The samples of one metric family (exact name, or name_* for histograms) as a plain object. */
export async function family(registry: Registry, name: string): Promise<Record<string, number>> {
  const all = await samples(registry);
  const out: Record<string, number> = {};
  for (const [key, value] of all) {
    const base = key.split('{')[0];
    if (base === name) out[key] = value;
  }
  return out;
}

/** Polls until the condition holds (I/O on real sockets), failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
