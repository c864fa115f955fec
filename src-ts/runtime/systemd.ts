/**
 * What a container whose process is systemd needs from the runtime, with no flag from the
 * user: systemd as PID 1 expects tmpfs on /run and /run/lock, learns from `container=` in its
 * environment that it runs in a container (and so skips what only a machine does), and halts
 * on SIGRTMIN+3, not on the SIGTERM that `docker stop` sends by default (for systemd, SIGTERM
 * means: re-execute yourself).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Spec } from './spec';

/** The value systemd-detect-virt reports as `container-other`. */
const containerEnv = 'container=sysbox';

/** glibc's SIGRTMIN is 34; systemd halts on SIGRTMIN+3. */
export const systemdHaltSignal = 37;
const sigterm = 15;

/**
 * Resolves `file` as the container will see it: absolute symlinks start again at the rootfs,
 * and `..` stops there. Undefined when a link is missing or the chain is too long.
 */
function resolveInRoot(rootfs: string, file: string): string | undefined {
  let rel = path.posix.normalize('/' + file);
  for (let hops = 0; hops < 40; hops++) {
    const parts = rel.split('/').filter(Boolean);
    let done = '/';
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const next = path.posix.join(done, parts[i]);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(rootfs, next));
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink()) {
        const target = fs.readlinkSync(path.join(rootfs, next));
        const base = target.startsWith('/') ? '/' : done;
        rel = path.posix.normalize(path.posix.join(base, target, ...parts.slice(i + 1)));
        changed = true;
        break;
      }
      done = next;
    }
    if (!changed) return rel;
  }
  return undefined;
}

/** Whether the container's process is systemd: its program, links followed, is `systemd`. */
export function runsSystemd(spec: Spec, rootfs: string): boolean {
  const program = spec.process?.args?.[0];
  if (!program) return false;
  const candidates = program.includes('/')
    ? [program]
    : ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => path.posix.join(d, program));
  for (const candidate of candidates) {
    const resolved = resolveInRoot(rootfs, candidate);
    if (resolved !== undefined) return path.posix.basename(resolved) === 'systemd';
  }
  return false;
}

/** Adds the mounts and the environment systemd needs, where the config does not set them. */
export function prepareForSystemd(spec: Spec): void {
  const mounts: Mount[] = spec.mounts ?? [];
  const has = (dest: string): boolean =>
    mounts.some((m) => path.posix.normalize(m.destination) === dest);
  const tmpfs = (destination: string, options: string[]): Mount => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options,
  });
  const added: Mount[] = [];
  if (!has('/run')) added.push(tmpfs('/run', ['nosuid', 'nodev', 'mode=755', 'size=64m']));
  if (!has('/run/lock')) {
    added.push(tmpfs('/run/lock', ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=4m']));
  }
  // Before anything the config mounts below /run, which they would otherwise hide.
  const below = mounts.findIndex((m) => path.posix.normalize(m.destination).startsWith('/run/'));
  mounts.splice(below < 0 ? mounts.length : below, 0, ...added);
  spec.mounts = mounts;
  const env = spec.process!.env ?? [];
  if (!env.some((e) => e.startsWith('container='))) env.push(containerEnv);
  spec.process!.env = env;
}

/** The signal to send PID 1 for `signal`: SIGTERM asks systemd to halt. */
export function signalForInit(signal: number, systemd: boolean | undefined): number {
  return systemd && signal === sigterm ? systemdHaltSignal : signal;
}
