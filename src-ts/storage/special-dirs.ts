/**
 * Backing for the directories where inner runtimes keep their data. Overlay cannot be the upper
 * layer of another overlay, so an inner Docker on the container's overlay rootfs cannot work;
 * each of these directories gets a plain host directory instead.
 *
 * The host directory sits beside the upper directory of the container's rootfs (for Docker,
 * `/var/lib/docker/overlay2/<layer>/sysbox/`). That ties its life to the container's writable
 * layer without a daemon watching: it outlives `docker stop` and `docker start`, and `docker rm`
 * removes it with the layer.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError, systemError } from '../errors';
import type { Logger } from '../log';
import { applyManifest } from './capture';

/**
 * Each directory is backed when the image holds it or the program that uses it, so that an image
 * without an inner runtime gets no extra directories in its rootfs.
 */
export const specialDirs: { dir: string; program: string }[] = [
  { dir: '/var/lib/docker', program: 'dockerd' },
  { dir: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs', program: 'containerd' },
  { dir: '/var/lib/kubelet', program: 'kubelet' },
  { dir: '/var/lib/buildkit', program: 'buildkitd' },
];

const binDirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function imageUses(rootfs: string, dir: string, program: string): boolean {
  const has = (p: string): boolean => {
    try {
      fs.lstatSync(path.join(rootfs, p));
      return true;
    } catch {
      return false;
    }
  };
  return has(dir) || binDirs.some((b) => has(path.join(b, program)));
}

export interface SpecialMount {
  destination: string;
  source: string;
  /** True when this create made the directory, so a failed create must remove it. */
  fresh: boolean;
}

/**
 * The host path of `dest` in the rootfs, or undefined if it is missing or a symlink on the way
 * leads out of the rootfs: an image must never make the runtime copy a host directory.
 */
function insideRootfs(rootfs: string, dest: string): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync(path.join(rootfs, dest));
  } catch {
    return undefined;
  }
  return real.startsWith(rootfs + '/') ? real : undefined;
}

function volumeName(dest: string): string {
  return dest.replace(/^\//, '').replace(/\//g, '-');
}

function copyTree(src: string, dst: string): Promise<void> {
  // cp -a keeps owners, modes, hard links, xattrs, special files and sparse files as they are.
  return new Promise((resolve, reject) => {
    const cp = spawn('cp', ['-a', '--sparse=always', src + '/.', dst], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    cp.stderr.on('data', (d) => (stderr += d));
    cp.on('error', reject);
    // A whiteout alone in a directory that only one layer holds is listed by overlay but cannot
    // be opened; what the image had there was deleted, and the manifest puts back what must be.
    const vanished = (line: string): boolean =>
      /^cp: cannot stat '.*': No such file or directory$/.test(line);
    cp.on('close', (code) => {
      const lines = stderr.trim().split('\n').filter(Boolean);
      if (code === 0 || (lines.length > 0 && lines.every(vanished))) resolve();
      else reject(new Error(stderr.trim() || `cp exited with ${code}`));
    });
  });
}

/**
 * Makes the host directory for `dest`, filled on first use with what the image holds there
 * (its preloaded inner images), and kept as it is on later starts.
 */
async function prepare(
  base: string,
  rootfs: string,
  dest: string,
  log: Logger,
): Promise<SpecialMount> {
  const source = path.join(base, volumeName(dest));
  if (fs.existsSync(source)) return { destination: dest, source, fresh: false };
  const inImage = insideRootfs(rootfs, dest);
  const tmp = `${source}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { mode: 0o700 });
  try {
    if (inImage !== undefined && fs.lstatSync(inImage).isDirectory()) {
      const started = Date.now();
      await copyTree(inImage, tmp);
      const s = fs.statSync(inImage);
      fs.chownSync(tmp, s.uid, s.gid);
      fs.chmodSync(tmp, s.mode & 0o7777);
      applyManifest(tmp, log);
      log.info(`copied the image's ${dest} into ${source} in ${Date.now() - started} ms`);
    }
    // Rename last: a directory at `source` is always complete, even after a crash.
    fs.renameSync(tmp, source);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw systemError(`prepare the host directory for ${dest}`, err);
  }
  return { destination: dest, source, fresh: true };
}

/**
 * Prepares every special directory the config does not already mount something over. `upper` is
 * the upper directory of the container's overlay rootfs.
 */
export async function prepareSpecialDirs(
  upper: string,
  rootfs: string,
  configured: Set<string>,
  log: Logger,
): Promise<SpecialMount[]> {
  const base = path.join(path.dirname(upper), 'sysbox');
  const wanted = specialDirs.filter(
    ({ dir, program }) => !configured.has(dir) && imageUses(rootfs, dir, program),
  );
  if (wanted.length === 0) return [];
  try {
    fs.mkdirSync(base, { mode: 0o700, recursive: true });
  } catch (err) {
    throw systemError(`create ${base}`, err);
  }
  const out: SpecialMount[] = [];
  try {
    for (const { dir } of wanted) out.push(await prepare(base, rootfs, dir, log));
  } catch (err) {
    removeFresh(out);
    throw err instanceof SysboxError ? err : systemError('prepare special directories', err);
  }
  return out;
}

export function removeFresh(mounts: SpecialMount[]): void {
  for (const m of mounts) if (m.fresh) fs.rmSync(m.source, { recursive: true, force: true });
}
