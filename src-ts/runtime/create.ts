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
import type { Logger } from '../log';
import { createUserns, makeFifo, openIdmappedTree } from '../native';
import {
  applyResources,
  createCgroups,
  delegate,
  destroyCgroups,
  procsFiles,
  resolveCgroupPath,
  type CgroupSet,
} from '../linux/cgroups';
import { containerMappings, hostRanges, toHost } from '../linux/idrange';
import { findMount, overlayLayers } from '../linux/mountinfo';
import { seccompSteps } from '../linux/seccomp';
import { prepareSpecialDirs, removeFresh, type SpecialMount } from '../storage/special-dirs';
import { runHooks } from './hooks';
import { InitProcess } from './init-process';
import { deviceSteps, MS, mountSteps } from './mounts';
import { Plan, type Step } from './plan';
import { credentialSteps, programSteps, rlimitSteps } from './process-steps';
import { loadSpec, type IdMapping, type Spec } from './spec';
import {
  claimDir,
  fifoPath,
  procStat,
  removeDir,
  waitDead,
  writeState,
  type ContainerState,
} from './state';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  systemdCgroup?: boolean;
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
}

/**
 * An overlay rootfs (Docker's, containerd's) is rebuilt inside the container over ID-mapped
 * layers; any other directory is ID-mapped as it is.
 */
function rootfsSteps(rootfs: string, usernsFd: number, pass: (fd: number) => number): RootfsPlan {
  const mount = findMount(rootfs);
  if (mount?.fsType !== 'overlay') {
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
  if (path.dirname(layers.work) !== upperParent) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `rootfs ${rootfs}: the overlay's upperdir and workdir are not in one directory`,
    );
  }
  const upperFd = pass(openIdmappedTree(upperParent, usernsFd));
  const lowerFds = layers.lower.map((l) => String(pass(openIdmappedTree(l, usernsFd))));
  const step = [
    'root-overlay',
    String(upperFd),
    path.basename(layers.upper),
    path.basename(layers.work),
    layers.extra.join(','),
    ...lowerFds,
  ];
  return { steps: [step], upper: layers.upper };
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

export async function createContainer(o: CreateOptions): Promise<ContainerState> {
  const log = o.log;
  const bundle = path.resolve(o.bundle);
  const { spec, rootfs } = loadSpec(bundle);
  const proc = spec.process!;
  if (proc.terminal && !o.consoleSocket) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      'process.terminal is true but --console-socket is missing',
    );
  }
  if (!proc.terminal && o.consoleSocket) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      '--console-socket given but process.terminal is false',
    );
  }
  const dir = claimDir(o.root, o.id);
  const undo = new Undo();
  undo.push(() => removeDir(o.root, o.id));
  const fds: number[] = [];
  let init: InitProcess | undefined;
  let pid = 0;
  try {
    const ranges = hostRanges();
    const uidMappings = containerMappings(spec.linux?.uidMappings, ranges.uid, 'uid');
    const gidMappings = containerMappings(spec.linux?.gidMappings, ranges.gid, 'gid');
    const rootUid = toHost(uidMappings, 0)!;
    const rootGid = toHost(gidMappings, 0)!;

    const cgPath = resolveCgroupPath(spec.linux?.cgroupsPath, o.id, o.systemdCgroup ?? false);
    const cgroups: CgroupSet = createCgroups(cgPath);
    undo.push(() => destroyCgroups(cgroups));
    applyResources(cgroups, spec.linux?.resources, log);
    delegate(cgroups, rootUid, rootGid);

    const fifo = fifoPath(o.root, o.id);
    fs.mkdirSync(path.join(dir, 'mnt'), { mode: 0o700 });
    fs.chownSync(path.join(dir, 'mnt'), rootUid, rootGid);
    makeFifo(fifo, rootUid, rootGid);

    const usernsFd = createUserns(uidMappings, gidMappings);
    fds.push(usernsFd);
    const passed: number[] = [];
    const pass = (fd: number): number => {
      if (fd !== usernsFd) fds.push(fd);
      passed.push(fd);
      return 3 + passed.length;
    };
    const usernsChildFd = pass(usernsFd);

    const ns = namespacePlan(spec);
    const root = rootfsSteps(rootfs, usernsFd, pass);
    const configured = new Set((spec.mounts ?? []).map((m) => path.posix.normalize(m.destination)));
    let specials: SpecialMount[] = [];
    if (root.upper) {
      specials = await prepareSpecialDirs(root.upper, rootfs, configured, log);
      undo.push(() => removeFresh(specials));
    }
    const mctx = {
      usernsFd,
      pass,
      newPidNs: ns.fresh.includes('pid'),
      newNetNs: ns.fresh.includes('network'),
      newIpcNs: ns.fresh.includes('ipc'),
      cgroups,
      log,
    };
    const seccomp = seccompSteps(spec.linux?.seccomp, true);
    const plan = new Plan();
    plan.add('fifo-open', fifo).add('stage-open', dir);
    if (o.consoleSocket) plan.add('console-connect', path.resolve(o.consoleSocket));
    for (const f of procsFiles(cgroups)) plan.add('cgroup', f);
    if (proc.oomScoreAdj !== undefined) plan.add('oom-score-adj', proc.oomScoreAdj);
    if (ns.join.length > 0) plan.add('join', ...ns.join.flat());
    plan.add('userns-fd', usernsChildFd).add('become-root');
    plan
      .add('unshare', ...ns.fresh)
      .add('fork')
      .add('await', 'go')
      .add('setsid');
    plan.add('propagation', MS.PRIVATE | MS.REC).add('stage');
    plan.addAll(root.steps);
    plan.addAll(mountSteps(spec.mounts ?? [], mctx));
    for (const s of specials) {
      plan.add('mount-fd', pass(openIdmappedTree(s.source, usernsFd)), s.destination, 'd', 0);
    }
    plan.addAll(deviceSteps(spec.linux?.devices ?? [], log));
    plan.add(o.noPivot ? 'move-root' : 'pivot');
    if (propagationFlags(spec) !== (MS.PRIVATE | MS.REC))
      plan.add('propagation', propagationFlags(spec));
    if (spec.hostname && ns.fresh.includes('uts')) plan.add('hostname', spec.hostname);
    if (spec.domainname && ns.fresh.includes('uts')) plan.add('domainname', spec.domainname);
    for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
      plan.add('sysctl', k, sysctlValue(k, v, gidMappings));
    }
    for (const p of spec.linux?.readonlyPaths ?? []) plan.add('readonly', p);
    for (const p of spec.linux?.maskedPaths ?? []) plan.add('mask', p);
    if (proc.terminal) {
      const size = proc.consoleSize ?? { height: 0, width: 0 };
      plan.add('console', size.height, size.width, 'bind');
    }
    if (spec.root?.readonly) plan.add('root-readonly');
    plan.addAll(programSteps(proc)).addAll(rlimitSteps(proc));
    plan.add('ready').add('fifo-wait');
    const nnp = proc.noNewPrivileges ?? false;
    plan.addAll(credentialSteps(proc, seccomp, nnp, true, log));

    init = InitProcess.start(plan, passed);
    for (const fd of fds) fs.closeSync(fd);
    fds.length = 0;

    const pidText = await init.expect('pid', initTimeoutMs);
    if (pidText === null) throw new SysboxError('EINIT', 'container init exited before it forked');
    pid = Number(pidText);
    undo.push(async () => {
      process.kill(pid, 'SIGKILL');
      await waitDead({ pid, pidStartTime: procStat(pid)?.startTime ?? 0 } as ContainerState);
    });
    const hookState = {
      ociVersion: '1.0.2',
      id: o.id,
      status: 'created',
      pid,
      bundle,
      annotations: spec.annotations ?? {},
    };
    runHooks('prestart', spec.hooks?.prestart, hookState, log);
    runHooks('createRuntime', spec.hooks?.createRuntime, hookState, log);
    init.send('go');
    const ready = await init.expect('ready', initTimeoutMs);
    if (ready === null) throw new SysboxError('EINIT', 'container init exited before it was ready');
    const status = await init.exitStatus();
    if (status !== 0) throw new SysboxError('EINIT', `sysbox-init exited with status ${status}`);

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
      seccomp,
      noNewPrivileges: nnp,
      systemContainer: true,
      hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
    };
    writeState(o.root, state);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    log.info(`created container ${o.id} with init ${pid} (root maps to host ${rootUid})`);
    return state;
  } catch (err) {
    for (const fd of fds) fs.closeSync(fd);
    init?.close();
    await undo.run(log);
    throw err;
  } finally {
    init?.close();
  }
}
