/**
 * Capturing inner runtime data into the container's writable layer, so that `docker commit`
 * (which pauses the container) and `docker build` (which commits a stopped one) put it in the
 * image. Only what differs from the image goes in, as hard links to the files in the host
 * directory, with a whiteout for what the container deleted: a container that changed nothing
 * adds nothing, and an inner image removed inside stays removed in the committed image.
 *
 * The captured tree lives under the mount point in the upper directory, which the container
 * never sees (its host directory is mounted over it), and is rebuilt at every capture.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import { getXattr, listXattrs, makeNode, setXattr } from '../native';
import { mountDirName, sharedEntryOf } from './inner-store';

export interface CaptureSpec {
  upper: string;
  /** Lower layers of the rootfs overlay, top first, as mountinfo lists them. */
  lower: string[];
  dirs: { destination: string; source: string }[];
  /** Root of the shared store, where the inner Docker's shared layers really are. */
  store?: string;
  /** The store entries this container was given: the only ones a capture may read. */
  shared?: string[];
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * What the image holds at `rel` (relative to the overlay root), looking through its layers, and
 * the path in the layer that holds it.
 */
function inImage(lower: string[], rel: string): { st: fs.Stats; path: string } | undefined {
  for (const layer of lower) {
    const p = path.join(layer, rel);
    const st = lstat(p);
    if (st === undefined) continue;
    return isWhiteout(st) ? undefined : { st, path: p };
  }
  return undefined;
}

function same(a: fs.Stats, b: fs.Stats, aPath: string, bPath: string): boolean {
  if ((a.mode & 0o170000) !== (b.mode & 0o170000)) return false;
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (a.isDirectory()) return sameXattrs(aPath, bPath);
  if (a.isSymbolicLink()) return fs.readlinkSync(aPath) === fs.readlinkSync(bPath);
  if (a.isCharacterDevice() || a.isBlockDevice()) return a.rdev === b.rdev;
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

const S_IFCHR = 0o020000;
const S_IFSOCK = 0o140000;

function whiteout(target: string): void {
  makeNode(target, S_IFCHR, 0);
}

/**
 * What Docker's layer tars lose, recorded beside the captured tree and put back by the first
 * start of a container of the committed image: the inner runtime's own whiteouts (a tar turns
 * them into the outer image's), sockets (a tar skips them) and xattrs other than
 * security.capability (a tar keeps no others).
 */
export interface Manifest {
  whiteouts: string[];
  sockets: { path: string; mode: number; uid: number; gid: number }[];
  xattrs: { path: string; name: string; value: string }[];
}

export const manifestName = '.sysbox-manifest.json';

/**
 * Where a shared layer really is: the inner Docker's `diff` symlink into the mounted store copy
 * leads, on the host, to the store. Captures look through it, as the container does.
 */
function throughShared(
  spec: CaptureSpec,
  p: string,
  st: fs.Stats,
  relInDir: string,
): string | undefined {
  if (spec.store === undefined || !st.isSymbolicLink()) return undefined;
  if (!/^overlay2\/[0-9a-f]{64}\/diff$/.test(relInDir)) return undefined;
  // The symlink is the container's to change: only an entry it was given is looked into.
  const entry = sharedEntryOf(fs.readlinkSync(p));
  if (entry === undefined || !(spec.shared ?? []).includes(entry)) return undefined;
  const real = path.join(spec.store, 'layers', entry);
  return fs.existsSync(real) ? real : undefined;
}

function buildManifest(source: string, spec: CaptureSpec): Manifest {
  const m: Manifest = { whiteouts: [], sockets: [], xattrs: [] };
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      let p = path.join(dir, e.name);
      const r = path.join(rel, e.name);
      if (rel === '' && (e.name === manifestName || e.name === mountDirName)) continue;
      let st = fs.lstatSync(p);
      const shared = throughShared(spec, p, st, r);
      if (shared !== undefined) {
        p = shared;
        st = fs.lstatSync(p);
      }
      if (isWhiteout(st)) m.whiteouts.push(r);
      else if (st.isSocket())
        m.sockets.push({ path: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
      if (!st.isSymbolicLink()) {
        for (const name of listXattrs(p)) {
          // security.capability travels in the tar; the rest are not the container's to set.
          if (!allowedXattr(name)) continue;
          m.xattrs.push({ path: r, name, value: getXattr(p, name).toString('base64') });
        }
      }
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(source, '');
  return m;
}

/** A manifest path, checked: it comes from an image, so it must stay inside `root`. */
function inside(root: string, rel: string): string {
  const norm = path.posix.normalize(rel);
  if (path.isAbsolute(norm) || norm === '..' || norm.startsWith('../') || norm.includes('\0')) {
    throw new Error(`manifest path ${JSON.stringify(rel)} leaves the directory`);
  }
  if (norm === '.' || norm === '') {
    throw new Error(`manifest path ${JSON.stringify(rel)} names the directory itself`);
  }
  const parent = fs.realpathSync(path.join(root, path.dirname(norm)));
  if (parent !== root && !parent.startsWith(root + '/')) {
    throw new Error(`manifest path ${JSON.stringify(rel)} leads out of the directory`);
  }
  return path.join(parent, path.basename(norm));
}

/**
 * Puts back what a manifest records, in a fresh copy of the image's directory at `dir`. Entries
 * for which `skip` is true are left out (they belong to shared layers, which got them already).
 */
export function applyManifest(dir: string, log: Logger, skip?: (rel: string) => boolean): void {
  const root = fs.realpathSync(dir);
  const file = path.join(root, manifestName);
  if (!fs.existsSync(file)) return;
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  const n = applyEntries(root, m, skip ?? (() => false));
  fs.unlinkSync(file);
  log.info(`restored ${n} entries that the image's layers could not hold in ${root}`);
}

/** Applies the manifest `m` to the tree at `root` (a real path); returns the entries applied. */
/**
 * Extended attributes a manifest may set: what capture records of an inner runtime's files.
 * Others (trusted.*, security.*) would be host root's to set on the image's behalf.
 */
function allowedXattr(name: string): boolean {
  return name.startsWith('user.') || /^system\.posix_acl_(access|default)$/.test(name);
}

/** Replaces the file at `p` with a copy of itself, so that changing it leaves other links be. */
function ownCopy(p: string): void {
  const tmp = `${p}.sysbox-copy`;
  const r = spawnSync('cp', ['-a', '--', p, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`copy ${p}: ${String(r.stderr).trim()}`);
  fs.renameSync(tmp, p);
}

export function applyEntries(
  root: string,
  m: Manifest,
  skip: (rel: string) => boolean,
  breakLinks = false,
): number {
  let n = 0;
  for (const w of m.whiteouts ?? []) {
    if (skip(w)) continue;
    const p = inside(root, w);
    fs.rmSync(p, { recursive: true, force: true });
    whiteout(p);
    n++;
  }
  for (const sock of m.sockets ?? []) {
    if (skip(sock.path)) continue;
    const p = inside(root, sock.path);
    fs.rmSync(p, { force: true });
    makeNode(p, S_IFSOCK | (sock.mode & 0o7777), 0);
    fs.lchownSync(p, sock.uid, sock.gid);
    n++;
  }
  for (const x of m.xattrs ?? []) {
    if (skip(x.path)) continue;
    // Capture records no others; an image that lists them gets none of them.
    if (!allowedXattr(x.name)) continue;
    const p = inside(root, x.path);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (breakLinks && !st.isDirectory() && st.nlink > 1) ownCopy(p);
    setXattr(p, x.name, Buffer.from(x.value, 'base64'));
    n++;
  }
  return n;
}

/** A new directory like `src`: owner, mode and extended attributes. */
function makeDirLike(src: string, dst: string, st: fs.Stats): void {
  fs.mkdirSync(dst);
  fs.chownSync(dst, st.uid, st.gid);
  fs.chmodSync(dst, st.mode & 0o7777);
  for (const name of listXattrs(src)) setXattr(dst, name, getXattr(src, name));
}

function sameXattrs(a: string, b: string): boolean {
  const names = listXattrs(a).sort();
  const other = listXattrs(b).sort();
  if (names.join('\0') !== other.join('\0')) return false;
  return names.every((n) => getXattr(a, n).equals(getXattr(b, n)));
}

function copyNode(src: string, dst: string, st: fs.Stats): void {
  if (st.isDirectory()) {
    makeDirLike(src, dst, st);
  } else if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
    fs.lchownSync(dst, st.uid, st.gid);
  } else {
    // Regular files, fifos, sockets and device nodes alike: a hard link is the same inode, with
    // its owner, mode, xattrs, capabilities and link count, and costs no data.
    fs.linkSync(src, dst);
  }
}

/**
 * Writes into `out` (in the upper directory) what makes the image's tree at `rel` equal to the
 * host directory `src`. Returns the number of entries written.
 */
function diffInto(
  src: string,
  out: string,
  rel: string,
  lower: string[],
  spec: CaptureSpec,
  top = rel,
): number {
  let written = 0;
  const names = new Set(fs.readdirSync(src));
  if (rel === top) names.delete(mountDirName);
  for (const name of names) {
    const s = path.join(src, name);
    const st = fs.lstatSync(s);
    // A shared layer is read-only and was made from the image: nothing of it to capture, and
    // its files must never be linked into the writable layer, where the container could
    // reach them. What it holds that tars lose goes in the manifest (buildManifest).
    if (throughShared(spec, s, st, path.relative(top, path.join(rel, name)))) continue;
    const image = inImage(lower, path.join(rel, name));
    const d = path.join(out, name);
    if (image && same(st, image.st, s, image.path)) {
      if (st.isDirectory()) {
        const before = written;
        makeDirLike(s, d, st);
        written += diffInto(s, d, path.join(rel, name), lower, spec, top);
        // A directory with no change below it is left out again.
        if (written === before) fs.rmdirSync(d);
      }
      continue;
    }
    // What differs replaces what the image has by this name, whatever kind that is.
    if (st.isDirectory()) {
      if (image?.st.isDirectory()) {
        makeDirLike(s, d, st);
        diffInto(s, d, path.join(rel, name), lower, spec, top);
      } else {
        copyTree(s, d);
      }
    } else {
      copyNode(s, d, st);
    }
    written++;
  }
  const imageNames = new Set<string>();
  for (const layer of lower) {
    let list: string[] = [];
    try {
      list = fs.readdirSync(path.join(layer, rel));
    } catch {
      continue;
    }
    for (const n of list) imageNames.add(n);
  }
  for (const name of imageNames) {
    if (names.has(name) || !inImage(lower, path.join(rel, name))) continue;
    whiteout(path.join(out, name));
    written++;
  }
  return written;
}

function copyTree(src: string, dst: string): void {
  const st = fs.lstatSync(src);
  copyNode(src, dst, st);
  if (!st.isDirectory()) return;
  for (const name of fs.readdirSync(src)) copyTree(path.join(src, name), path.join(dst, name));
}

/**
 * Makes sure `base/rel` is a directory reached through directories only, making what is
 * missing. The writable layer is the container's: a symlink it left on the way would send the
 * capture's removals and links to a host path. The container is frozen or stopped meanwhile.
 */
function makePlainDirs(base: string, rel: string): void {
  let p = base;
  for (const part of rel.split('/').filter(Boolean)) {
    p = path.join(p, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(p);
    } catch {
      fs.mkdirSync(p, { mode: 0o755 });
      continue;
    }
    if (!st.isDirectory()) {
      throw new Error(`${p} in the container's writable layer is not a directory; not captured`);
    }
  }
}

/**
 * Rebuilds the captured tree of every special directory in the upper directory. The container
 * must not change the host directories meanwhile: it is frozen (pause) or stopped (delete).
 */
export function capture(spec: CaptureSpec, log: Logger): void {
  const marked = translateOpaque(spec);
  if (marked > 0) log.info(`marked ${marked} opaque directories for Docker's overlay`);
  for (const { destination, source } of spec.dirs) {
    const rel = destination.replace(/^\//, '');
    const out = path.join(spec.upper, rel);
    const started = Date.now();
    makePlainDirs(spec.upper, path.dirname(rel));
    fs.rmSync(out, { recursive: true, force: true });
    makeDirLike(source, out, fs.lstatSync(source));
    const n = diffInto(source, out, rel, spec.lower, spec);
    const manifest = buildManifest(source, spec);
    const count = manifest.whiteouts.length + manifest.sockets.length + manifest.xattrs.length;
    if (count > 0) {
      fs.rmSync(path.join(out, manifestName), { force: true });
      fs.writeFileSync(path.join(out, manifestName), JSON.stringify(manifest), { mode: 0o600 });
    }
    log.info(`captured ${n} changed entries of ${destination} in ${Date.now() - started} ms`);
  }
}

/**
 * The overlay inside the container runs with userxattr, so a directory it replaced is marked
 * `user.overlay.opaque`; Docker on the host reads `trusted.overlay.opaque`. The mark is copied so
 * that a directory deleted and made again inside does not get its old contents back in a commit.
 * The captured trees are skipped: they are the runtime's own.
 */
export function translateOpaque(spec: CaptureSpec): number {
  const skip = new Set(spec.dirs.map((d) => path.join(spec.upper, d.destination)));
  let marked = 0;
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (skip.has(p)) continue;
      if (listXattrs(p).includes('user.overlay.opaque')) {
        setXattr(p, 'trusted.overlay.opaque', getXattr(p, 'user.overlay.opaque'));
        marked++;
      }
      walk(p);
    }
  };
  walk(spec.upper);
  return marked;
}

/**
 * The other direction: image layers mark opaque directories with `trusted.overlay.opaque`,
 * which the overlay inside the container (with userxattr) does not read, so a directory that a
 * later layer replaced would show the earlier layer's files. Each layer gets the matching
 * `user.overlay.opaque` marks once; Docker ignores user.* marks, and a marker file beside the
 * layer records that the walk was done.
 */
export function mirrorOpaqueInLayers(lower: string[], log: Logger): void {
  for (const given of lower) {
    // Docker names layers by short symlinks (overlay2/l/ID); the marker goes beside the target.
    const layer = fs.realpathSync(given);
    const marker = path.join(path.dirname(layer), '.sysbox-opaque-mirrored');
    if (fs.existsSync(marker)) continue;
    let marked = 0;
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        const names = listXattrs(p);
        if (names.includes('trusted.overlay.opaque') && !names.includes('user.overlay.opaque')) {
          setXattr(p, 'user.overlay.opaque', getXattr(p, 'trusted.overlay.opaque'));
          marked++;
        }
        walk(p);
      }
    };
    walk(layer);
    fs.writeFileSync(marker, '');
    if (marked > 0) log.info(`marked ${marked} opaque directories of layer ${layer} for userxattr`);
  }
}
