/**
 * Per-container state under the runtime's root: `<root>/<id>/state.json`, written to a temporary
 * file and renamed so that a reader never sees half of it, and `exec.fifo`, whose presence means
 * the container was created and not yet started.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unmountProcServer } from './proc-emulation';
import { notFound, SysboxError, systemError } from '../errors';
import type { IdMapping } from './spec';
import type { Step } from './plan';
import type { CgroupSet } from '../linux/cgroups';
import type { CaptureSpec } from '../storage/capture';
import { freezerState } from '../linux/cgroups';

export const defaultRoot = '/run/sysbox-runc';

export interface ContainerState {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** Start time of the init in clock ticks since boot, to tell it from a reused PID. */
  pidStartTime: number;
  created: string;
  annotations: Record<string, string>;
  cgroups: CgroupSet;
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** First host ID of the range allocated to the container, freed when it is deleted. */
  idStart?: number;
  /** Inner runtime data to put into the writable layer when paused and when stopped. */
  capture?: CaptureSpec;
  /** Steps that give an exec'd process the container's seccomp filter. */
  seccomp: Step[];
  noNewPrivileges: boolean;
  /** Processes get exactly the capabilities they list (see wantsAllCapabilities). */
  honorCaps: boolean;
  hooks: { poststart?: unknown[]; poststop?: unknown[] };
  /** The process is systemd, which halts on SIGRTMIN+3 (see systemd.ts). */
  systemd?: boolean;
}

/**
 * What `delete` needs to undo a create that was killed before it wrote state.json, written as
 * soon as there is something to undo.
 */
export interface CreateRecord {
  cgroups: CgroupSet;
  idStart?: number;
  /** The create that wrote it: while it runs, the container is being made, not abandoned. */
  creator?: { pid: number; startTime: number };
}

export type Status = 'created' | 'running' | 'paused' | 'stopped';

const idPattern = /^[A-Za-z0-9_+\-.]+$/;

export function checkId(id: string): void {
  if (typeof id !== 'string' || id === '' || id.length > 1024 || !idPattern.test(id)) {
    throw new SysboxError('EINVAL_ARGUMENT', `invalid container id ${JSON.stringify(id)}`);
  }
  if (id === '.' || id === '..') {
    throw new SysboxError('EINVAL_ARGUMENT', `invalid container id ${JSON.stringify(id)}`);
  }
}

export function containerDir(root: string, id: string): string {
  checkId(id);
  return path.join(root, id);
}

export function fifoPath(root: string, id: string): string {
  return path.join(containerDir(root, id), 'exec.fifo');
}

/**
 * Claims the id by making its directory; mkdir is atomic, so two concurrent creates of one id
 * cannot both succeed. The directories are searchable by all (0711) because the container's
 * first process, already root of its own user namespace, mounts its staging area below them.
 */
export function claimDir(root: string, id: string): string {
  const dir = containerDir(root, id);
  try {
    if (fs.mkdirSync(root, { recursive: true, mode: 0o711 }) !== undefined) {
      fs.chmodSync(root, 0o711);
    }
    fs.mkdirSync(dir, { mode: 0o711 });
    // Whatever the caller's umask: the modes above are what the container's root needs.
    fs.chmodSync(dir, 0o711);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SysboxError('EEXISTS', `container with id ${JSON.stringify(id)} already exists`);
    }
    throw systemError(`create the state directory ${dir}`, err);
  }
  return dir;
}

export function writeState(root: string, state: ContainerState): void {
  const dir = containerDir(root, state.id);
  const tmp = path.join(dir, `.state.json.${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, 'state.json'));
}

export function readState(root: string, id: string): ContainerState {
  const file = path.join(containerDir(root, id), 'state.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(id);
    throw systemError(`read ${file}`, err);
  }
  try {
    return JSON.parse(text) as ContainerState;
  } catch (err) {
    throw systemError(`parse ${file}`, err);
  }
}

export function listIds(root: string): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && idPattern.test(e.name))
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw systemError(`list ${root}`, err);
  }
}

/** Field 22 of /proc/PID/stat, and the process state letter of field 3. */
export function procStat(pid: number): { startTime: number; state: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: Number(fields[19]) };
}

/**
 * Whether `pid` is still the process that started at `startTime` (any, when not given) and has
 * not exited: a zombie waiting for its parent counts as gone.
 */
export function isRunning(pid: number, startTime?: number): boolean {
  const st = pid > 0 ? procStat(pid) : undefined;
  if (st === undefined || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

export function isAlive(s: ContainerState): boolean {
  return isRunning(s.pid, s.pidStartTime);
}

export function statusOf(root: string, s: ContainerState): Status {
  if (!isAlive(s)) return 'stopped';
  if (fs.existsSync(fifoPath(root, s.id))) return 'created';
  if (freezerState(s.cgroups) === 'FROZEN') return 'paused';
  return 'running';
}

/** The state as `runc state` prints it, which go-runc and containerd decode. */
export function ociState(root: string, s: ContainerState, status = statusOf(root, s)): object {
  return {
    ociVersion: '1.0.2',
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    annotations: s.annotations,
    owner: '',
  };
}

export function removeDir(root: string, id: string): void {
  unmountProcServer(containerDir(root, id));
  fs.rmSync(containerDir(root, id), { recursive: true, force: true });
}

export async function waitDead(s: ContainerState, timeoutMs = 10000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(s)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
