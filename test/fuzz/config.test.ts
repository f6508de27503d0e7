import { describeFuzzTargets } from './support/settings.js';
import { configTarget } from './targets/config.js';

describeFuzzTargets('fuzzing the config loader', [configTarget]);
