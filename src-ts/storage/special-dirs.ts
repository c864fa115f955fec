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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError, systemError } from '../errors';
import { faultPoint } from '../fault';
import type { Logger } from '../log';
import { applyManifest, manifestName, type Manifest } from './capture';
import { mountDirName, runTool, sharedEntryOf, sharedLink, type InnerStore } from './inner-store';

/** How the first start of a container shares its image's inner image layers. */
export interface Sharing {
  store: InnerStore;
  /** Lower layers of the rootfs overlay, top first. */
  lower: string[];
}

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

function copyTree(src: string, dst: string, parts: string[] = ['.']): Promise<void> {
  // cp -a keeps owners, modes, hard links, xattrs, special files and sparse files as they are.
  // With parts, it copies only those paths below src, making their parents as they were.
  const args = ['-a', '--sparse=always'];
  // Names come from the image: `./` and `--` keep one that starts with `-` from being read
  // as an option.
  if (parts.length === 1 && parts[0] === '.') args.push('--', src + '/.', dst);
  else args.push('--parents', '--', ...parts.map((p) => `./${p}`), dst);
  // A whiteout alone in a directory that only one layer holds is listed by overlay but cannot
  // be opened; what the image had there was deleted, and the manifest puts back what must be.
  const tolerated = (line: string): boolean =>
    /^cp: cannot stat '.*': No such file or directory$/.test(line);
  return runTool('cp', args, { cwd: src, tolerated });
}

function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, manifestName), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The entries of `m` below `prefix`, with paths relative to it. */
function manifestPart(m: Manifest | undefined, prefix: string): Manifest {
  const under = <T extends { path: string }>(xs: T[] | undefined): T[] =>
    (xs ?? [])
      .filter((x) => x.path.startsWith(prefix))
      .map((x) => ({ ...x, path: x.path.slice(prefix.length) }));
  return {
    whiteouts: (m?.whiteouts ?? [])
      .filter((w) => w.startsWith(prefix))
      .map((w) => w.slice(prefix.length)),
    sockets: under(m?.sockets),
    xattrs: under(m?.xattrs),
  };
}

/**
 * The image layers of the inner Docker: the cache IDs in its layer database whose `diff` is a
 * directory, each with its chain ID. Both come from the image, so they only name what to look
 * at: sharing is decided by where the files are on the host, or by their hash.
 */
/**
 * `base/rel` if every component of `rel` below `base` is a directory and none is a symlink. The
 * image controls these trees, and a symlink in one would send the runtime to a host path.
 */
function plainDir(base: string, rel: string): string | undefined {
  let p = base;
  for (const part of rel.split('/').filter(Boolean)) {
    p = path.join(p, part);
    try {
      const st = fs.lstatSync(p);
      if (!st.isDirectory()) return undefined;
    } catch {
      return undefined;
    }
  }
  return p;
}

function innerLayerIds(docker: string): Map<string, string> {
  const db = path.join(docker, 'image', 'overlay2', 'layerdb', 'sha256');
  let chains: string[] = [];
  try {
    chains = fs.readdirSync(db);
  } catch {
    return new Map();
  }
  const ids = new Map<string, string>();
  for (const chain of chains.sort()) {
    let id: string;
    try {
      id = fs.readFileSync(path.join(db, chain, 'cache-id'), 'utf8').trim();
    } catch {
      continue;
    }
    if (!/^[0-9a-f]{64}$/.test(id) || ids.has(id)) continue;
    // A layer the database names but the image does not hold (as plain directories) is not
    // shared.
    if (plainDir(docker, path.join('overlay2', id, 'diff'))) ids.set(id, chain);
  }
  return ids;
}

/**
 * Fills `tmp` from the image's inner Docker directory `docker`, with each image layer of the
 * inner Docker put in the shared store and left as a symlink to where the store's copy is
 * mounted. Everything else (metadata, containers, volumes) is copied, as without sharing.
 */
async function fillSharingLayers(
  docker: string,
  rel: string,
  tmp: string,
  user: string,
  sharing: Sharing,
  log: Logger,
): Promise<void> {
  const ids = innerLayerIds(docker);
  const manifest = readManifest(docker);
  const userIno = fs.lstatSync(tmp).ino;
  const shared = new Map<string, string>();
  const shareOne = async (id: string, chain: string): Promise<void> => {
    const layerRel = path.join('overlay2', id, 'diff');
    const inLayers = sharing.lower.filter((l) => plainDir(l, path.join(rel, layerRel)));
    // Not in any image layer (only in the container's own upper directory): not the image's.
    if (inLayers.length === 0) return;
    try {
      const entry = await sharing.store.share(
        {
          merged: path.join(docker, layerRel),
          layers: inLayers.map((l) => path.join(l, rel, layerRel)),
          manifest: manifestPart(manifest, layerRel + '/'),
          claim: `docker-chain:${chain}`,
        },
        user,
        userIno,
        log,
      );
      shared.set(id, entry);
    } catch (err) {
      log.warn(`inner layer ${id} is copied, not shared: ${(err as Error).message}`);
    }
  };
  // A few at a time: each is mostly a cp of links or a hash, which the cores can overlap.
  const queue = [...ids];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) await shareOne(...next);
  };
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));

  faultPoint('create:shared');
  // One cp for the rest, so that hard links between copied files stay links.
  const parts: string[] = [];
  // Only a plain overlay2 directory is looked into; anything else there (a symlink to a host
  // path, say) is copied as it is, like the rest.
  const overlay = plainDir(docker, 'overlay2') !== undefined;
  for (const name of fs.readdirSync(docker)) {
    if (name === mountDirName || (name === 'overlay2' && overlay)) continue;
    parts.push(name);
  }
  if (overlay) {
    copyDirLike(path.join(docker, 'overlay2'), path.join(tmp, 'overlay2'));
    for (const name of fs.readdirSync(path.join(docker, 'overlay2'))) {
      if (!shared.has(name)) {
        parts.push(path.join('overlay2', name));
        continue;
      }
      copyDirLike(path.join(docker, 'overlay2', name), path.join(tmp, 'overlay2', name));
      for (const part of fs.readdirSync(path.join(docker, 'overlay2', name))) {
        if (part !== 'diff') parts.push(path.join('overlay2', name, part));
      }
    }
  }
  if (parts.length > 0) await copyTree(docker, tmp, parts);
  for (const [id, entry] of shared) {
    fs.symlinkSync(sharedLink(entry), path.join(tmp, 'overlay2', id, 'diff'));
    fs.mkdirSync(path.join(tmp, mountDirName, entry), { recursive: true, mode: 0o700 });
  }
  if (shared.size > 0) log.info(`shared ${shared.size} inner image layers of ${docker}`);
}

/** True if `rel` lies in an inner layer that the store holds (its `diff` is our symlink). */
function underSharedLayer(root: string, rel: string): boolean {
  const m = /^overlay2\/([0-9a-f]{64})\/diff\//.exec(rel);
  if (!m) return false;
  try {
    return sharedEntryOf(fs.readlinkSync(path.join(root, 'overlay2', m[1], 'diff'))) !== undefined;
  } catch {
    return false;
  }
}

/** A new directory with the owner, mode and times of `src`. */
function copyDirLike(src: string, dst: string): void {
  const st = fs.lstatSync(src);
  fs.mkdirSync(dst);
  fs.chownSync(dst, st.uid, st.gid);
  fs.chmodSync(dst, st.mode & 0o7777);
  fs.utimesSync(dst, st.atime, st.mtime);
}

/**
 * Makes the host directory for `dest`, filled on first use with what the image holds there
 * (its preloaded inner images), and kept as it is on later starts.
 */
async function prepare(
  base: string,
  rootfs: string,
  dest: string,
  sharing: Sharing | undefined,
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
      if (sharing && dest === '/var/lib/docker') {
        const rel = path.relative(fs.realpathSync(rootfs), inImage);
        await fillSharingLayers(inImage, rel, tmp, source, sharing, log);
      } else {
        await copyTree(inImage, tmp);
      }
      const s = fs.statSync(inImage);
      fs.chownSync(tmp, s.uid, s.gid);
      fs.chmodSync(tmp, s.mode & 0o7777);
      applyManifest(tmp, log, (rel) => underSharedLayer(tmp, rel));
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
  sharing: Sharing | undefined,
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
    for (const { dir } of wanted) out.push(await prepare(base, rootfs, dir, sharing, log));
  } catch (err) {
    removeFresh(out);
    throw err instanceof SysboxError ? err : systemError('prepare special directories', err);
  }
  return out;
}

export function removeFresh(mounts: SpecialMount[]): void {
  for (const m of mounts) if (m.fresh) fs.rmSync(m.source, { recursive: true, force: true });
}

/** The store entries that the inner Docker in host directory `source` points its layers at. */
export function sharedLayersIn(source: string): string[] {
  const dir = plainDir(source, 'overlay2');
  if (dir === undefined) return [];
  const hashes = new Set<string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of names) {
    let link: string;
    try {
      link = fs.readlinkSync(path.join(dir, n, 'diff'));
    } catch {
      continue;
    }
    const h = sharedEntryOf(link);
    if (h !== undefined) hashes.add(h);
  }
  return [...hashes].sort();
}
