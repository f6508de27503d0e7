import type { Counter } from 'prom-client';
import { HttpError } from '../../util/errors.js';
import type { RouteModule } from '../../component.js';
import type { Clock } from '../../util/clock.js';
import type { UsageState } from '../usage/state.js';
import { statuslineInputSchema } from './input.js';
import { statuslineView } from './view.js';
import { isJsonObject } from '../../util/json.js';

export interface StatuslineRouteDeps {
  state: UsageState;
  recoveryState: () => string;
  clock: Clock;
  updates: Counter;
}

/** POST /statusline takes Claude Code's status line JSON; both methods answer the compact view. */
export function statuslineRoutes(deps: StatuslineRouteDeps): RouteModule {
  const view = () => statuslineView(deps.state.figures(), deps.recoveryState());
  return {
    endpoints: [
      {
        method: 'POST',
        path: '/statusline',
        description: "Claude Code's status line JSON: official rate_limits override local estimates while fresh; answers the compact usage view.",
        mutating: true,
      },
      { method: 'GET', path: '/statusline', description: 'The compact usage view the status line prints (5 h usage, cost, burn rate, recovery state).' },
    ],
    mount(router, context) {
      router.post('/statusline', context.guard, context.json, (req, res) => {
        const body: unknown = req.body;
        const parsed = isJsonObject(body) ? statuslineInputSchema.safeParse(body) : null;
        if (!parsed?.success) throw new HttpError(400, "expected a JSON object: Claude Code's status line input");
        deps.state.official.record(parsed.data, deps.clock.now());
        deps.updates.inc();
        res.json(view());
      });
      router.get('/statusline', (_req, res) => {
        res.json(view());
      });
    },
  };
}
