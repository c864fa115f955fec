/** `start`, `kill`, `delete`, `state`, `ps` and `list`: commands on an existing container. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import { faultPoint } from '../fault';
import type { Logger } from '../log';
import { cgroupPids, destroyCgroups, thawAll, type CgroupSet } from '../linux/cgroups';
import { runHooks } from './hooks';
import { releaseRange } from '../linux/idrange';
import { capture } from '../storage/capture';
import type { Hook } from './spec';
import { signalForInit } from './systemd';
import {
  containerDir,
  fifoPath,
  listIds,
  ociState,
  isRunning,
  readState,
  removeDir,
  statusOf,
  waitDead,
  type ContainerState,
  type CreateRecord,
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
  faultPoint('start:opened');
  fs.writeSync(fd, '0');
  fs.closeSync(fd);
  faultPoint('start:written');
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
      process.kill(pid, all ? signal : signalForInit(signal, s.systemd));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      if (!all) throw new SysboxError('EBAD_STATE', `container not running: ${id}`);
    }
  }
}

/** Kills every process in the container's cgroups, thawing them first: frozen tasks never die. */
async function killAll(set: CgroupSet, s?: ContainerState): Promise<void> {
  for (let round = 0; round < 3; round++) {
    thawAll(set);
    for (const pid of cgroupPids(set)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (s === undefined) {
      if (cgroupPids(set).length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    } else if (await waitDead(s, 5000)) {
      return;
    }
  }
  throw new SysboxError('ESYSTEM', `processes in cgroup ${set.path} did not die after SIGKILL`);
}

/**
 * A directory without state.json is what a create that was itself killed leaves behind; its
 * cgroups are recorded beside it, and both go.
 */
/**
 * Removes containers whose create died half-way (killed, or its caller killed) and that no one
 * will delete: a dockerd killed while it made them forgets them. Run by each create, like the ID
 * range sweep; a record whose creator still runs is a create in progress and is left alone.
 */
export async function sweepAbandoned(root: string, log: Logger): Promise<void> {
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const id of ids) {
    const dir = path.join(root, id);
    let record: CreateRecord | undefined;
    try {
      if (fs.existsSync(path.join(dir, 'state.json'))) continue;
      record = JSON.parse(fs.readFileSync(path.join(dir, 'creating.json'), 'utf8'));
    } catch {
      // A create writes its record a moment after it claims the id; a directory that has had
      // none for a minute belongs to a create that died before it wrote one.
      if (!claimedLongAgo(dir)) continue;
    }
    const c = record?.creator;
    if (record !== undefined && (c === undefined || isRunning(c.pid, c.startTime))) continue;
    try {
      if (await removeHalfCreated(root, id)) log.info(`removed ${id}, whose create died`);
    } catch (err) {
      log.warn(`remove ${id}, whose create died: ${(err as Error).message}`);
    }
  }
}

function claimedLongAgo(dir: string): boolean {
  try {
    return Date.now() - fs.statSync(dir).mtimeMs > 60_000;
  } catch {
    return false;
  }
}

async function removeHalfCreated(root: string, id: string): Promise<boolean> {
  const dir = containerDir(root, id);
  if (!fs.existsSync(dir)) return false;
  const file = path.join(dir, 'creating.json');
  if (fs.existsSync(file)) {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as CreateRecord;
    await killAll(record.cgroups);
    await destroyCgroups(record.cgroups);
    releaseRange(record.idStart, dir);
  }
  removeDir(root, id);
  return true;
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
    if (!(err instanceof SysboxError) || err.code !== 'ENOT_FOUND') throw err;
    if (await removeHalfCreated(root, id)) {
      log.info(`removed the remains of a create of ${id} that did not finish`);
      return;
    }
    // As runc: forcing the removal of what is not there succeeds.
    if (force) return;
    throw err;
  }
  const status: Status = statusOf(root, s);
  if ((status === 'running' || status === 'paused') && !force) {
    throw new SysboxError(
      'EBAD_STATE',
      `cannot delete container ${id} that is ${status}: stop it first or use --force`,
    );
  }
  if (status !== 'stopped' || cgroupPids(s.cgroups).length > 0) await killAll(s.cgroups, s);
  faultPoint('delete:killed');
  if (s.capture) {
    // After `docker build` runs a step, or `docker stop`, Docker may commit the layer.
    try {
      capture(s.capture, log);
    } catch (err) {
      log.error(`capture the inner data of ${id} for commits: ${(err as Error).message}`);
    }
  }
  await destroyCgroups(s.cgroups);
  faultPoint('delete:cgroups');
  releaseRange(s.idStart, containerDir(root, id));
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
