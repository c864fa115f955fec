/** `start`, `kill`, `delete`, `state`, `ps` and `list`: commands on an existing container. */
import * as fs from 'node:fs';
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import { cgroupPids, destroyCgroups } from '../linux/cgroups';
import { runHooks } from './hooks';
import type { Hook } from './spec';
import {
  fifoPath,
  listIds,
  ociState,
  readState,
  removeDir,
  statusOf,
  waitDead,
  type ContainerState,
  type Status,
} from './state';

export function startContainer(root: string, id: string, log: Logger): void {
  const s = readState(root, id);
  const status = statusOf(root, s);
  if (status !== 'created') {
    throw new SysboxError('EBAD_STATE', `cannot start a container that is ${status}: ${id}`);
  }
  const fifo = fifoPath(root, id);
  let fd: number;
  try {
    // Non-blocking: with nobody reading, the open fails at once instead of hanging.
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') {
      throw new SysboxError('EBAD_STATE', `container ${id} has no process waiting to start`);
    }
    throw new SysboxError('ESYSTEM', `open the exec fifo of ${id}: ${(err as Error).message}`);
  }
  fs.writeSync(fd, '0');
  fs.closeSync(fd);
  fs.unlinkSync(fifo);
  log.info(`started container ${id}`);
  runHooks('poststart', s.hooks.poststart as Hook[] | undefined, ociState(root, s), log, false);
}

const signalNumbers: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

/** Accepts `9`, `KILL`, `SIGKILL`, and real-time signals as `RTMIN+N`. */
export function parseSignal(sig: string): number {
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n >= 1 && n <= 64) return n;
  }
  const name = sig.toUpperCase().replace(/^SIG/, '');
  if (name in signalNumbers) return signalNumbers[name];
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name);
  if (rt && 34 + Number(rt[1] ?? 0) <= 64) return 34 + Number(rt[1] ?? 0);
  throw new SysboxError('EINVAL_ARGUMENT', `invalid signal ${JSON.stringify(sig)}`);
}

export function killContainer(root: string, id: string, signal: number, all: boolean): void {
  const s = readState(root, id);
  const status = statusOf(root, s);
  if (status === 'stopped' && !all) {
    throw new SysboxError('EBAD_STATE', `container not running: ${id}`);
  }
  const pids = all ? cgroupPids(s.cgroups) : [s.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      if (!all) throw new SysboxError('EBAD_STATE', `container not running: ${id}`);
    }
  }
}

async function killAll(s: ContainerState): Promise<void> {
  for (let round = 0; round < 3; round++) {
    for (const pid of cgroupPids(s.cgroups)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (await waitDead(s, 5000)) return;
  }
  throw new SysboxError('ESYSTEM', `container ${s.id}: init ${s.pid} did not die after SIGKILL`);
}

export async function deleteContainer(
  root: string,
  id: string,
  force: boolean,
  log: Logger,
): Promise<void> {
  let s: ContainerState;
  try {
    s = readState(root, id);
  } catch (err) {
    // A directory without state is what a create that was itself killed leaves: remove it.
    if (err instanceof SysboxError && err.code === 'ENOT_FOUND' && fs.existsSync(`${root}/${id}`)) {
      removeDir(root, id);
      return;
    }
    throw err;
  }
  const status: Status = statusOf(root, s);
  if ((status === 'running' || status === 'paused') && !force) {
    throw new SysboxError(
      'EBAD_STATE',
      `cannot delete container ${id} that is ${status}: stop it first or use --force`,
    );
  }
  if (status !== 'stopped') await killAll(s);
  await destroyCgroups(s.cgroups);
  removeDir(root, id);
  log.info(`deleted container ${id}`);
  runHooks(
    'poststop',
    s.hooks.poststop as Hook[] | undefined,
    ociState(root, s, 'stopped'),
    log,
    false,
  );
}

export function containerState(root: string, id: string): object {
  return ociState(root, readState(root, id));
}

export function containerPids(root: string, id: string): number[] {
  return cgroupPids(readState(root, id).cgroups);
}

export function listContainers(root: string): object[] {
  const out: object[] = [];
  for (const id of listIds(root)) {
    try {
      out.push(ociState(root, readState(root, id)));
    } catch {
      // A container being created or deleted right now has no readable state.
    }
  }
  return out;
}
