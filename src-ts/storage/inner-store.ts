/**
 * The shared store of preloaded inner images. An inner Docker never writes an image layer: it
 * only stacks it under its containers. So each layer that an image preloads is kept here once,
 * and every container that holds the same layer mounts that one copy, read-only and locked,
 * where its inner Docker looks for it.
 *
 * An entry is made from the image layer directories on the host that hold the inner layer, of
 * hard links to their files where the store is on their mount (else a copy), and is found again
 * by their identity: real path, inode and change time, which the host gives and no image can
 * choose. So containers of one image share without hashing anything, and the first container of
 * an image moves no data. Two different images share an entry only once the runtime has hashed
 * both trees (native hashTree: every name, byte and attribute) and found them equal. Which
 * entries are worth hashing against a new layer is picked by the inner layer's chain ID, a claim
 * of the image: a claim can make the runtime hash, never share. A crafted image that claims
 * another's layer with other bytes gets an entry of its own.
 *
 * Layout under the store root (see storeBeside; for Docker /var/lib/docker/sysbox-inner-images):
 *
 *   layers/NAME/         an inner layer's tree; nothing writes it once it is in place
 *   index/KEY            the entry made from the image layer directories that KEY identifies
 *   claims/CLAIM/NAME    entries whose layer an image called CLAIM
 *   hashes/NAME          the tree hash of an entry, once computed
 *   users/NAME/USER      one file per container directory that uses the entry
 *   tmp/PID-N/           trees being built; a crash leaves them to the next collection
 *   lock                 taken for every change, so that collection never frees an entry that a
 *                        create is about to use
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
import { hashTree, lockFile, lockFileAsync } from '../native';
import { isRunning, procStat } from '../runtime/state';
import { applyEntries, type Manifest } from './capture';

/** The store that `sysbox-runc store` looks at by default: Docker's. */
export const defaultStoreRoot = '/var/lib/docker/sysbox-inner-images';

/**
 * The store for a container whose rootfs overlay has upper directory `upper`: in the engine's
 * data directory, beside its layer directory (Docker: /var/lib/docker/overlay2/ID/diff gives
 * /var/lib/docker/sysbox-inner-images), so that entries can be hard links to the image's files,
 * which works only within one mount.
 */
export function storeBeside(upper: string): string {
  return path.join(path.dirname(path.dirname(path.dirname(upper))), 'sysbox-inner-images');
}

/** Where a shared layer is mounted, relative to the inner Docker's data directory. */
export const mountDirName = '.sysbox-shared';

const namePattern = /^[0-9a-f]{64}$/;

export interface LayerSource {
  /** The layer as the image shows it. */
  merged: string;
  /** The image layer directories that hold parts of it, top first. */
  layers: string[];
  /** What the image's layers could not hold (see capture.ts), relative to the layer. */
  manifest: Manifest;
  /** The image's name for the layer's content (the inner Docker's chain ID), if it gives one. */
  claim?: string;
}

export interface Use {
  path: string;
  ino: number;
  pid: number;
  pidStartTime: number;
}

export interface StoreEntry {
  name: string;
  /** The tree hash, if it was ever needed. */
  hash?: string;
  bytes: number;
  users: (Use & { live: boolean })[];
}

function keyOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The index key of a layer made from the image layer directories `layers`: their real paths and
 * inodes identify them on this host, and their change times move if anyone rewrites them.
 */
function sourceKey(layers: string[], manifest: Manifest): string {
  const parts = layers.map((l) => {
    const real = fs.realpathSync(l);
    const st = fs.lstatSync(real, { bigint: true });
    return [real, st.dev, st.ino, st.ctimeNs].join('\0');
  });
  return keyOf([...parts, JSON.stringify(manifest)].join('\0'));
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

function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => namePattern.test(n));
  } catch {
    return [];
  }
}

/**
 * Runs a helper program (cp) with its errors collected: resolves when it succeeds, or when
 * every line it printed is one that `tolerated` accepts. A failure is reported by its first
 * complaint and how many followed: a full disk makes one per file.
 */
export function runTool(
  program: string,
  args: string[],
  opts: { cwd?: string; tolerated?: (line: string) => boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stderr.trim().split('\n').filter(Boolean);
      const ok = opts.tolerated && lines.length > 0 && lines.every(opts.tolerated);
      if (code === 0 || ok) return resolve();
      const more = lines.length > 1 ? ` (and ${lines.length - 1} more errors)` : '';
      reject(new Error(lines.length > 0 ? lines[0] + more : `${program} exited with ${code}`));
    });
  });
}

export class InnerStore {
  constructor(readonly root: string) {}

  layerPath(name: string): string {
    if (!namePattern.test(name)) throw new SysboxError('EINVAL_ARGUMENT', `bad entry ${name}`);
    return path.join(this.root, 'layers', name);
  }

  private dir(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  private open(): void {
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      for (const d of ['layers', 'users', 'index', 'claims', 'hashes', 'tmp']) {
        fs.mkdirSync(this.dir(d), { recursive: true, mode: 0o700 });
      }
    } catch (err) {
      throw systemError(`create the inner image store ${this.root}`, err);
    }
  }

  private locked<T>(fn: () => T): T {
    const fd = lockFile(this.dir('lock'));
    try {
      return fn();
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Puts one preloaded layer in the store, records `user` as using it, and returns its entry. */
  async share(source: LayerSource, user: string, userIno: number, log: Logger): Promise<string> {
    this.open();
    const key = sourceKey(source.layers, source.manifest);
    const claim = source.claim && keyOf(`claim\0${source.claim}`);
    const found = this.lookup(key, claim, user, userIno);
    if (found) return found;
    // Containers of a new image started together build each entry once: the others wait for
    // the first and then find it.
    const building = await lockFileAsync(this.dir('tmp', `${key}.lock`));
    try {
      return (
        this.lookup(key, claim, user, userIno) ??
        (await this.build(source, key, claim, user, userIno, log))
      );
    } finally {
      // Removed before it is unlocked: a process that then locks a new file of that name has
      // looked the key up after this build wrote the index, so it finds the entry.
      fs.rmSync(this.dir('tmp', `${key}.lock`), { force: true });
      fs.closeSync(building);
    }
  }

  /** The entry that the index has for `key`, now used by `user`, if it is still there. */
  private lookup(
    key: string,
    claim: string | undefined,
    user: string,
    userIno: number,
  ): string | undefined {
    const known = readText(this.dir('index', key))?.trim();
    if (!known || !namePattern.test(known)) return undefined;
    return this.locked(() => {
      if (!fs.existsSync(this.layerPath(known))) return undefined;
      if (claim) this.addClaim(claim, known);
      this.addUse(known, user, userIno);
      return known;
    });
  }

  private async build(
    source: LayerSource,
    key: string,
    claim: string | undefined,
    user: string,
    userIno: number,
    log: Logger,
  ): Promise<string> {
    const started = Date.now();
    const tmp = this.dir('tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const linked = await this.fill(tmp, source, log);
      const same = claim ? await this.equalEntry(tmp, claim) : undefined;
      const name = this.locked(() => {
        let name = key;
        if (same?.name !== undefined && fs.existsSync(this.layerPath(same.name))) {
          name = same.name;
          fs.rmSync(tmp, { recursive: true, force: true });
        } else if (fs.existsSync(this.layerPath(key))) {
          fs.rmSync(tmp, { recursive: true, force: true });
        } else {
          fs.renameSync(tmp, this.layerPath(key));
          if (same) writeAtomic(this.dir('hashes', key), same.hash);
        }
        if (claim) this.addClaim(claim, name);
        writeAtomic(this.dir('index', key), name);
        this.addUse(name, user, userIno);
        return name;
      });
      const how = name !== key ? 'is the same as' : linked ? 'linked as' : 'copied as';
      log.info(`inner layer ${source.merged} ${how} ${name} in ${Date.now() - started} ms`);
      return name;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw systemError(`share the inner image layer ${source.merged}`, err);
    }
  }

  /** Builds the tree at `tmp`; returns whether it is made of hard links to the image's files. */
  private async fill(tmp: string, source: LayerSource, log: Logger): Promise<boolean> {
    fs.mkdirSync(tmp, { mode: 0o700 });
    let linked = false;
    if (source.layers.length === 1) {
      try {
        await runTool('cp', ['-a', '--link', '--', `${source.layers[0]}/.`, tmp]);
        linked = true;
      } catch (err) {
        // Another mount (EXDEV), or a file system without hard links: copy instead.
        log.debug(`link ${source.layers[0]} into the store: ${(err as Error).message}`);
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.mkdirSync(tmp, { mode: 0o700 });
      }
    }
    if (!linked) await runTool('cp', ['-a', '--sparse=always', '--', `${source.merged}/.`, tmp]);
    const top = fs.lstatSync(source.merged);
    fs.chownSync(tmp, top.uid, top.gid);
    fs.chmodSync(tmp, top.mode & 0o7777);
    fs.utimesSync(tmp, top.atime, top.mtime);
    // Linked files are the image's own inodes: what the manifest changes must not reach them.
    applyEntries(fs.realpathSync(tmp), source.manifest, () => false, linked);
    return linked;
  }

  /**
   * The hash of `tmp` and, if there is one, an entry with the same claim and the same hash.
   * Entries not hashed before are hashed now, once.
   */
  private async equalEntry(
    tmp: string,
    claim: string,
  ): Promise<{ name?: string; hash: string } | undefined> {
    const candidates = names(this.dir('claims', claim));
    if (candidates.length === 0) return undefined;
    const hash = await hashTree(tmp);
    for (const name of candidates) {
      if (!fs.existsSync(this.layerPath(name))) continue;
      if ((await this.hashOf(name)) === hash) return { name, hash };
    }
    return { hash };
  }

  /** The tree hash of an entry, computed once and kept. */
  async hashOf(name: string): Promise<string> {
    const file = this.dir('hashes', name);
    const kept = readText(file)?.trim();
    if (kept && namePattern.test(kept)) return kept;
    const hash = await hashTree(this.layerPath(name));
    // Kept only if the entry is still there: a collection may have freed it meanwhile.
    this.locked(() => {
      if (fs.existsSync(this.layerPath(name))) writeAtomic(file, hash);
    });
    return hash;
  }

  private addClaim(claim: string, name: string): void {
    fs.mkdirSync(this.dir('claims', claim), { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.dir('claims', claim, name), '', { mode: 0o600 });
  }

  private addUse(name: string, user: string, userIno: number): void {
    const dir = this.dir('users', name);
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
   * Records that `user` uses exactly the entries `wanted` now (an inner `docker rmi` drops one)
   * and returns those it may mount. `wanted` comes from symlinks that the container can write,
   * so only entries that the runtime gave this user before are granted: a container cannot
   * name its way into another image's layers. Throws if a granted entry has gone missing.
   */
  use(user: string, wanted: string[], log: Logger): string[] {
    this.open();
    const ino = fs.lstatSync(user).ino;
    const mine = keyOf(user).slice(0, 32);
    return this.locked(() => {
      const granted = wanted.filter((name) => {
        const record = readText(this.dir('users', name, mine));
        try {
          if (record !== undefined && (JSON.parse(record) as Use).ino === ino) return true;
        } catch {
          // A damaged record grants nothing.
        }
        log.warn(`${user} points at inner layer ${name}, which was never given to it; ignored`);
        return false;
      });
      for (const name of granted) {
        if (!fs.existsSync(this.layerPath(name))) {
          throw new SysboxError(
            'ESYSTEM',
            `inner image layer ${name}, which ${user} uses, is missing from ${this.root}`,
          );
        }
        this.addUse(name, user, ino);
      }
      const keep = new Set(granted);
      for (const name of fs.readdirSync(this.dir('users'))) {
        if (!keep.has(name)) fs.rmSync(this.dir('users', name, mine), { force: true });
      }
      return granted;
    });
  }

  private live(u: Use): boolean {
    try {
      if (fs.lstatSync(u.path).ino === u.ino) return true;
    } catch {
      // Gone with its container, or not made yet by a create that is still running.
    }
    if (u.pid === process.pid) return true;
    return isRunning(u.pid, u.pidStartTime);
  }

  private usesOf(name: string): (Use & { live: boolean })[] {
    const dir = this.dir('users', name);
    let files: string[] = [];
    try {
      files = fs.readdirSync(dir).filter((n) => !n.includes('.tmp-'));
    } catch {
      return [];
    }
    return files.map((f) => {
      try {
        const u = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Use;
        return { ...u, live: this.live(u) };
      } catch {
        return { path: '?', ino: 0, pid: 0, pidStartTime: 0, live: false };
      }
    });
  }

  list(): StoreEntry[] {
    return names(this.dir('layers')).map((name) => ({
      name,
      hash: readText(this.dir('hashes', name))?.trim(),
      bytes: treeBytes(this.layerPath(name)),
      users: this.usesOf(name),
    }));
  }

  /** Frees the entries no live use holds, and the remains of builds that crashed. */
  collect(log: Logger): { freed: string[] } {
    if (!fs.existsSync(this.dir('layers'))) return { freed: [] };
    return this.locked(() => {
      const freed: string[] = [];
      for (const name of names(this.dir('layers'))) {
        const dir = this.dir('users', name);
        let live = 0;
        for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
          let u: Use | undefined;
          try {
            u = f.includes('.tmp-')
              ? undefined
              : JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
          } catch {
            u = undefined;
          }
          if (u !== undefined && this.live(u)) live++;
          else fs.rmSync(path.join(dir, f), { force: true });
        }
        if (live > 0) continue;
        fs.rmSync(this.dir('users', name), { recursive: true, force: true });
        fs.rmSync(this.dir('hashes', name), { force: true });
        fs.rmSync(this.layerPath(name), { recursive: true, force: true });
        freed.push(name);
      }
      const present = (n: string | undefined): boolean =>
        n !== undefined && namePattern.test(n) && fs.existsSync(this.layerPath(n));
      for (const k of fs.readdirSync(this.dir('index'))) {
        if (!present(readText(this.dir('index', k))?.trim())) {
          fs.rmSync(this.dir('index', k), { force: true });
        }
      }
      for (const claim of fs.readdirSync(this.dir('claims'))) {
        for (const n of fs.readdirSync(this.dir('claims', claim))) {
          if (!present(n)) fs.rmSync(this.dir('claims', claim, n), { force: true });
        }
        if (fs.readdirSync(this.dir('claims', claim)).length === 0) {
          fs.rmdirSync(this.dir('claims', claim));
        }
      }
      for (const t of fs.readdirSync(this.dir('tmp'))) {
        // A build's lock file goes with the build; removing one under a waiter is harmless.
        if (t.endsWith('.lock')) continue;
        const pid = Number(t.split('-')[0]);
        if (pid !== process.pid && !isRunning(pid)) {
          fs.rmSync(this.dir('tmp', t), { recursive: true, force: true });
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

/** The store entry that a `diff` symlink of the inner Docker points at, if it is one of ours. */
export function sharedEntryOf(link: string): string | undefined {
  const m = /^\.\.\/\.\.\/\.sysbox-shared\/([0-9a-f]{64})$/.exec(link);
  return m?.[1];
}

export function sharedLink(name: string): string {
  return `../../${mountDirName}/${name}`;
}
