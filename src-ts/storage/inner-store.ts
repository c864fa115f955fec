/**
 * The shared store of preloaded inner images. An inner Docker never writes an image layer: it
 * only stacks it under its containers. So each layer that an image preloads is kept here once,
 * and every container of every image that holds the same layer mounts that one copy, read-only
 * and locked, where its inner Docker looks for it.
 *
 * A layer is keyed by the SHA-256 of its whole tree (native hashTree), never by the ID that the
 * image gives it: an image that claims another's layer ID with other bytes gets its own entry.
 * Where the image holds a layer in one of its own layers on the same file system, the entry is
 * made of hard links to those files, so the first container moves no data either.
 *
 * Layout under the store root (see storeBeside; for Docker /var/lib/docker/sysbox-inner-images):
 *
 *   layers/HASH/        the layer's tree; nothing writes it once it is in place
 *   users/HASH/KEY      one file per container directory that uses the layer
 *   index/KEY           the hash of the tree made from one image layer, so that later
 *                       containers of that image skip the hashing
 *   tmp/PID-N/          trees being built; a crash leaves them to the next collection
 *   lock                taken for every change, so that collection never frees a layer that a
 *                       create is about to use
 *
 * A user is the host directory that backs a container's /var/lib/docker. It lives as long as the
 * container (Docker removes it with the container's layer, without telling the runtime), so a use
 * is live while that directory exists with the inode recorded, or while the create that wrote
 * the record still runs. Every create, and `sysbox-runc store gc`, frees what no live use holds.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError, systemError } from '../errors';
import type { Logger } from '../log';
import { hashTree, lockFile } from '../native';
import { applyEntries, type Manifest } from './capture';
import { procStat } from '../runtime/state';

/** The store that `sysbox-runc store` looks at by default: Docker's. */
export const defaultStoreRoot = '/var/lib/docker/sysbox-inner-images';

/**
 * The store for a container whose rootfs overlay has upper directory `upper`: in the engine's
 * data directory, beside its layer directory (Docker: /var/lib/docker/overlay2/ID/diff gives
 * /var/lib/docker/sysbox-inner-images), so that store entries can be hard links to the image's
 * files, which only works within one mount.
 */
export function storeBeside(upper: string): string {
  return path.join(path.dirname(path.dirname(path.dirname(upper))), 'sysbox-inner-images');
}

/** Where a shared layer is mounted, relative to the inner Docker's data directory. */
export const mountDirName = '.sysbox-shared';

const hashPattern = /^[0-9a-f]{64}$/;

export interface Use {
  path: string;
  ino: number;
  pid: number;
  pidStartTime: number;
}

export interface StoreEntry {
  hash: string;
  bytes: number;
  users: (Use & { live: boolean })[];
}

function keyOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function run(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(stderr.trim() || `${program} exited ${code}`)),
    );
  });
}

export class InnerStore {
  constructor(readonly root: string) {}

  layerPath(hash: string): string {
    if (!hashPattern.test(hash)) throw new SysboxError('EINVAL_ARGUMENT', `bad layer hash ${hash}`);
    return path.join(this.root, 'layers', hash);
  }

  private open(): void {
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      for (const d of ['layers', 'users', 'index', 'tmp']) {
        fs.mkdirSync(path.join(this.root, d), { recursive: true, mode: 0o700 });
      }
    } catch (err) {
      throw systemError(`create the inner image store ${this.root}`, err);
    }
  }

  private locked<T>(fn: () => T): T {
    const fd = lockFile(path.join(this.root, 'lock'));
    try {
      return fn();
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Puts one preloaded layer in the store and records `user` as using it; returns its hash.
   * `merged` is the layer as the image shows it; `linkFrom`, when given, is the one image layer
   * directory that holds all of it, whose files can be linked instead of copied. `manifest` holds
   * what the image's layers could not (see capture.ts), with paths relative to the layer.
   */
  async share(
    source: { merged: string; linkFrom?: string; manifest: Manifest },
    user: string,
    userIno: number,
    log: Logger,
  ): Promise<string> {
    this.open();
    const key = this.indexKey(source);
    const known = key && readText(path.join(this.root, 'index', key))?.trim();
    if (known && hashPattern.test(known)) {
      const hash = this.locked(() =>
        fs.existsSync(this.layerPath(known)) ? (this.addUse(known, user, userIno), known) : '',
      );
      if (hash) return hash;
    }

    const started = Date.now();
    const tmp = path.join(this.root, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(tmp, { mode: 0o700 });
      let linked = false;
      if (source.linkFrom !== undefined) {
        try {
          await run('cp', ['-a', '--link', `${source.linkFrom}/.`, tmp]);
          linked = true;
        } catch (err) {
          // Another mount (EXDEV), or a file system without hard links: copy instead.
          log.debug(`link ${source.linkFrom} into the store: ${(err as Error).message}`);
          fs.rmSync(tmp, { recursive: true, force: true });
          fs.mkdirSync(tmp, { mode: 0o700 });
        }
      }
      if (!linked) await run('cp', ['-a', '--sparse=always', `${source.merged}/.`, tmp]);
      const top = fs.lstatSync(source.merged);
      fs.chownSync(tmp, top.uid, top.gid);
      fs.chmodSync(tmp, top.mode & 0o7777);
      fs.utimesSync(tmp, top.atime, top.mtime);
      applyEntries(fs.realpathSync(tmp), source.manifest, () => false);
      const hash = await hashTree(tmp);
      this.locked(() => {
        if (fs.existsSync(this.layerPath(hash))) fs.rmSync(tmp, { recursive: true, force: true });
        else fs.renameSync(tmp, this.layerPath(hash));
        if (key) writeAtomic(path.join(this.root, 'index', key), hash);
        this.addUse(hash, user, userIno);
      });
      const how = linked ? 'linked' : 'copied';
      log.info(`${how} inner layer ${source.merged} as ${hash} in ${Date.now() - started} ms`);
      return hash;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw systemError(`share the inner image layer ${source.merged}`, err);
    }
  }

  /**
   * The index key of an image layer directory: its real path and inode identify it on this host
   * (an image cannot choose them), and its change time moves if anyone rewrites it.
   */
  private indexKey(source: { linkFrom?: string; manifest: Manifest }): string | undefined {
    if (source.linkFrom === undefined) return undefined;
    const real = fs.realpathSync(source.linkFrom);
    const st = fs.lstatSync(real, { bigint: true });
    const fixes = JSON.stringify(source.manifest);
    return keyOf([real, st.dev, st.ino, st.ctimeNs, fixes].join('\0'));
  }

  private addUse(hash: string, user: string, userIno: number): void {
    const dir = path.join(this.root, 'users', hash);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const use: Use = {
      path: user,
      ino: userIno,
      pid: process.pid,
      pidStartTime: procStat(process.pid)?.startTime ?? 0,
    };
    writeAtomic(path.join(dir, keyOf(user).slice(0, 32)), JSON.stringify(use));
  }

  /**
   * Records that `user` uses exactly `hashes` now (an inner `docker rmi` drops one), and checks
   * that each is still in the store. Throws if one is missing.
   */
  use(user: string, hashes: string[]): void {
    this.open();
    const ino = fs.lstatSync(user).ino;
    this.locked(() => {
      for (const h of hashes) {
        if (!fs.existsSync(this.layerPath(h))) {
          throw new SysboxError(
            'ESYSTEM',
            `inner image layer ${h} that ${user} uses is missing from ${this.root}`,
          );
        }
        this.addUse(h, user, ino);
      }
      const keep = new Set(hashes);
      const mine = keyOf(user).slice(0, 32);
      for (const h of fs.readdirSync(path.join(this.root, 'users'))) {
        if (!keep.has(h)) fs.rmSync(path.join(this.root, 'users', h, mine), { force: true });
      }
    });
  }

  private live(u: Use): boolean {
    try {
      if (fs.lstatSync(u.path).ino === u.ino) return true;
    } catch {
      // Gone with its container, or not made yet by a create that is still running.
    }
    if (u.pid === process.pid) return true;
    return procStat(u.pid)?.startTime === u.pidStartTime;
  }

  list(): StoreEntry[] {
    if (!fs.existsSync(path.join(this.root, 'layers'))) return [];
    return fs
      .readdirSync(path.join(this.root, 'layers'))
      .filter((h) => hashPattern.test(h))
      .map((hash) => ({ hash, bytes: treeBytes(this.layerPath(hash)), users: this.usesOf(hash) }));
  }

  private usesOf(hash: string): (Use & { live: boolean })[] {
    const dir = path.join(this.root, 'users', hash);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: (Use & { live: boolean })[] = [];
    for (const n of names) {
      const text = readText(path.join(dir, n));
      if (text === undefined || n.includes('.tmp-')) continue;
      try {
        const u = JSON.parse(text) as Use;
        out.push({ ...u, live: this.live(u) });
      } catch {
        out.push({ path: '?', ino: 0, pid: 0, pidStartTime: 0, live: false });
      }
    }
    return out;
  }

  /** Frees the layers no live use holds, and the remains of builds that crashed. */
  collect(log: Logger): { freed: string[] } {
    if (!fs.existsSync(path.join(this.root, 'layers'))) return { freed: [] };
    return this.locked(() => {
      const freed: string[] = [];
      for (const hash of fs.readdirSync(path.join(this.root, 'layers'))) {
        if (!hashPattern.test(hash)) continue;
        const dir = path.join(this.root, 'users', hash);
        for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
          const file = path.join(dir, n);
          const text = readText(file);
          let u: Use | undefined;
          try {
            u = text === undefined ? undefined : (JSON.parse(text) as Use);
          } catch {
            u = undefined;
          }
          if (u === undefined || !this.live(u)) fs.rmSync(file, { force: true });
        }
        if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) continue;
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(this.layerPath(hash), { recursive: true, force: true });
        freed.push(hash);
      }
      const gone = new Set(freed);
      for (const k of fs.readdirSync(path.join(this.root, 'index'))) {
        const h = readText(path.join(this.root, 'index', k))?.trim();
        if (h === undefined || gone.has(h) || !fs.existsSync(this.layerPath(h))) {
          fs.rmSync(path.join(this.root, 'index', k), { force: true });
        }
      }
      for (const t of fs.readdirSync(path.join(this.root, 'tmp'))) {
        const pid = Number(t.split('-')[0]);
        if (pid !== process.pid && procStat(pid) === undefined) {
          fs.rmSync(path.join(this.root, 'tmp', t), { recursive: true, force: true });
        }
      }
      if (freed.length > 0) log.info(`freed ${freed.length} unused inner image layers`);
      return { freed };
    });
  }
}

/** Bytes of the tree's blocks, each inode counted once. */
function treeBytes(root: string): number {
  const seen = new Set<bigint>();
  let total = 0;
  const walk = (p: string): void => {
    const st = fs.lstatSync(p, { bigint: true });
    if (seen.has(st.ino)) return;
    seen.add(st.ino);
    total += Number(st.blocks) * 512;
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(root);
  return total;
}

/** The store hash that a `diff` symlink of the inner Docker points at, if it is one of ours. */
export function sharedHashOf(link: string): string | undefined {
  const m = /^\.\.\/\.\.\/\.sysbox-shared\/([0-9a-f]{64})$/.exec(link);
  return m?.[1];
}

export function sharedLink(hash: string): string {
  return `../../${mountDirName}/${hash}`;
}
