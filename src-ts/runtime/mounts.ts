/**
 * Turning the config's mounts into plan steps. Bind mounts are ID-mapped through the container's
 * user namespace where the source's filesystem allows it, so that files the host owns as root
 * appear owned by the container's root; elsewhere they are plain binds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openIdmappedTree, openTree } from '../native';
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import type { CgroupSet } from '../linux/cgroups';
import { dirOf, isUnified } from '../linux/cgroups';
import type { Step } from './plan';
import type { Mount } from './spec';

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

const setFlags: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  dirsync: MS.DIRSYNC,
  mand: MS.MANDLOCK,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

const clearFlags: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
};

/** Options the runtime acts on itself rather than passing to mount(2). */
const runtimeOptions = new Set(['idmap', 'ridmap', 'tmpcopyup', 'remount']);

export function parseOptions(options: string[] | undefined): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options ?? []) {
    if (o in setFlags) flags |= setFlags[o];
    else if (o in clearFlags) flags &= ~clearFlags[o];
    else if (!runtimeOptions.has(o)) data.push(o);
  }
  return { flags, data: data.join(',') };
}

export interface MountContext {
  usernsFd: number;
  /** Passes an fd to sysbox-init and returns the number it will have there. */
  pass(fd: number): number;
  newPidNs: boolean;
  newNetNs: boolean;
  newIpcNs: boolean;
  cgroups: CgroupSet;
  log: Logger;
}

/**
 * Whether only host root can reach `target`: some directory on the way is root's and closed to
 * others (and to groups other than root's). Through an ID-mapped mount, files that container
 * root makes belong to host root; that includes setuid programs, so a host user must not be
 * able to reach them.
 */
export function onlyRootReaches(target: string): boolean {
  let dir = target;
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    return false;
  }
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      return false;
    }
    const othersOut = (st.mode & 0o001) === 0 && ((st.mode & 0o010) === 0 || st.gid === 0);
    if (st.uid === 0 && othersOut) return true;
    if (dir === '/') return false;
    dir = path.dirname(dir);
  }
}

/**
 * A bind is ID-mapped when the config asks (`idmap`, `ridmap`) or when only host root can reach
 * its source, as with the files Docker keeps under /var/lib/docker/containers. Elsewhere it is a
 * plain bind, where container root is an unprivileged user, as in rootless runc.
 */
function bindSteps(m: Mount, flags: number, ctx: MountContext): Step[] {
  const source = m.source ?? '';
  let isDir = true;
  try {
    isDir = fs.statSync(source).isDirectory();
  } catch {
    // mount(2) will report the missing source with its path.
  }
  const kind = isDir ? 'd' : 'f';
  const perMount = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME);
  const asked = (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap');
  // A read-only flag is not locked against the container's root, which could remount the bind
  // read-write; a read-only bind of a root-only source therefore stays a plain bind, where the
  // container's root is an unprivileged user.
  if (asked || ((flags & MS.RDONLY) === 0 && onlyRootReaches(source))) {
    try {
      const fd = openIdmappedTree(source, ctx.usernsFd, (flags & MS.REC) !== 0);
      return [['mount-fd', String(ctx.pass(fd)), m.destination, kind, String(perMount)]];
    } catch (err) {
      if (asked) throw err;
      const why = (err as Error).message;
      ctx.log.debug(`bind of ${source} on ${m.destination} is not id-mapped: ${why}`);
    }
  }
  // Cloned on the host side too: the container's root may not be able to reach the source.
  let fd: number;
  try {
    fd = openTree(source, (flags & MS.REC) !== 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SysboxError(
      'EINVAL_CONFIG',
      `bind mount source ${source}: ${code ?? (err as Error).message}`,
    );
  }
  return [['mount-fd', String(ctx.pass(fd)), m.destination, kind, String(perMount)]];
}

/**
 * A cgroup mount becomes a tmpfs with the container's own cgroup directory of each v1 hierarchy
 * bound below it, writable so that inner runtimes can make sub-cgroups; the container's cgroup
 * namespace makes those directories look like the roots. On a v2-only host the namespace lets
 * the container mount cgroup2 itself.
 */
function cgroupSteps(m: Mount, ctx: MountContext): Step[] {
  const nosuid = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (isUnified(ctx.cgroups.hierarchies)) {
    return [['mount', 'cgroup2', m.destination, 'cgroup2', String(nosuid), '', 'd']];
  }
  const steps: Step[] = [
    ['mount', 'tmpfs', m.destination, 'tmpfs', String(nosuid), 'mode=755', 'd'],
  ];
  for (const h of ctx.cgroups.hierarchies) {
    const target = path.posix.join(m.destination, path.basename(h.mountPoint));
    const flags = MS.BIND | nosuid;
    steps.push(['mount', dirOf(h, ctx.cgroups.path), target, 'none', String(flags), '', 'd']);
  }
  return steps;
}

export function mountSteps(mounts: Mount[], ctx: MountContext): Step[] {
  const steps: Step[] = [];
  for (const m of mounts) {
    const { flags, data } = parseOptions(m.options);
    const type = m.type ?? (flags & MS.BIND ? 'bind' : 'none');
    if (type === 'cgroup' || type === 'cgroup2') {
      steps.push(...cgroupSteps(m, ctx));
    } else if (flags & MS.BIND || type === 'bind') {
      steps.push(...bindSteps(m, flags | MS.BIND, ctx));
    } else if (
      (type === 'proc' && !ctx.newPidNs) ||
      (type === 'sysfs' && !ctx.newNetNs) ||
      (type === 'mqueue' && !ctx.newIpcNs)
    ) {
      // These need a namespace the container's user namespace owns; when the container shares
      // the host's, it gets the host's mount, as runc does for rootless containers.
      const host = { proc: '/proc', sysfs: '/sys', mqueue: '/dev/mqueue' }[type];
      const bindFlags = MS.BIND | MS.REC | (flags & MS.RDONLY);
      steps.push(['mount', host, m.destination, 'none', String(bindFlags), '', 'd']);
    } else {
      steps.push(['mount', m.source ?? type, m.destination, type, String(flags), data, 'd']);
    }
  }
  return steps;
}

const defaultDevices = [
  '/dev/null',
  '/dev/zero',
  '/dev/full',
  '/dev/random',
  '/dev/urandom',
  '/dev/tty',
];

/**
 * Device nodes cannot be made in a user namespace, so each is a bind of the host's node, as in
 * rootless runc. The devices cgroup still decides what the container may open.
 */
export function deviceSteps(extra: { path: string }[], log: Logger): Step[] {
  const steps: Step[] = [];
  const seen = new Set<string>();
  for (const p of [...defaultDevices, ...extra.map((d) => d.path)]) {
    if (seen.has(p)) continue;
    seen.add(p);
    if (!fs.existsSync(p)) {
      log.warn(`device ${p} is not on the host; the container will not have it`);
      continue;
    }
    steps.push(['mount', p, p, 'none', String(MS.BIND), '', 'f']);
  }
  steps.push(
    ['symlink', '/proc/self/fd', '/dev/fd'],
    ['symlink', '/proc/self/fd/0', '/dev/stdin'],
    ['symlink', '/proc/self/fd/1', '/dev/stdout'],
    ['symlink', '/proc/self/fd/2', '/dev/stderr'],
    ['symlink', 'pts/ptmx', '/dev/ptmx'],
  );
  return steps;
}
