import { Counter, type Registry } from 'prom-client';
import type { Request, Response } from 'express';
import type { RouteModule } from '../component.js';
import type { BridgeConfig } from '../config/schema.js';
import { BoundedLabel } from '../metrics/bounded-label.js';
import { HOOK_DECISIONS_METRIC, METRIC_PREFIX } from '../metrics/registry.js';
import type { RecoveryController } from '../recovery/controller.js';
import { decide, renderHookOutput, type DecisionPolicy, type HookDecision, type HookInput } from '../recovery/decide.js';
import { HOOK_PATHS, pathEventOf, readHookInput } from '../sources/hooks/hook-input.js';
import type { Clock } from '../util/clock.js';
import { HttpError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export type DecisionLabel = 'allow' | 'delay' | 'deny' | 'block';

const MAX_EVENT_LABELS = 50;

export interface HookDecisionDeps {
  config: BridgeConfig;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  controller: RecoveryController;
}

/**
 * Claude Code's HTTP hooks (`POST /hooks[/:event]`) answered with the recovery decision of
 * recovery/decide.ts: deny, block, hold (served here, then decided again), or `{}`. Mounted after
 * the components, so the hooks source has recorded the input as an event by then.
 */
export function hookDecisionRoutes(deps: HookDecisionDeps): RouteModule {
  const decisions = new Counter<'event' | 'decision'>({
    name: HOOK_DECISIONS_METRIC,
    help: "Answers to Claude Code's HTTP hooks, by event and decision.",
    labelNames: ['event', 'decision'],
    registers: [deps.registry],
  });
  const eventLabel = new BoundedLabel(MAX_EVENT_LABELS);
  const refusedHolds = new Counter({
    name: `${METRIC_PREFIX}hook_holds_refused_total`,
    help: 'Hook calls answered at once instead of held, because hooks.max_held_requests were held already.',
    registers: [deps.registry],
  });
  const holds = { current: 0, max: deps.config.hooks.max_held_requests, refused: () => refusedHolds.inc() };
  const answer = async (req: Request, res: Response) => {
    const read = readHookInput(pathEventOf(req.params), req.body);
    if (!read.ok) throw new HttpError(400, read.problem);
    const hookInput: HookInput = {
      hook_event_name: read.event,
      ...(typeof read.input.tool_name === 'string' ? { tool_name: read.input.tool_name } : {}),
    };
    const served = await decideAndServe(hookInput, res, deps, holds);
    decisions.inc({ event: eventLabel.value(read.event), decision: served.label });
    if (served.decision === null) return; // Claude Code hung up during the hold: its hook timed out
    if (served.label !== 'allow') deps.logger.debug('hook answered', { event: read.event, decision: served.label, tool: hookInput.tool_name });
    res.json(renderHookOutput(read.event, served.decision));
  };
  return {
    endpoints: [
      {
        method: 'POST',
        path: HOOK_PATHS.byEvent,
        description: 'Claude Code HTTP hook: records the hook input and answers the recovery decision (deny, block, hold, or {}).',
      },
      { method: 'POST', path: HOOK_PATHS.byInput, description: "Claude Code HTTP hook keyed by the input's hook_event_name; same answers." },
    ],
    mount(router, { hooksJson }) {
      router.post(HOOK_PATHS.byEvent, hooksJson, answer);
      router.post(HOOK_PATHS.byInput, hooksJson, answer);
    },
  };
}

/**
 * The decision, with a backoff hold served before answering. After the hold the state is asked
 * again: a pause that began meanwhile still denies, anything else lets the call through.
 * The decision is null when the client went away during the hold.
 */
async function decideAndServe(
  input: HookInput,
  res: Response,
  deps: HookDecisionDeps,
  holds: HoldBudget,
): Promise<{ decision: HookDecision | null; label: DecisionLabel }> {
  const policy: DecisionPolicy = { maxHoldMs: deps.config.hooks.max_hold_ms };
  const first = decide(input, deps.controller.snapshot(), policy);
  if (first.kind !== 'delay') return { decision: first, label: first.kind };
  if (holds.current >= holds.max) {
    // Every held request is an open socket: past the budget the call goes through unheld.
    holds.refused();
    return { decision: first.context ? { kind: 'allow', context: first.context } : { kind: 'allow' }, label: 'allow' };
  }
  holds.current += 1;
  const served = await hold(deps.clock, first.ms, res).finally(() => (holds.current -= 1));
  if (!served) return { decision: null, label: 'delay' };
  const after = decide(input, deps.controller.snapshot(), policy);
  return { decision: after, label: after.kind === 'deny' || after.kind === 'block' ? after.kind : 'delay' };
}

interface HoldBudget {
  current: number;
  max: number;
  refused(): void;
}

/** Waits on the injected clock; resolves false early if the client goes away. */
function hold(clock: Clock, ms: number, res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}
