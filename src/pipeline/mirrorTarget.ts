import type { Config } from '../config.js';
import type { MirrorTarget } from './exportMirror.js';

export function mirrorTarget(config: Config, dir?: string): MirrorTarget {
  const { dir: configured, enabled: _enabled, ...settings } = config.mirror;
  return { dir: dir ?? configured, settings };
}

/** The mirror to keep up to date during syncs, or undefined when it is switched off. */
export function syncMirror(config: Config): MirrorTarget | undefined {
  return config.mirror.enabled ? mirrorTarget(config) : undefined;
}
