import { describeFuzzTargets } from './support/settings.js';
import { SUBPROCESS_TARGETS } from './targets/subprocess-outputs.js';

describeFuzzTargets('fuzzing what the usage subprocesses print', SUBPROCESS_TARGETS);
