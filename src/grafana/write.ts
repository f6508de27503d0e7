import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard } from './dashboards.js';

/** Where the dashboards live in the repo, relative to its root. */
export const DASHBOARDS_DIR = 'grafana/dashboards';

/** Writes every dashboard JSON into `dir`; returns the files written. */
export function writeDashboards(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return [...buildDashboards()].map(([file, dashboard]) => {
    const target = path.join(dir, file);
    writeFileSync(target, renderDashboard(dashboard));
    return target;
  });
}

// `node dist/grafana/write.js [DIR]` (npm run dashboards): DIR defaults to grafana/dashboards.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of writeDashboards(path.resolve(process.argv[2] ?? DASHBOARDS_DIR))) {
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
}
