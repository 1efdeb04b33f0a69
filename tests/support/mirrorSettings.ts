import { loadConfig } from '../../src/config.js';
import type { MirrorSettings } from '../../src/mirror/render.js';
import { mirrorTarget } from '../../src/pipeline/mirrorTarget.js';

/** The page settings of config/default.json (the golden page format). */
export const DEFAULT_MIRROR_SETTINGS: MirrorSettings = mirrorTarget(loadConfig({})).settings;
