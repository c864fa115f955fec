/**
 * Starting sysbox-init and talking to it over its sync socket: the plan goes in, and `pid N`,
 * `ready` or `error MESSAGE` lines come back.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Socket } from 'node:net';
import { SysboxError } from '../errors';
import { initProgram, socketPair } from '../native';
import type { Plan } from './plan';
import { processRelay } from './process-relay';

export class InitProcess {
  private buffer = '';
  private lines: string[] = [];
  private ended = false;
  private waiters: (() => void)[] = [];
  private readonly exited: Promise<number>;

  private constructor(
    exited: Promise<number>,
    private readonly sync: Socket,
  ) {
    sync.setEncoding('utf8');
    sync.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    sync.on('end', end);
    sync.on('close', end);
    sync.on('error', end);
    this.exited = exited;
  }

  /**
   * Starts sysbox-init with the caller's standard streams, the sync socket on fd 3 and `fds`
   * from fd 4 on, and sends it the plan.
   */
  static async start(plan: Plan, fds: number[]): Promise<InitProcess> {
    const relay = processRelay();
    let init: InitProcess;
    if (relay) {
      const [ours, theirs] = socketPair();
      let spawned;
      try {
        spawned = await relay.spawn([initProgram(), String(fds.length)], [theirs, ...fds]);
      } catch (err) {
        fs.closeSync(ours);
        throw err;
      } finally {
        fs.closeSync(theirs);
      }
      init = new InitProcess(
        spawned.exited,
        new Socket({ fd: ours, readable: true, writable: true }),
      );
    } else {
      const child = spawn(initProgram(), [String(fds.length)], {
        stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...fds],
        env: {},
      });
      const exited = new Promise<number>((resolve) => {
        child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? 9 : 0)));
        child.on('error', () => resolve(-1));
      });
      init = new InitProcess(exited, child.stdio[3] as Socket);
    }
    init.sync.write(plan.text());
    return init;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next line, or null once the socket has closed. */
  async next(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0 && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SysboxError('EINIT', `container init sent nothing for ${timeoutMs / 1000} s`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines.shift() ?? null;
  }

  /** Reads the next line and checks it starts with `word`; returns the rest of the line. */
  async expect(word: string, timeoutMs: number): Promise<string | null> {
    const line = await this.next(timeoutMs);
    if (line === null) return null;
    if (line.startsWith('error ')) throw new SysboxError('EINIT', line.slice(6));
    if (line === word || line.startsWith(word + ' ')) return line.slice(word.length + 1);
    throw new SysboxError('EINIT', `container init sent ${JSON.stringify(line)}, not ${word}`);
  }

  send(line: string): void {
    this.sync.write(line + '\n');
  }

  /** Resolves with the exit status of the process the runtime started. */
  exitStatus(): Promise<number> {
    return this.exited;
  }

  close(): void {
    this.sync.destroy();
  }
}
