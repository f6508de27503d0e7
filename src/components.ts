import type { ComponentFactory } from './component.js';
import { hooksComponent } from './sources/hooks/index.js';
import { sessionsComponent } from './sources/sessions/index.js';
import { otlpComponent } from './sources/otlp/index.js';
import { usageComponent } from './sources/usage/index.js';

/** The sources a standalone `serve` runs with (each reads its own part of the config). */
export function defaultComponents(): ComponentFactory[] {
  // sessions after hooks (which refuses malformed hook inputs) and before usage (whose /statusline answers)
  return [hooksComponent, sessionsComponent, usageComponent, otlpComponent];
}
