/** Global settings and error reporting, shared by the fast path and the full command line. */
import * as path from 'node:path';
import { defaultConfigFile, loadRuntimeConfig } from '../config';
import { Logger, type LogFormat } from '../log';
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
}

export interface Settings {
  root: string;
  logFormat: LogFormat;
  log?: string;
  debug: boolean;
  systemdCgroup: boolean;
  honorCaps: boolean;
  idRange?: { start: number; size: number; source: string };
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
