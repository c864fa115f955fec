/** Global settings and error reporting, shared by the fast path and the full command line. */
import * as path from 'node:path';
import { defaultConfigFile, loadRuntimeConfig } from '../config';
import { Logger, type LogFormat } from '../log';
import { SysboxError } from '../errors';
import { defaultRoot } from '../runtime/state';

/** The global flags as given, before the config file and defaults fill the gaps. */
export interface GlobalFlags {
  root?: string;
  config?: string;
  honorCaps?: boolean;
  log?: string;
  logFormat?: LogFormat;
  debug?: boolean;
  systemdCgroup?: boolean;
  /** `true` or `false`, as Docker passes it in runtimeArgs. */
  innerDockerImageSharing?: string | boolean;
}

export interface Settings {
  root: string;
  logFormat: LogFormat;
  log?: string;
  debug: boolean;
  systemdCgroup: boolean;
  honorCaps: boolean;
  idRange?: { start: number; size: number; source: string };
  innerImageSharing: boolean;
  innerImageStore?: string;
  procEmulation: boolean;
}

function parseBool(flag: string, value: string | boolean | undefined): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SysboxError('EINVAL_ARGUMENT', `${flag} must be true or false, not ${value}`);
}

/** Global flags over the config file over built-in defaults. */
export function resolveSettings(g: GlobalFlags): Settings {
  const file = loadRuntimeConfig(g.config);
  const source = g.config ?? defaultConfigFile;
  return {
    log: g.log,
    logFormat: g.logFormat ?? 'text',
    debug: g.debug ?? false,
    systemdCgroup: g.systemdCgroup ?? false,
    root: path.resolve(g.root ?? file.root ?? defaultRoot),
    honorCaps: g.honorCaps ?? file.honorCaps ?? false,
    idRange: file.idRange && { ...file.idRange, source },
    innerImageSharing:
      parseBool('--inner-docker-image-sharing', g.innerDockerImageSharing) ??
      file.innerDockerImageSharing ??
      true,
    innerImageStore: file.innerImageStore,
    procEmulation: file.procEmulation ?? true,
  };
}

/**
 * Reports a failed command the way runc does: the last error line of the log, which containerd
 * reads, and the same message on stderr when the log is a file.
 */
export function reportError(logger: Logger, err: unknown): void {
  const e = err as { message?: string };
  const msg = e.message?.replace(/^error: /, '') ?? String(err);
  logger.error(msg);
  if (!logger.writesToStderr) process.stderr.write(`sysbox-runc: ${msg}\n`);
}
