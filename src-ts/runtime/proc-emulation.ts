/**
 * A per-container view of the /proc and /sys files that the kernel keeps for the whole host:
 * sysbox-fs (src-c/fs/main.c) serves them over FUSE, one server per container, and the
 * container's init binds each over the kernel's file. The server learns the init's pid once it
 * exists, answers for its UTS namespace, and exits (unmounting) when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import { fsProgram, openTree, socketPair, unmountLazy } from '../native';
import type { Step } from './plan';
import type { Spec } from './spec';

/** The files served, at the path each covers in the container; see entries in main.c. */
const files = [
  '/proc/uptime',
  '/proc/sys/kernel/hostname',
  '/proc/sys/kernel/domainname',
  '/proc/sys/kernel/panic',
  '/proc/sys/kernel/panic_on_oops',
  '/proc/sys/kernel/pid_max',
  '/proc/sys/vm/overcommit_memory',
  '/proc/sys/net/netfilter/nf_conntrack_max',
  '/proc/sys/fs/file-max',
  '/sys/devices/virtual/dmi/id/product_uuid',
];

const dmi = '/sys/devices/virtual/dmi';
const readyTimeoutMs = 10_000;

export interface ProcServer {
  mountpoint: string;
  pid: number;
  /**
   * The init's end of the socket over which it hands the server its mount filter (see the
   * init's mount-notify); the caller passes it on and closes it.
   */
  notifySocket: number;
  /** Tells the server the container's init, whose namespaces and life it follows. */
  follow(initPid: number): void;
  /** Ends the server and its mount: for a create that failed. */
  stop(): void;
}

/** Whether the container gets its own /proc (a new PID namespace and a proc mount). */
export function wantsEmulation(spec: Spec): boolean {
  const pidNs = spec.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path);
  const procMount = spec.mounts?.some((m) => m.type === 'proc' && m.destination === '/proc');
  return Boolean(pidNs && procMount);
}

/** Lazily: the container may still hold binds of the files. */
function unmount(mountpoint: string): void {
  try {
    unmountLazy(mountpoint);
  } catch {
    // Nothing mounted there, or already gone.
  }
}

/** Starts sysbox-fs on `<dir>/fs` for a container whose root is host uid `rootUid`. */
export function startProcServer(dir: string, rootUid: number, id: string): Promise<ProcServer> {
  const mountpoint = path.join(dir, 'fs');
  fs.mkdirSync(mountpoint, { mode: 0o700 });
  const [serverEnd, initEnd] = socketPair();
  let child: ChildProcess;
  try {
    child = spawn(fsProgram(), [mountpoint, String(rootUid), id], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', serverEnd],
      env: {},
    });
  } finally {
    fs.closeSync(serverEnd);
  }
  let errors = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (errors += d));
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      fs.closeSync(initEnd);
      child.kill('SIGKILL');
      unmount(mountpoint);
      reject(new SysboxError('ESYSTEM', `start sysbox-fs on ${mountpoint}: ${why}`));
    };
    const timer = setTimeout(() => fail(`not ready in ${readyTimeoutMs / 1000} s`), readyTimeoutMs);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code) => fail(errors.trim() || `exited with status ${code}`));
    child.stdout!.setEncoding('utf8').once('data', (line: string) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      if (line.trim() !== 'ready') return fail(`said ${JSON.stringify(line.trim())}`);
      child.stdout!.destroy();
      child.stderr!.destroy();
      child.unref();
      resolve({
        mountpoint,
        pid: child.pid!,
        notifySocket: initEnd,
        follow(initPid) {
          child.stdin!.end(`pid ${initPid}\n`);
        },
        stop() {
          child.kill('SIGKILL');
          unmount(mountpoint);
        },
      });
    });
  });
}

/**
 * The step that makes the container's mount(2) calls go to the server first, so that a /proc
 * an inner container mounts gets the served files too; before `ready`, once no mount of the
 * plan is left.
 */
export function notifyStep(server: ProcServer, pass: (fd: number) => number): Step {
  return ['mount-notify', String(pass(server.notifySocket))];
}

/**
 * Steps that bind the served files over the kernel's, after /proc/sys has been made read-only
 * (the binds keep their own, writable, flags). A file the host kernel lacks is left out, but
 * for the DMI product UUID: on a machine without DMI, /sys/devices/virtual gets a tmpfs that
 * holds its entries back and the served file (see the init's graft).
 */
export function emulationSteps(server: ProcServer, pass: (fd: number) => number): Step[] {
  const steps: Step[] = [];
  for (const file of files) {
    if (file.startsWith(dmi) && !fs.existsSync(dmi)) steps.push(['graft', path.dirname(dmi)]);
    else if (!fs.existsSync(file)) continue;
    const fd = pass(openTree(path.join(server.mountpoint, file)));
    steps.push(['mount-fd', String(fd), file, 'f', '0']);
  }
  return steps;
}

/**
 * Removes the server's mount from a container's state directory: a server killed before its
 * container leaves it behind, and a removal must not walk into it.
 */
export function unmountProcServer(dir: string): void {
  unmount(path.join(dir, 'fs'));
}
