/**
 * Reading and checking a bundle's config.json. Only the fields the runtime acts on are typed;
 * each is checked for its type so that a malformed config fails here with the field's name
 * instead of deep in the container's set-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidConfig, SysboxError } from '../errors';

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface Namespace {
  type: string;
  path?: string;
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: SeccompSyscall[];
}

export interface Resources {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  blockIO?: { weight?: number };
}

export interface Device {
  path: string;
  type: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  devices?: Device[];
  cgroupsPath?: string;
  resources?: Resources;
  rootfsPropagation?: string;
  seccomp?: Seccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function expect(v: unknown, kind: Kind, where: string, optional = true): void {
  if (v === undefined && optional) return;
  if (kindOf(v) !== kind) {
    throw invalidConfig(`config.json: ${where} must be a ${kind}, not ${kindOf(v)}`);
  }
  if (kind === 'number' && !Number.isFinite(v as number)) {
    throw invalidConfig(`config.json: ${where} must be a finite number`);
  }
}

/** A user or group ID: an integer from 0 up to, not including, (uid_t)-1, which means none. */
function expectId(v: unknown, where: string, optional = false): void {
  expect(v, 'number', where, optional);
  if (v === undefined) return;
  const n = v as number;
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32 - 1) {
    throw invalidConfig(`config.json: ${where} must be an ID from 0 to 4294967294, not ${n}`);
  }
}

/**
 * Numbers in the resource sections: integers, as the kernel's files take them. `where` names
 * the object in errors (`update` checks the resources it is given the same way).
 */
export function checkResources(r: Resources | undefined, where = 'linux.resources'): void {
  if (r === undefined) return;
  const bad = (what: string): SysboxError => invalidConfig(`${where}.${what}`);
  const integers: [string, Record<string, unknown> | undefined, string[]][] = [
    ['memory', r.memory, ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness']],
    ['cpu', r.cpu, ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod']],
    ['pids', r.pids, ['limit']],
    ['blockIO', r.blockIO, ['weight', 'leafWeight']],
  ];
  for (const [section, values, fields] of integers) {
    if (values === undefined) continue;
    if (kindOf(values) !== 'object') throw bad(`${section} must be an object`);
    for (const f of fields) {
      const v = values[f];
      if (v !== undefined && !Number.isSafeInteger(v)) {
        throw bad(`${section}.${f} must be an integer, not ${JSON.stringify(v)}`);
      }
    }
  }
  for (const f of ['cpus', 'mems'] as const) {
    if (r.cpu?.[f] !== undefined && typeof r.cpu[f] !== 'string') {
      throw bad(`cpu.${f} must be a string`);
    }
  }
  if (r.devices !== undefined && !Array.isArray(r.devices)) throw bad('devices must be an array');
}

function expectStrings(v: unknown, where: string): void {
  expect(v, 'array', where);
  (v as unknown[] | undefined)?.forEach((s, i) => expect(s, 'string', `${where}[${i}]`, false));
}

function expectPath(v: unknown, where: string): void {
  expect(v, 'string', where, false);
  if ((v as string).includes('\0')) throw invalidConfig(`config.json: ${where} holds a NUL byte`);
}

function checkProcess(p: Process, where: string): void {
  expect(p, 'object', where, false);
  expect(p.terminal, 'boolean', `${where}.terminal`);
  expect(p.user, 'object', `${where}.user`, false);
  expectId(p.user.uid, `${where}.user.uid`);
  expectId(p.user.gid, `${where}.user.gid`);
  expect(p.user.umask, 'number', `${where}.user.umask`);
  expect(p.user.additionalGids, 'array', `${where}.user.additionalGids`);
  p.user.additionalGids?.forEach((g, i) => expectId(g, `${where}.user.additionalGids[${i}]`));
  expectStrings(p.args, `${where}.args`);
  if (!p.args || p.args.length === 0) {
    throw invalidConfig(`config.json: ${where}.args must name the program to run`);
  }
  expectStrings(p.env, `${where}.env`);
  expectPath(p.cwd, `${where}.cwd`);
  if (!p.cwd.startsWith('/')) throw invalidConfig(`config.json: ${where}.cwd must be absolute`);
  expect(p.capabilities, 'object', `${where}.capabilities`);
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    expectStrings(p.capabilities?.[set], `${where}.capabilities.${set}`);
  }
  expect(p.rlimits, 'array', `${where}.rlimits`);
  p.rlimits?.forEach((r, i) => {
    expect(r.type, 'string', `${where}.rlimits[${i}].type`, false);
    expect(r.hard, 'number', `${where}.rlimits[${i}].hard`, false);
    expect(r.soft, 'number', `${where}.rlimits[${i}].soft`, false);
  });
  expect(p.noNewPrivileges, 'boolean', `${where}.noNewPrivileges`);
  expect(p.oomScoreAdj, 'number', `${where}.oomScoreAdj`);
}

/** Checks the fields of a process object, as found in config.json or an `exec --process` file. */
export function checkProcessObject(p: unknown, where: string): Process {
  checkProcess(p as Process, where);
  return p as Process;
}

function checkLinux(l: Linux): void {
  expect(l, 'object', 'linux', false);
  expect(l.namespaces, 'array', 'linux.namespaces');
  l.namespaces?.forEach((n, i) => {
    expect(n.type, 'string', `linux.namespaces[${i}].type`, false);
    expect(n.path, 'string', `linux.namespaces[${i}].path`);
  });
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    expect(l[key], 'array', `linux.${key}`);
    l[key]?.forEach((m, i) => {
      for (const f of ['containerID', 'hostID', 'size'] as const) {
        expect(m[f], 'number', `linux.${key}[${i}].${f}`, false);
      }
    });
  }
  expect(l.cgroupsPath, 'string', 'linux.cgroupsPath');
  expect(l.resources, 'object', 'linux.resources');
  checkResources(l.resources, 'config.json: linux.resources');
  expect(l.rootfsPropagation, 'string', 'linux.rootfsPropagation');
  expect(l.seccomp, 'object', 'linux.seccomp');
  if (l.seccomp) {
    expect(l.seccomp.defaultAction, 'string', 'linux.seccomp.defaultAction', false);
    expectStrings(l.seccomp.architectures, 'linux.seccomp.architectures');
    expect(l.seccomp.syscalls, 'array', 'linux.seccomp.syscalls');
    l.seccomp.syscalls?.forEach((s, i) => {
      expectStrings(s.names, `linux.seccomp.syscalls[${i}].names`);
      expect(s.action, 'string', `linux.seccomp.syscalls[${i}].action`, false);
      expect(s.args, 'array', `linux.seccomp.syscalls[${i}].args`);
    });
  }
  expect(l.sysctl, 'object', 'linux.sysctl');
  expectStrings(l.maskedPaths, 'linux.maskedPaths');
  expectStrings(l.readonlyPaths, 'linux.readonlyPaths');
  expect(l.devices, 'array', 'linux.devices');
  l.devices?.forEach((d, i) => {
    expectPath(d.path, `linux.devices[${i}].path`);
    expect(d.type, 'string', `linux.devices[${i}].type`, false);
  });
}

function checkSpec(s: Spec): void {
  expect(s, 'object', 'the top level', false);
  expect(s.ociVersion, 'string', 'ociVersion', false);
  expect(s.root, 'object', 'root', false);
  expectPath(s.root!.path, 'root.path');
  expect(s.root!.readonly, 'boolean', 'root.readonly');
  if (s.process === undefined) throw invalidConfig('config.json: process is required');
  checkProcess(s.process, 'process');
  expect(s.hostname, 'string', 'hostname');
  expect(s.domainname, 'string', 'domainname');
  expect(s.mounts, 'array', 'mounts');
  s.mounts?.forEach((m, i) => {
    expect(m, 'object', `mounts[${i}]`, false);
    expectPath(m.destination, `mounts[${i}].destination`);
    if (!m.destination.startsWith('/')) {
      throw invalidConfig(`config.json: mounts[${i}].destination must be absolute`);
    }
    expect(m.type, 'string', `mounts[${i}].type`);
    expect(m.source, 'string', `mounts[${i}].source`);
    expectStrings(m.options, `mounts[${i}].options`);
  });
  expect(s.hooks, 'object', 'hooks');
  for (const [kind, list] of Object.entries(s.hooks ?? {})) {
    expect(list, 'array', `hooks.${kind}`);
    (list as Hook[]).forEach((h, i) => {
      expectPath(h.path, `hooks.${kind}[${i}].path`);
      expectStrings(h.args, `hooks.${kind}[${i}].args`);
      expectStrings(h.env, `hooks.${kind}[${i}].env`);
      expect(h.timeout, 'number', `hooks.${kind}[${i}].timeout`);
    });
  }
  expect(s.annotations, 'object', 'annotations');
  checkLinux(s.linux ?? {});
}

/** Reads `<bundle>/config.json`, checks it, and resolves `root.path` against the bundle. */
export function loadSpec(bundle: string): { spec: Spec; rootfs: string } {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SysboxError('EINVAL_ARGUMENT', `cannot read the bundle's config ${file}: ${why}`);
  }
  let spec: Spec;
  try {
    spec = JSON.parse(text) as Spec;
  } catch (err) {
    throw invalidConfig(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  checkSpec(spec);
  const rootfs = path.resolve(bundle, spec.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw invalidConfig(`rootfs ${rootfs} (root.path in ${file}) does not exist`);
  }
  if (!st.isDirectory()) throw invalidConfig(`rootfs ${rootfs} is not a directory`);
  return { spec, rootfs };
}
