/**
 * The runtime's own settings: `/etc/sysbox/config.json` (or `--config FILE`), overridden by
 * global flags, which Docker passes through `runtimeArgs`. Every key is optional:
 *
 *   { "root": "/run/sysbox-runc", "honorCaps": false,
 *     "idRange": { "start": 1073741824, "size": 1073741824 },
 *     "innerDockerImageSharing": true, "innerImageStore": "/var/lib/docker/sysbox-inner-images" }
 */
import * as fs from 'node:fs';
import { SysboxError } from './errors';

export const defaultConfigFile = '/etc/sysbox/config.json';

export interface RuntimeConfig {
  /** Where container state is kept when `--root` is not given. */
  root?: string;
  /** Give processes exactly the capabilities config.json lists, as runc does. */
  honorCaps?: boolean;
  /** The pool of host IDs that containers' ranges come from (see linux/idrange.ts). */
  idRange?: { start: number; size: number };
  /** Share preloaded inner images between containers (default true). */
  innerDockerImageSharing?: boolean;
  /** Serve per-container /proc and /sys files with sysbox-fs (default true). */
  procEmulation?: boolean;
  /** Root of the shared store of inner image layers. */
  innerImageStore?: string;
}

function bad(file: string, why: string): SysboxError {
  return new SysboxError('EINVAL_CONFIG', `${file}: ${why}`);
}

/** Reads the file; a missing default file means defaults, a missing named file is an error. */
export function loadRuntimeConfig(file: string | undefined): RuntimeConfig {
  const path = file ?? defaultConfigFile;
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if (file === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw bad(path, `cannot be read: ${(err as Error).message}`);
  }
  let c: RuntimeConfig;
  try {
    c = JSON.parse(text) as RuntimeConfig;
  } catch (err) {
    throw bad(path, `is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    throw bad(path, 'must hold an object');
  const known = new Set([
    'root',
    'honorCaps',
    'idRange',
    'innerDockerImageSharing',
    'procEmulation',
    'innerImageStore',
  ]);
  for (const key of Object.keys(c)) {
    if (!known.has(key)) throw bad(path, `unknown key ${JSON.stringify(key)}`);
  }
  if (c.root !== undefined && (typeof c.root !== 'string' || !c.root.startsWith('/'))) {
    throw bad(path, 'root must be an absolute path');
  }
  if (c.honorCaps !== undefined && typeof c.honorCaps !== 'boolean') {
    throw bad(path, 'honorCaps must be true or false');
  }
  if (c.procEmulation !== undefined && typeof c.procEmulation !== 'boolean') {
    throw bad(path, 'procEmulation must be true or false');
  }
  if (c.innerDockerImageSharing !== undefined && typeof c.innerDockerImageSharing !== 'boolean') {
    throw bad(path, 'innerDockerImageSharing must be true or false');
  }
  if (
    c.innerImageStore !== undefined &&
    (typeof c.innerImageStore !== 'string' || !c.innerImageStore.startsWith('/'))
  ) {
    throw bad(path, 'innerImageStore must be an absolute path');
  }
  if (c.idRange !== undefined) {
    const r = c.idRange;
    if (typeof r !== 'object' || !Number.isInteger(r?.start) || !Number.isInteger(r?.size)) {
      throw bad(path, 'idRange must be {"start": integer, "size": integer}');
    }
  }
  return c;
}
