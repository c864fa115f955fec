import * as fs from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'json' | 'text';

const ranks: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/**
 * The runtime's logger. Lines go to the `--log` file in runc's shape, one JSON object
 * `{"level","msg","time"}` per line, because containerd reports the last error line of that file
 * as the reason a command failed. Without a log file, lines go to stderr.
 */
export class Logger {
  private fd: number | null = null;
  private readonly minimum: number;

  constructor(
    readonly path: string | undefined,
    readonly format: LogFormat = 'text',
    debug = false,
  ) {
    // On a terminal only what needs attention; a log file also records what was done.
    this.minimum = ranks[debug ? 'debug' : path === undefined ? 'warning' : 'info'];
  }

  get writesToStderr(): boolean {
    return this.path === undefined || this.path === '/dev/stderr';
  }

  log(level: LogLevel, msg: string): void {
    if (ranks[level] < this.minimum) return;
    const time = new Date().toISOString();
    const line =
      this.format === 'json'
        ? JSON.stringify({ level, msg, time }) + '\n'
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      if (this.path === undefined) {
        fs.writeSync(2, line);
        return;
      }
      if (this.fd === null) this.fd = fs.openSync(this.path, 'a', 0o644);
      fs.writeSync(this.fd, line);
    } catch {
      // A log that cannot be written must not turn a working command into a failing one.
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }

  info(msg: string): void {
    this.log('info', msg);
  }

  warn(msg: string): void {
    this.log('warning', msg);
  }

  error(msg: string): void {
    this.log('error', msg);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

class SilentLogger extends Logger {
  override log(): void {}
}

/** A logger that drops everything, for library callers that pass none. */
export const silentLogger: Logger = new SilentLogger(undefined);
