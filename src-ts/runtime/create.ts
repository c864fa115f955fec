/**
 * `create`: builds the container up to the point where its first process waits for `start`.
 *
 * The order matters. The cgroups come first so that sysbox-init can join them before it leaves
 * the host's namespaces. The user namespace is made next, by the addon, because the ID-mapped
 * mounts of the rootfs layers are made against it on the host side before sysbox-init joins it.
 * Everything this command made is undone, in reverse order, if any step fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import { faultPoint } from '../fault';
import type { Logger } from '../log';
import { createUserns, makeFifo, openIdmappedTree } from '../native';
import {
  applyResources,
  createCgroups,
  delegate,
  destroyCgroups,
  dirOf,
  hierarchies,
  primeCgroupMove,
  procsFiles,
  resolveCgroupPath,
  type CgroupSet,
} from '../linux/cgroups';
import {
  allocateRange,
  checkGivenMappings,
  idPool,
  rangeFile,
  releaseRange,
  toHost,
} from '../linux/idrange';
import { findMount, overlayLayers } from '../linux/mountinfo';
import { seccompSteps } from '../linux/seccomp';
import { prepareSpecialDirs, removeFresh, sharedLayersIn } from '../storage/special-dirs';
import { InnerStore, mountDirName, storeBeside } from '../storage/inner-store';
import { mirrorOpaqueInLayers, type CaptureSpec } from '../storage/capture';
import { runHooks } from './hooks';
import { sweepAbandoned } from './lifecycle';
import { InitProcess } from './init-process';
import { prepareForSystemd, runsSystemd } from './systemd';
import {
  emulationSteps,
  notifyStep,
  startProcServer,
  wantsEmulation,
  type ProcServer,
} from './proc-emulation';
import { deviceSteps, MS, mountSteps, onlyRootReaches } from './mounts';
import { Plan, type Step } from './plan';
import { credentialSteps, programSteps, rlimitSteps, wantsAllCapabilities } from './process-steps';
import { loadSpec, type IdMapping, type Mount, type Spec } from './spec';
import {
  claimDir,
  fifoPath,
  procStat,
  removeDir,
  waitDead,
  writeState,
  type ContainerState,
  type CreateRecord,
} from './state';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Give processes exactly the capabilities config.json lists, as runc does. */
  honorCaps?: boolean;
  /** Host IDs for the container instead of the `sysbox` entry of /etc/subuid. */
  idRange?: { start: number; size: number; source: string };
  systemdCgroup?: boolean;
  /** Share preloaded inner images through the store (the default), or copy them. */
  innerImageSharing?: boolean;
  /** Root of the shared store of inner image layers (default: beside the engine's layers). */
  innerImageStore?: string;
  /** Set by create: the store this container's layers came from. */
  storeUsed?: string;
  /** Serve per-container /proc and /sys files (the default) or leave the kernel's. */
  procEmulation?: boolean;
  log: Logger;
}

const initTimeoutMs = 120_000;

/** Namespaces a system container always has, whatever the config lists. */
const alwaysNew = ['user', 'mount', 'cgroup'];
const knownNamespaces = ['user', 'mount', 'pid', 'network', 'uts', 'ipc', 'cgroup'];

function namespacePlan(spec: Spec): { join: [string, string][]; fresh: string[] } {
  const join: [string, string][] = [];
  const fresh = new Set(alwaysNew);
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!knownNamespaces.includes(ns.type)) {
      throw new SysboxError('EINVAL_CONFIG', `config.json: unsupported namespace ${ns.type}`);
    }
    if (ns.path && !alwaysNew.includes(ns.type)) join.push([ns.type, ns.path]);
    else fresh.add(ns.type);
  }
  return { join, fresh: [...fresh].filter((t) => t !== 'user') };
}

/**
 * Docker asks for ping_group_range `0 2147483647`, which a user namespace refuses because most of
 * those groups are not mapped in it; the range is narrowed to the groups that are.
 */
function sysctlValue(key: string, value: string, gids: IdMapping[]): string {
  if (key !== 'net.ipv4.ping_group_range') return value;
  const [low, high] = value.trim().split(/\s+/).map(Number);
  const last = Math.max(...gids.map((m) => m.containerID + m.size - 1));
  return `${Math.min(low, last)} ${Math.min(high, last)}`;
}

function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, abs);
}

class Undo {
  private readonly actions: (() => unknown)[] = [];

  push(action: () => unknown): void {
    this.actions.push(action);
  }

  async run(log: Logger): Promise<void> {
    for (const action of this.actions.reverse()) {
      try {
        await action();
      } catch (err) {
        log.warn(`cleanup after a failed create: ${(err as Error).message}`);
      }
    }
  }
}

interface RootfsPlan {
  steps: Step[];
  upper?: string;
  lower?: string[];
}

/**
 * An overlay rootfs (Docker's, containerd's) is rebuilt inside the container over ID-mapped
 * layers; any other directory is ID-mapped as it is.
 */
function rootfsSteps(
  rootfs: string,
  usernsFd: number,
  pass: (fd: number) => number,
  log: Logger,
): RootfsPlan {
  const mount = findMount(rootfs);
  if (mount?.fsType !== 'overlay') {
    if (!onlyRootReaches(rootfs)) {
      throw new SysboxError(
        'EINVAL_CONFIG',
        `rootfs ${rootfs} can be reached by users other than root; files the container's root ` +
          "makes there would be host root's. Put the bundle in a directory only root can enter " +
          '(mode 0700)',
      );
    }
    return { steps: [['root-fd', String(pass(openIdmappedTree(rootfs, usernsFd)))]] };
  }
  const layers = overlayLayers(mount.superOptions);
  const all = [...layers.lower, layers.upper, layers.work];
  if (!layers.upper || !layers.work || all.some((p) => !path.isAbsolute(p))) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `rootfs ${rootfs} is an overlay whose layers are not all absolute paths ` +
        `(${mount.superOptions}); sysbox-runc cannot rebuild it`,
    );
  }
  const upperParent = path.dirname(layers.upper);
  if (!onlyRootReaches(upperParent)) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `rootfs ${rootfs}: the overlay's upper directory ${layers.upper} can be reached by users ` +
        "other than root; files the container's root makes there would be host root's",
    );
  }
  if (path.dirname(layers.work) !== upperParent) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `rootfs ${rootfs}: the overlay's upperdir and workdir are not in one directory`,
    );
  }
  mirrorOpaqueInLayers(layers.lower, log);
  const upperFd = pass(openIdmappedTree(upperParent, usernsFd));
  const lowerFds = layers.lower.map((l) => String(pass(openIdmappedTree(l, usernsFd))));
  const step = [
    'root-overlay',
    String(upperFd),
    path.basename(layers.upper),
    path.basename(layers.work),
    // Mounted in the container's user namespace, the overlay cannot write trusted.overlay.*
    // xattrs (nor read them on the layers); without userxattr, removing a directory that a
    // layer holds fails with EIO. index, redirect_dir and metacopy need trusted xattrs too.
    ['userxattr', ...layers.extra].join(','),
    ...lowerFds,
  ];
  return { steps: [step], upper: layers.upper, lower: layers.lower };
}

function propagationFlags(spec: Spec): number {
  switch (spec.linux?.rootfsPropagation ?? '') {
    case 'shared':
    case 'rshared':
      return MS.SHARED | MS.REC;
    case 'slave':
    case 'rslave':
      return MS.SLAVE | MS.REC;
    case 'unbindable':
    case 'runbindable':
      return MS.UNBINDABLE | MS.REC;
    default:
      return MS.PRIVATE | MS.REC;
  }
}

function checkTerminal(terminal: boolean, consoleSocket: string | undefined): void {
  if (terminal && !consoleSocket) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      'process.terminal is true but --console-socket is missing',
    );
  }
  if (!terminal && consoleSocket) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      '--console-socket given but process.terminal is false',
    );
  }
}

/**
 * The fds handed to sysbox-init, numbered as it will see them: fd 3 is the sync socket, the
 * rest follow in the order passed. The runtime closes its copies once sysbox-init has them.
 */
class PassedFds {
  readonly list: number[] = [];
  private readonly held = new Set<number>();

  /** Keeps an fd to be closed with the passed ones, whether or not it is passed. */
  hold(fd: number): number {
    this.held.add(fd);
    return fd;
  }

  pass(fd: number): number {
    this.list.push(fd);
    return 3 + this.list.length;
  }

  closeAll(): void {
    for (const fd of new Set([...this.list, ...this.held])) fs.closeSync(fd);
    this.list.length = 0;
    this.held.clear();
  }
}

interface PlanInput {
  o: CreateOptions;
  spec: Spec;
  rootfs: string;
  dir: string;
  cgroups: CgroupSet;
  gidMappings: IdMapping[];
  usernsFd: number;
  fds: PassedFds;
  seccomp: Step[];
  undo: Undo;
  /** Set while the plan is built when inner runtime data must be captured for commits. */
  capture?: CaptureSpec;
  /** Steps that attach shared layers in the host's user namespace, set by rootSteps. */
  pins: Step[];
  /** The server of the container's emulated /proc and /sys files, if it has its own /proc. */
  procServer?: ProcServer;
}

/**
 * createContainer and startContainer hooks run inside the container's namespaces, so
 * sysbox-init runs them; it puts the init's PID into the state where `@PID@` stands.
 */
function hookSteps(
  x: PlanInput,
  kind: 'createContainer' | 'startContainer',
  status: string,
): Step[] {
  const state = JSON.stringify({
    ociVersion: '1.0.2',
    id: x.o.id,
    status,
    pid: '@PID@',
    bundle: path.resolve(x.o.bundle),
    annotations: x.spec.annotations ?? {},
  }).replace('"@PID@"', '@PID@');
  return (x.spec.hooks?.[kind] ?? []).map((h) => {
    const args = h.args ?? [];
    return [
      'hook',
      String(h.timeout ?? 0),
      state,
      h.path,
      String(args.length),
      ...args,
      ...(h.env ?? []),
    ];
  });
}

/**
 * Inner runtimes look for their cgroups under /sys/fs/cgroup. Docker's config mounts it, but
 * containerd's default (what `ctr run` uses) does not, so it is added after /sys when missing.
 */
function withCgroupMount(mounts: Mount[]): Mount[] {
  const norm = (p: string): string => path.posix.normalize(p).replace(/\/$/, '');
  if (mounts.some((m) => norm(m.destination) === '/sys/fs/cgroup')) return mounts;
  const sys = mounts.findIndex((m) => norm(m.destination) === '/sys');
  if (sys < 0) return mounts;
  const cgroup: Mount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' };
  return [...mounts.slice(0, sys + 1), cgroup, ...mounts.slice(sys + 1)];
}

/** Host-side steps: everything sysbox-init must do before it gives up being host root. */
function hostSteps(x: PlanInput, ns: ReturnType<typeof namespacePlan>): Step[] {
  const proc = x.spec.process!;
  const steps: Step[] = [
    ['fifo-open', fifoPath(x.o.root, x.o.id)],
    ['stage-open', x.dir],
  ];
  if (x.pins.length > 0) steps.push(['pin-ns'], ...x.pins);
  if (x.o.consoleSocket) steps.push(['console-connect', path.resolve(x.o.consoleSocket)]);
  for (const f of procsFiles(x.cgroups)) steps.push(['cgroup', f]);
  if (proc.oomScoreAdj !== undefined) steps.push(['oom-score-adj', String(proc.oomScoreAdj)]);
  if (ns.join.length > 0) steps.push(['join', ...ns.join.flat()]);
  steps.push(['userns-fd', String(x.fds.pass(x.usernsFd))], ['become-root']);
  steps.push(['unshare', ...ns.fresh], ['fork'], ['await', 'go'], ['setsid']);
  if (!x.o.noNewKeyring) steps.push(['new-keyring']);
  return steps;
}

/** Steps of the container's PID 1 that build its root, up to and including the switch to it. */
async function rootSteps(x: PlanInput, ns: ReturnType<typeof namespacePlan>): Promise<Step[]> {
  const pass = (fd: number): number => x.fds.pass(fd);
  const root = rootfsSteps(x.rootfs, x.usernsFd, pass, x.o.log);
  const steps: Step[] = [['propagation', String(MS.PRIVATE | MS.REC)], ['stage'], ...root.steps];
  const mctx = {
    usernsFd: x.usernsFd,
    pass,
    newPidNs: ns.fresh.includes('pid'),
    newNetNs: ns.fresh.includes('network'),
    newIpcNs: ns.fresh.includes('ipc'),
    cgroups: x.cgroups,
    log: x.o.log,
  };
  steps.push(...mountSteps(withCgroupMount(x.spec.mounts ?? []), mctx));
  if (root.upper) {
    const configured = new Set(
      (x.spec.mounts ?? []).map((m) => path.posix.normalize(m.destination)),
    );
    const store = new InnerStore(x.o.innerImageStore ?? storeBeside(root.upper));
    const sharing =
      x.o.innerImageSharing === false ? undefined : { store, lower: root.lower ?? [] };
    const specials = await prepareSpecialDirs(root.upper, x.rootfs, configured, sharing, x.o.log);
    x.undo.push(() => removeFresh(specials));
    x.o.storeUsed = store.root;
    x.capture = {
      upper: root.upper,
      lower: root.lower ?? [],
      dirs: specials.map((m) => ({ destination: m.destination, source: m.source })),
      store: store.root,
      shared: [],
    };
    for (const s of specials) {
      const fd = pass(openIdmappedTree(s.source, x.usernsFd));
      steps.push(['mount-fd', String(fd), s.destination, 'd', '0']);
      steps.push(...sharedLayerSteps(x, store, s.source, s.destination));
    }
  }
  steps.push(...deviceSteps(x.spec.linux?.devices ?? [], x.o.log));
  steps.push(...hookSteps(x, 'createContainer', 'created'));
  steps.push([x.o.noPivot ? 'move-root' : 'pivot']);
  return steps;
}

/**
 * Mounts the store's copy of each inner image layer that the host directory's inner Docker
 * uses, where its `diff` symlinks point. Each layer is pinned read-only in a mount namespace of
 * the host's (see sysbox-init's pin-ns) so that the container cannot make it writable.
 */
function sharedLayerSteps(x: PlanInput, store: InnerStore, source: string, dest: string): Step[] {
  const entries = store.use(source, sharedLayersIn(source), x.o.log);
  x.capture?.shared?.push(...entries);
  if (entries.length === 0) return [];
  const pins = path.join(x.dir, 'pins');
  // Not recursive: a delete --force that removed the state directory while this create ran
  // must not see it made again, with no record of what it is.
  if (!fs.existsSync(pins)) fs.mkdirSync(pins, { mode: 0o711 });
  const steps: Step[] = [];
  for (const entry of entries) {
    const name = path.join('pins', String(x.pins.length));
    fs.mkdirSync(path.join(x.dir, name));
    const fd = x.fds.pass(openIdmappedTree(store.layerPath(entry), x.usernsFd, false, true));
    x.pins.push(['pin', String(fd), name]);
    steps.push(['mount-pin', name, path.join(dest, mountDirName, entry)]);
  }
  return steps;
}

/** Steps after the switch to the new root, up to the exec of the container's process. */
function finishSteps(x: PlanInput, ns: ReturnType<typeof namespacePlan>): Step[] {
  const { spec } = x;
  const proc = spec.process!;
  const steps: Step[] = [];
  const propagation = propagationFlags(spec);
  if (propagation !== (MS.PRIVATE | MS.REC)) steps.push(['propagation', String(propagation)]);
  if (spec.hostname && ns.fresh.includes('uts')) steps.push(['hostname', spec.hostname]);
  if (spec.domainname && ns.fresh.includes('uts')) steps.push(['domainname', spec.domainname]);
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
    steps.push(['sysctl', k, sysctlValue(k, v, x.gidMappings)]);
  }
  for (const p of spec.linux?.readonlyPaths ?? []) steps.push(['readonly', p]);
  for (const p of spec.linux?.maskedPaths ?? []) steps.push(['mask', p]);
  if (x.procServer) steps.push(...emulationSteps(x.procServer, (fd) => x.fds.pass(fd)));
  if (proc.terminal) {
    const size = proc.consoleSize ?? { height: 0, width: 0 };
    steps.push(['console', String(size.height), String(size.width), 'bind']);
  }
  if (spec.root?.readonly) steps.push(['root-readonly']);
  steps.push(
    ...programSteps(proc),
    ...rlimitSteps(proc),
    ['fifo-listen'],
    ...(x.procServer ? [notifyStep(x.procServer, (fd) => x.fds.pass(fd))] : []),
    ['ready'],
    ['fifo-wait'],
  );
  steps.push(...hookSteps(x, 'startContainer', 'running'));
  const nnp = proc.noNewPrivileges ?? false;
  const allCaps = wantsAllCapabilities(proc, x.o.honorCaps ?? false);
  steps.push(...credentialSteps(proc, x.seccomp, nnp, allCaps, x.o.log));
  return steps;
}

async function buildPlan(x: PlanInput): Promise<Plan> {
  const ns = namespacePlan(x.spec);
  // The root's steps come first in the making: they decide which layers the host part pins.
  const root = await rootSteps(x, ns);
  return new Plan().addAll(hostSteps(x, ns)).addAll(root).addAll(finishSteps(x, ns));
}

/**
 * Starts sysbox-init and sees it through to `ready`: between its fork and its mounts it waits
 * for the prestart and createRuntime hooks, which Docker uses to set up the network namespace.
 */
async function runInit(x: PlanInput, plan: Plan, bundle: string): Promise<number> {
  const init = await InitProcess.start(plan, x.fds.list);
  try {
    x.fds.closeAll();
    const pidText = await init.expect('pid', initTimeoutMs);
    if (pidText === null) throw new SysboxError('EINIT', 'container init exited before it forked');
    const pid = Number(pidText);
    x.undo.push(() => killStray(pid));
    faultPoint('create:forked');
    const hookState = {
      ociVersion: '1.0.2',
      id: x.o.id,
      status: 'created',
      pid,
      bundle,
      annotations: x.spec.annotations ?? {},
    };
    runHooks('prestart', x.spec.hooks?.prestart, hookState, x.o.log);
    runHooks('createRuntime', x.spec.hooks?.createRuntime, hookState, x.o.log);
    init.send(`go ${pid}`);
    const ready = await init.expect('ready', initTimeoutMs);
    if (ready === null) throw new SysboxError('EINIT', 'container init exited before it was ready');
    faultPoint('create:ready');
    const status = await init.exitStatus();
    if (status !== 0) throw new SysboxError('EINIT', `sysbox-init exited with status ${status}`);
    return pid;
  } finally {
    init.close();
  }
}

async function killStray(pid: number): Promise<void> {
  const startTime = procStat(pid)?.startTime;
  if (startTime === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  await waitDead({ pid, pidStartTime: startTime } as ContainerState);
}

/**
 * What the launcher needs to delete this container without Node once it has stopped: its init,
 * its rootfs's upper directory (for the opaque marks), its cgroups and its ID range, one per
 * line. Not written when a delete must do more (capture inner data, run poststop hooks) or a
 * path would not fit on a line; Node deletes those.
 */
function writeTeardown(
  dir: string,
  s: ContainerState,
  poststop: boolean,
  server: ProcServer | undefined,
): void {
  if (poststop || (s.capture?.dirs.length ?? 0) > 0) return;
  const lines = [`pid\t${s.pid}\t${s.pidStartTime}`];
  // What the capture does for a container without inner data: see translateOpaque.
  if (s.capture) lines.push(`opaque\t${s.capture.upper}`);
  for (const h of s.cgroups.hierarchies) lines.push(`cgroup\t${dirOf(h, s.cgroups.path)}`);
  if (s.idStart !== undefined) lines.push(`range\t${rangeFile(s.idStart)}\t${dir}`);
  if (server) lines.push(`fuse\t${server.mountpoint}`);
  if (lines.some((l) => /[\n\0]/.test(l) || l.split('\t').length > 3)) return;
  fs.writeFileSync(path.join(dir, 'teardown'), lines.join('\n') + '\n', { mode: 0o600 });
}

/** Frees shared layers that removed containers left; a failure here fails no create. */
function collectStore(o: CreateOptions): void {
  try {
    if (o.storeUsed) new InnerStore(o.storeUsed).collect(o.log);
  } catch (err) {
    o.log.warn(`collect unused inner image layers: ${(err as Error).message}`);
  }
}

export async function createContainer(o: CreateOptions): Promise<ContainerState> {
  const bundle = path.resolve(o.bundle);
  const { spec, rootfs } = loadSpec(bundle);
  const systemd = runsSystemd(spec, rootfs);
  if (systemd) prepareForSystemd(spec);
  const proc = spec.process!;
  checkTerminal(proc.terminal ?? false, o.consoleSocket);
  const dir = claimDir(o.root, o.id);
  faultPoint('create:claimed');
  const undo = new Undo();
  undo.push(() => removeDir(o.root, o.id));
  const fds = new PassedFds();
  try {
    const given = spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length;
    let uidMappings: IdMapping[];
    let gidMappings: IdMapping[];
    let idStart: number | undefined;
    if (given) {
      uidMappings = checkGivenMappings(spec.linux?.uidMappings ?? [], 'uid');
      gidMappings = checkGivenMappings(spec.linux?.gidMappings ?? [], 'gid');
    } else {
      const allocation = allocateRange(idPool(o.idRange), dir);
      idStart = allocation.allocated;
      undo.push(() => releaseRange(idStart, dir));
      faultPoint('create:allocated');
      uidMappings = allocation.mappings;
      gidMappings = allocation.mappings;
    }
    const rootUid = toHost(uidMappings, 0)!;
    const rootGid = toHost(gidMappings, 0)!;

    const cgPath = resolveCgroupPath(spec.linux?.cgroupsPath, o.id, o.systemdCgroup ?? false);
    // Written before the cgroups are made: until state.json exists, this is what lets `delete`
    // clean up after a create that was killed, whatever step it reached.
    const record: CreateRecord = {
      cgroups: { path: cgPath, hierarchies: hierarchies() },
      idStart,
      creator: { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? 0 },
    };
    fs.writeFileSync(path.join(dir, 'creating.json'), JSON.stringify(record), { mode: 0o600 });
    faultPoint('create:recorded');
    const cgroups = createCgroups(cgPath);
    undo.push(() => destroyCgroups(cgroups));
    primeCgroupMove(cgroups.hierarchies);
    faultPoint('create:cgroups');
    applyResources(cgroups, spec.linux?.resources, o.log);
    delegate(cgroups, rootUid, rootGid);

    fs.mkdirSync(path.join(dir, 'mnt'), { mode: 0o700 });
    fs.chownSync(path.join(dir, 'mnt'), rootUid, rootGid);
    makeFifo(fifoPath(o.root, o.id), rootUid, rootGid);
    const seccomp = seccompSteps(spec.linux?.seccomp, true);
    const emulate = o.procEmulation !== false && wantsEmulation(spec);
    const serverStarting = emulate ? startProcServer(dir, rootUid, o.id) : undefined;
    if (serverStarting) {
      undo.push(() =>
        serverStarting.then(
          (server) => server.stop(),
          () => undefined,
        ),
      );
    }
    const usernsFd = fds.hold(createUserns(uidMappings, gidMappings));
    const input: PlanInput = {
      o,
      spec,
      rootfs,
      dir,
      cgroups,
      gidMappings,
      usernsFd,
      fds,
      seccomp,
      undo,
      pins: [],
    };
    let pid: number;
    try {
      if (serverStarting) {
        input.procServer = await serverStarting;
        fds.hold(input.procServer.notifySocket);
      }
      const plan = await buildPlan(input);
      pid = await runInit(input, plan, bundle);
      input.procServer?.follow(pid);
    } finally {
      fds.closeAll();
    }

    const state: ContainerState = {
      id: o.id,
      bundle,
      rootfs,
      pid,
      pidStartTime: procStat(pid)?.startTime ?? 0,
      created: new Date().toISOString(),
      annotations: spec.annotations ?? {},
      cgroups,
      uidMappings,
      gidMappings,
      idStart,
      capture: input.capture,
      seccomp,
      noNewPrivileges: proc.noNewPrivileges ?? false,
      honorCaps: o.honorCaps ?? false,
      hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
      systemd,
    };
    writeState(o.root, state);
    // The launcher starts containers itself unless this marker says there are hooks to run.
    if ((spec.hooks?.poststart ?? []).length > 0) {
      fs.writeFileSync(path.join(dir, 'poststart-hooks'), '', { mode: 0o600 });
    }
    writeTeardown(dir, state, (spec.hooks?.poststop ?? []).length > 0, input.procServer);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    collectStore(o);
    await sweepAbandoned(o.root, o.log);
    o.log.info(`created container ${o.id} with init ${pid} (root maps to host ${rootUid})`);
    return state;
  } catch (err) {
    await undo.run(o.log);
    throw err;
  }
}
