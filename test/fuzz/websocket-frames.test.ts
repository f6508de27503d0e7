import { describeFuzzTargets } from './support/settings.js';
import { framesTarget } from './targets/hooks-server-frames.js';

describeFuzzTargets('fuzzing the hooks server stream', [framesTarget]);
