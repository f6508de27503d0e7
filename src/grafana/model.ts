/**
 * A small builder for Grafana dashboard JSON (schema 39, Grafana 10/11): the dashboards are
 * generated so that datasource references, units, ids and layout stay consistent.
 */
import { DEVELOPER_LABEL } from '../config/schema.js';

/** Provisioned in grafana/provisioning/datasources: the dashboards refer to them by these uids. */
export const DATASOURCES = {
  prometheus: { type: 'prometheus', uid: 'claude-bridge-prometheus' },
  alertmanager: { type: 'alertmanager', uid: 'claude-bridge-alertmanager' },
} as const;

const PROMETHEUS = DATASOURCES.prometheus;
const GRID_WIDTH = 24;

export interface TargetSpec {
  expr: string;
  legend?: string;
  /** Only the latest value (stats, tables, bar gauges). */
  instant?: boolean;
  format?: 'time_series' | 'table';
}

export type PanelType = 'timeseries' | 'stat' | 'state-timeline' | 'table' | 'bargauge';

export interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  /** Grafana unit id, e.g. `s`, `percentunit`, `currencyUSD`, or `suffix:…`. */
  unit: string;
  targets: TargetSpec[];
  w: number;
  h: number;
  min?: number;
  max?: number;
  decimals?: number;
  stack?: boolean;
  noValue?: string;
  /** Value → text (and colour; without one the series' own colour shows) for 0/1 style series. */
  mappings?: { value: string; text: string; color?: string }[];
  /** Colour steps: the first applies from -∞. */
  thresholds?: { color: string; value: number | null }[];
  /** Per-series colours by display name. */
  colors?: Record<string, string>;
  /** Per-field units by display name, where a field differs from the panel's unit. */
  units?: Record<string, string>;
  /** Per-field value → text/colour mappings by display name (tables whose columns differ). */
  fieldMappings?: Record<string, { value: string; text: string; color?: string }[]>;
  /** Table columns (by display name) whose cell is coloured by its value's mapping. */
  colouredCells?: string[];
  options?: Record<string, unknown>;
  transformations?: unknown[];
}

export interface VariableSpec {
  name: string;
  label: string;
  /** Grafana's `label_values(metric, label)`. */
  query: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  variables?: VariableSpec[];
  panels: PanelSpec[];
}

export const THRESHOLD_SERIES = /threshold/i;

/**
 * Every dashboard filters by developer (a team's scrape config labels each bridge's series with
 * it). The regex matcher with All = `.*` also matches series without the label, so the same
 * dashboards serve a one-developer setup unchanged.
 */
export const DEVELOPER_VARIABLE: VariableSpec = {
  name: DEVELOPER_LABEL,
  label: 'Developer',
  query: `label_values(claude_bridge_build_info, ${DEVELOPER_LABEL})`,
};
export const DEVELOPER_MATCHER = `${DEVELOPER_LABEL}=~"$${DEVELOPER_LABEL}"`;

/** The bridge's series, the rules' outputs and Prometheus' per-target series: all carry the developer label in a team. */
const SELECTOR = /(?<![\w:"$])(claude_bridge[_:][\w:]*|ALERTS|up|scrape_samples_scraped)(?:\{([^}]*)\})?(?![\w:(])/g;

/** Adds the developer matcher to every selector of a query. */
export function forDeveloper(expr: string): string {
  return expr.replace(SELECTOR, (_match, metric: string, inner: string | undefined) =>
    `${metric}{${inner ? `${DEVELOPER_MATCHER}, ${inner}` : DEVELOPER_MATCHER}}`,
  );
}

export function buildDashboard(spec: DashboardSpec): Record<string, unknown> {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['claude-code', 'claude-bridge'],
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    schemaVersion: 39,
    version: 1,
    links: [
      { title: 'Claude Code', type: 'dashboards', tags: ['claude-bridge'], asDropdown: false, includeVars: false, keepTime: true },
    ],
    annotations: { list: [builtInAnnotation(), recoveryAnnotation()] },
    templating: { list: [DEVELOPER_VARIABLE, ...(spec.variables ?? [])].map(variable) },
    panels: layout(spec.panels).map(({ panel, x, y }, index) => buildPanel(panel, index + 1, x, y)),
  };
}

function layout(panels: PanelSpec[]): { panel: PanelSpec; x: number; y: number }[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((panel) => {
    if (x + panel.w > GRID_WIDTH) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { panel, x, y };
    x += panel.w;
    rowHeight = Math.max(rowHeight, panel.h);
    return placed;
  });
}

function buildPanel(spec: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: PROMETHEUS,
    gridPos: { x, y, w: spec.w, h: spec.h },
    targets: spec.targets.map((t, i) => buildTarget(t, i)),
    fieldConfig: { defaults: fieldDefaults(spec), overrides: overrides(spec) },
    options: { ...panelOptions(spec), ...spec.options },
    ...(spec.transformations ? { transformations: spec.transformations } : {}),
  };
}

function buildTarget(target: TargetSpec, index: number): Record<string, unknown> {
  return {
    refId: String.fromCharCode(65 + index),
    datasource: PROMETHEUS,
    expr: forDeveloper(target.expr),
    legendFormat: target.legend ?? '__auto',
    range: !target.instant,
    instant: target.instant ?? false,
    format: target.format ?? 'time_series',
    editorMode: 'code',
  };
}

function fieldDefaults(spec: PanelSpec): Record<string, unknown> {
  return {
    unit: spec.unit,
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
    ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
    ...(spec.noValue !== undefined ? { noValue: spec.noValue } : {}),
    color: { mode: spec.thresholds || spec.type === 'stat' ? 'thresholds' : 'palette-classic' },
    thresholds: { mode: 'absolute', steps: spec.thresholds ?? [{ color: 'green', value: null }] },
    mappings: valueMappings(spec.mappings ?? []),
    ...(spec.type === 'timeseries' ? { custom: timeseriesStyle(spec) } : {}),
    ...(spec.type === 'state-timeline' ? { custom: { fillOpacity: 80, lineWidth: 0 } } : {}),
  };
}

function valueMappings(mappings: { value: string; text: string; color?: string }[]): unknown[] {
  return mappings.map((m) => ({
    type: 'value',
    options: { [m.value]: { text: m.text, ...(m.color ? { color: m.color } : {}) } },
  }));
}

function timeseriesStyle(spec: PanelSpec): Record<string, unknown> {
  return {
    drawStyle: 'line',
    lineWidth: 1,
    fillOpacity: spec.stack ? 40 : 10,
    showPoints: 'never',
    spanNulls: false,
    stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
  };
}

/** Threshold series (from the recorded rules) are drawn as dashed red lines; named colours apply. */
function overrides(spec: PanelSpec): unknown[] {
  const result: unknown[] = [];
  if (spec.type === 'timeseries' && spec.targets.some((t) => THRESHOLD_SERIES.test(t.legend ?? ''))) {
    result.push({
      matcher: { id: 'byRegexp', options: '.*[Tt]hreshold.*' },
      properties: [
        { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        { id: 'custom.fillOpacity', value: 0 },
        { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
        { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
      ],
    });
  }
  for (const [name, color] of Object.entries(spec.colors ?? {})) {
    result.push({ matcher: { id: 'byName', options: name }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }] });
  }
  for (const [name, unit] of Object.entries(spec.units ?? {})) {
    result.push({ matcher: { id: 'byName', options: name }, properties: [{ id: 'unit', value: unit }] });
  }
  for (const [name, mappings] of Object.entries(spec.fieldMappings ?? {})) {
    result.push({ matcher: { id: 'byName', options: name }, properties: [{ id: 'mappings', value: valueMappings(mappings) }] });
  }
  for (const name of spec.colouredCells ?? []) {
    result.push({ matcher: { id: 'byName', options: name }, properties: [{ id: 'custom.cellOptions', value: { type: 'color-background' } }] });
  }
  return result;
}

function panelOptions(spec: PanelSpec): Record<string, unknown> {
  const lastValue = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (spec.type) {
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
    case 'stat':
      return { reduceOptions: lastValue, colorMode: 'value', graphMode: 'none', justifyMode: 'auto', textMode: 'auto', orientation: 'auto' };
    case 'bargauge':
      return { reduceOptions: lastValue, displayMode: 'gradient', orientation: 'horizontal', showUnfilled: true };
    case 'state-timeline':
      return { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { displayMode: 'list', placement: 'bottom', showLegend: false } };
    case 'table':
      return { showHeader: true, cellHeight: 'sm' };
  }
}

function variable(spec: VariableSpec): Record<string, unknown> {
  return {
    name: spec.name,
    label: spec.label,
    type: 'query',
    datasource: PROMETHEUS,
    query: { query: spec.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: spec.query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

function builtInAnnotation(): Record<string, unknown> {
  return {
    builtIn: 1,
    datasource: { type: 'grafana', uid: '-- Grafana --' },
    enable: true,
    hide: true,
    iconColor: 'rgba(0, 211, 255, 1)',
    name: 'Annotations & Alerts',
    type: 'dashboard',
  };
}

/** Shades the time ranges in which the bridge was backing off, paused or degraded. */
function recoveryAnnotation(): Record<string, unknown> {
  return {
    name: 'Recovery actions',
    datasource: PROMETHEUS,
    enable: true,
    iconColor: 'orange',
    expr: forDeveloper('claude_bridge_recovery_state{state!="normal"} == 1'),
    step: '30s',
    titleFormat: 'Recovery: {{state}}',
    tagKeys: `${DEVELOPER_LABEL},state`,
    useValueForTime: false,
  };
}
