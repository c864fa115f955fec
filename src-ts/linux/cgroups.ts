/**
 * Container cgroups on v1 (one tree per controller, as on this project's hosts) and on the
 * unified v2 tree. The container's own directory is delegated to its root: the directory and the
 * files that create and populate children become root's, so an inner dockerd or systemd can make
 * sub-cgroups, while the limit files stay the host's and cannot be raised from inside.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMountInfo } from './mountinfo';
import { SysboxError, systemError } from '../errors';
import type { Resources } from '../runtime/spec';
import type { Logger } from '../log';

const cgroupRoot = '/sys/fs/cgroup';

export interface Hierarchy {
  /** Where the hierarchy is mounted on the host. */
  mountPoint: string;
  /** Controllers (or `name=systemd`), empty for the v2 tree. */
  controllers: string[];
  version: 1 | 2;
}

export interface CgroupSet {
  /** Path of the cgroup below each hierarchy's root, the same in all. */
  path: string;
  hierarchies: Hierarchy[];
}

export function hierarchies(): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const m of readMountInfo()) {
    if (!m.mountPoint.startsWith(cgroupRoot) || m.root !== '/') continue;
    if (m.fsType === 'cgroup') {
      const controllers = m.superOptions
        .split(',')
        .filter((o) => !['rw', 'ro'].includes(o) && !o.startsWith('release_agent'));
      found.push({ mountPoint: m.mountPoint, controllers, version: 1 });
    } else if (m.fsType === 'cgroup2') {
      found.push({ mountPoint: m.mountPoint, controllers: [], version: 2 });
    }
  }
  return found;
}

/**
 * Starts, off the JavaScript thread, the wait that the first cgroup move after a quiet spell
 * costs: the kernel's lock for moving processes between cgroups first waits for an RCU grace
 * period (5 to 15 ms on this project's hosts, most of what runc's create costs). Moving this
 * process to the cgroup it is already in starts that wait now, while the create does its other
 * work; the container init's own move then finds it over or joins it. Nothing moves, and
 * nothing depends on the outcome.
 */
export function primeCgroupMove(list: Hierarchy[]): void {
  const own = fs.readFileSync('/proc/self/cgroup', 'utf8');
  const target = isUnified(list)
    ? { h: list[0], re: /^0::(\/.*)$/m }
    : { h: list.find((h) => h.controllers.includes('pids')), re: /^\d+:pids:(\/.*)$/m };
  const where = target.re.exec(own)?.[1];
  if (!target.h || where === undefined) return;
  let fd: number;
  try {
    fd = fs.openSync(path.join(dirOf(target.h, where), 'cgroup.procs'), 'w');
  } catch {
    return;
  }
  // Opened here so that the write itself is the one job on the thread pool.
  fs.write(fd, String(process.pid), () => fs.close(fd, () => undefined));
}

export function isUnified(list: Hierarchy[]): boolean {
  return list.length === 1 && list[0].version === 2;
}

/**
 * Resolves `linux.cgroupsPath`. With --systemd-cgroup it is `slice:prefix:name`, which systemd
 * would place at `<slice dirs>/<prefix>-<name>.scope`; no systemd runs on the hosts this must
 * work on, so the runtime makes that directory itself.
 */
export function resolveCgroupPath(given: string | undefined, id: string, systemd: boolean): string {
  if (!given) return `/sysbox/${id}`;
  if (systemd && /^[^:/]*:[^:/]*:[^:/]+$/.test(given)) {
    const [slice, prefix, name] = given.split(':');
    const sliceName = slice || 'system.slice';
    const parts = sliceName.replace(/\.slice$/, '').split('-');
    const dirs = parts.map((_, i) => parts.slice(0, i + 1).join('-') + '.slice');
    const unit = name.endsWith('.slice') ? name : `${prefix ? prefix + '-' : ''}${name}.scope`;
    return '/' + [...dirs.filter((d) => d !== '-.slice'), unit].join('/');
  }
  const normal = path.posix.normalize('/' + given);
  if (normal.split('/').includes('..')) {
    throw new SysboxError('EINVAL_CONFIG', `config.json: linux.cgroupsPath ${given} leaves /`);
  }
  return normal;
}

export function dirOf(h: Hierarchy, cgPath: string): string {
  return path.join(h.mountPoint, cgPath);
}

function write(file: string, value: string | number): void {
  try {
    fs.writeFileSync(file, String(value));
  } catch (err) {
    throw systemError(`write ${value} to ${file}`, err);
  }
}

/** cpuset children start empty and refuse tasks until their CPUs and nodes are set. */
function fillCpuset(h: Hierarchy, cgPath: string): void {
  let dir = h.mountPoint;
  for (const part of cgPath.split('/').filter(Boolean)) {
    const parent = dir;
    dir = path.join(dir, part);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = path.join(dir, file);
      if (fs.readFileSync(own, 'utf8').trim() === '') {
        write(own, fs.readFileSync(path.join(parent, file), 'utf8').trim());
      }
    }
  }
}

export function createCgroups(cgPath: string): CgroupSet {
  const set: CgroupSet = { path: cgPath, hierarchies: hierarchies() };
  if (set.hierarchies.length === 0) {
    throw new SysboxError('ESYSTEM', `no cgroup hierarchy is mounted under ${cgroupRoot}`);
  }
  for (const h of set.hierarchies) {
    const dir = dirOf(h, cgPath);
    try {
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      // The leaf must be new: it is delegated to the container and removed with it.
      fs.mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SysboxError(
          'EINVAL_CONFIG',
          `cgroup ${dir} already exists; another container uses it`,
        );
      }
      throw systemError(`create the cgroup ${dir}`, err);
    }
    if (h.controllers.includes('cpuset')) fillCpuset(h, cgPath);
  }
  if (isUnified(set.hierarchies)) enableV2Controllers(set.hierarchies[0], cgPath);
  return set;
}

function enableV2Controllers(h: Hierarchy, cgPath: string): void {
  const available = fs.readFileSync(path.join(h.mountPoint, 'cgroup.controllers'), 'utf8');
  const wanted = available
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => '+' + c)
    .join(' ');
  let dir = h.mountPoint;
  for (const part of cgPath.split('/').filter(Boolean).slice(0, -1)) {
    dir = path.join(dir, part);
    if (wanted) write(path.join(dir, 'cgroup.subtree_control'), wanted);
  }
}

function controllerDir(set: CgroupSet, controller: string): string | undefined {
  const h = set.hierarchies.find((x) => x.version === 1 && x.controllers.includes(controller));
  return h && dirOf(h, set.path);
}

/**
 * Rules added after the config's, as runc does: managers such as Docker leave out the terminal
 * devices and mknod permission that every container is expected to have.
 */
const defaultDeviceRules: NonNullable<Resources['devices']> = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[
    [1, 3],
    [1, 5],
    [1, 7],
    [1, 8],
    [1, 9],
    [5, 0],
    [5, 2],
  ].map(([major, minor]) => ({
    allow: true,
    type: 'c',
    major,
    minor,
    access: 'rwm',
  })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

export function applyResources(
  set: CgroupSet,
  r: Resources | undefined,
  log: Logger,
  updating = false,
): void {
  if (isUnified(set.hierarchies)) return applyV2(dirOf(set.hierarchies[0], set.path), r ?? {});
  r = r ?? {};
  const mem = controllerDir(set, 'memory');
  if (mem && r.memory?.limit !== undefined && r.memory.limit > 0) {
    write(path.join(mem, 'memory.limit_in_bytes'), r.memory.limit);
  }
  if (mem && r.memory?.reservation !== undefined && r.memory.reservation > 0) {
    write(path.join(mem, 'memory.soft_limit_in_bytes'), r.memory.reservation);
  }
  const cpu = controllerDir(set, 'cpu');
  if (cpu && r.cpu?.shares) write(path.join(cpu, 'cpu.shares'), r.cpu.shares);
  if (cpu && r.cpu?.period) write(path.join(cpu, 'cpu.cfs_period_us'), r.cpu.period);
  if (cpu && r.cpu?.quota) write(path.join(cpu, 'cpu.cfs_quota_us'), r.cpu.quota);
  const cpuset = controllerDir(set, 'cpuset');
  if (cpuset && r.cpu?.cpus) write(path.join(cpuset, 'cpuset.cpus'), r.cpu.cpus);
  if (cpuset && r.cpu?.mems) write(path.join(cpuset, 'cpuset.mems'), r.cpu.mems);
  const pids = controllerDir(set, 'pids');
  if (pids && r.pids?.limit !== undefined && r.pids.limit > 0) {
    write(path.join(pids, 'pids.max'), r.pids.limit);
  }
  const devices = controllerDir(set, 'devices');
  if (devices && !updating) {
    // Deny everything first: a config without device rules must not mean every device.
    const rules = [{ allow: false, access: 'rwm' }, ...(r.devices ?? []), ...defaultDeviceRules];
    for (const d of rules) {
      const type = d.type ?? 'a';
      const major = d.major === undefined || d.major < 0 ? '*' : d.major;
      const minor = d.minor === undefined || d.minor < 0 ? '*' : d.minor;
      const rule = type === 'a' ? 'a' : `${type} ${major}:${minor} ${d.access ?? 'rwm'}`;
      write(path.join(devices, d.allow ? 'devices.allow' : 'devices.deny'), rule);
    }
  }
  log.debug(`applied resources to cgroup ${set.path}`);
}

function applyV2(dir: string, r: Resources): void {
  if (r.memory?.limit !== undefined && r.memory.limit > 0) {
    write(path.join(dir, 'memory.max'), r.memory.limit);
  }
  if (r.pids?.limit !== undefined && r.pids.limit > 0)
    write(path.join(dir, 'pids.max'), r.pids.limit);
  if (r.cpu?.quota && r.cpu.quota > 0) {
    write(path.join(dir, 'cpu.max'), `${r.cpu.quota} ${r.cpu.period ?? 100000}`);
  }
  if (r.cpu?.shares) {
    // The conversion systemd and runc use from v1 shares (2..262144) to v2 weight (1..10000).
    const weight = 1 + Math.floor(((r.cpu.shares - 2) * 9999) / 262142);
    write(path.join(dir, 'cpu.weight'), Math.max(1, Math.min(10000, weight)));
  }
}

const delegatedFiles = [
  'cgroup.procs',
  'tasks',
  'cgroup.clone_children',
  'cgroup.subtree_control',
  'cgroup.threads',
];

/** Gives the container's root the cgroup directory and the files that manage its children. */
export function delegate(set: CgroupSet, uid: number, gid: number): void {
  for (const h of set.hierarchies) {
    const dir = dirOf(h, set.path);
    try {
      fs.chownSync(dir, uid, gid);
    } catch (err) {
      throw systemError(`delegate the cgroup ${dir}`, err);
    }
    for (const f of delegatedFiles) {
      try {
        fs.chownSync(path.join(dir, f), uid, gid);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw systemError(`delegate ${path.join(dir, f)}`, err);
        }
      }
    }
  }
}

/** The cgroup.procs files the container's processes are written into, one per hierarchy. */
export function procsFiles(set: CgroupSet): string[] {
  return set.hierarchies.map((h) => path.join(dirOf(h, set.path), 'cgroup.procs'));
}

function pidsBelow(dir: string, out: Set<number>): void {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) if (line) out.add(Number(line));
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) pidsBelow(path.join(dir, e.name), out);
  }
}

/** Every process in the container's cgroup, including those in sub-cgroups made inside it. */
export function cgroupPids(set: CgroupSet): number[] {
  const h =
    set.hierarchies.find((x) => x.controllers.includes('pids')) ??
    set.hierarchies.find((x) => x.controllers.includes('memory')) ??
    set.hierarchies[0];
  const out = new Set<number>();
  if (h) pidsBelow(dirOf(h, set.path), out);
  return [...out].sort((a, b) => a - b);
}

function removeTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  fs.rmdirSync(dir);
}

/**
 * Removes the container's cgroups, children first. A cgroup whose last task has just died can
 * still refuse removal for a moment, so EBUSY is retried briefly.
 */
export async function destroyCgroups(set: CgroupSet): Promise<void> {
  for (const h of set.hierarchies) {
    const dir = dirOf(h, set.path);
    for (let attempt = 0; ; attempt++) {
      try {
        removeTree(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 100) {
          throw systemError(`remove the cgroup ${dir}`, err);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

export function freezerState(set: CgroupSet): string | undefined {
  const dir = controllerDir(set, 'freezer');
  try {
    if (dir) return fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim();
    if (isUnified(set.hierarchies)) {
      const frozen = fs.readFileSync(
        path.join(dirOf(set.hierarchies[0], set.path), 'cgroup.freeze'),
      );
      return frozen.toString().trim() === '1' ? 'FROZEN' : 'THAWED';
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Thaws the container's cgroup and every cgroup below it, which the container may have frozen. */
export function thawAll(set: CgroupSet): void {
  const h = set.hierarchies.find((x) => x.controllers.includes('freezer'));
  const unified = isUnified(set.hierarchies);
  const top = unified ? dirOf(set.hierarchies[0], set.path) : h && dirOf(h, set.path);
  if (!top) return;
  const file = unified ? 'cgroup.freeze' : 'freezer.state';
  const value = unified ? '0' : 'THAWED';
  const walk = (dir: string): void => {
    try {
      fs.writeFileSync(path.join(dir, file), value);
    } catch {
      // A cgroup that went away meanwhile needs no thawing.
    }
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(top);
}
