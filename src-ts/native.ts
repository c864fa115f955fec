/**
 * The only module that loads the native addon; `NativeAddon` is its whole surface. Arguments are
 * checked here so that the C side only ever sees well-typed values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface NativeAddon {
  createUserns(uidMap: string, gidMap: string): number;
  openIdmappedTree(path: string, usernsFd: number, recursive: boolean, readonly: boolean): number;
  makeFifo(path: string, uid: number, gid: number): void;
  setChildSubreaper(): void;
  lockFile(path: string): number;
  lockFileAsync(path: string): Promise<number>;
  listXattrs(path: string): string[];
  getXattr(path: string, name: string): Buffer;
  setXattr(path: string, name: string, value: Buffer): void;
  makeNode(path: string, mode: number, dev: number): void;
  waitPid(pid: number): Promise<number>;
  hashTree(path: string): Promise<string>;
  unmountLazy(path: string): void;
  warmListen(path: string): number;
  warmProbe(path: string): boolean;
  warmAccept(listener: number): Promise<WarmPacket>;
  warmReceive(conn: number): Promise<WarmPacket>;
  warmSend(conn: number, fields: string[], fds: number[]): void;
  socketPair(): [number, number];
  dupTo(from: number, to: number): void;
  spawnDetached(argv: string[], env: string[], fd: number): number;
  runNormally(): void;
  dieWith(pidfd: number): void;
  exitNow(status: number): never;
  saveStdio(): void;
  pidfdAlive(pidfd: number): boolean;
}

/** One packet between a launcher and a warm worker (src-c/common/warm.h). */
export interface WarmPacket {
  /** The connection it came on (a new one, for warmAccept). */
  conn: number;
  /** The peer's uid, pid and a pidfd for it, for warmAccept; -1, 0 and -1 otherwise. */
  uid: number;
  pid: number;
  pidfd: number;
  /** Empty at end of stream. */
  fields: string[];
  /** Received close-on-exec; the caller owns them. */
  fds: number[];
}

let addon: NativeAddon | undefined;

/**
 * Loads build/Release/sysbox.node with process.dlopen. The `bindings` package would search a
 * dozen build directories; node-gyp builds only Release, and the command's startup snapshot
 * cannot load modules from node_modules at all.
 */
function load(): NativeAddon {
  if (addon === undefined) {
    const mod = { exports: {} };
    process.dlopen(mod, path.join(packageRoot(), 'build', 'Release', 'sysbox.node'));
    addon = mod.exports as NativeAddon;
  }
  return addon;
}

let root: string | undefined;

/** The package directory (the one holding binding.gyp), found from wherever this code runs. */
export function packageRoot(): string {
  if (root === undefined) {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, 'binding.gyp')) && path.dirname(dir) !== dir) {
      dir = path.dirname(dir);
    }
    root = dir;
  }
  return root;
}

/** Path of the server of emulated /proc and /sys files, built beside the addon. */
export function fsProgram(): string {
  return path.join(packageRoot(), 'build', 'Release', 'sysbox-fs');
}

/** Detaches the mount at `target` if there is one (umount --lazy). */
export function unmountLazy(target: string): void {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  load().unmountLazy(target);
}

/** Path of the container init program built beside the addon. */
export function initProgram(): string {
  return path.join(packageRoot(), 'build', 'Release', 'sysbox-init');
}

export interface IdMapEntry {
  containerID: number;
  hostID: number;
  size: number;
}

function formatMap(entries: IdMapEntry[], name: string): string {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > 340) {
    throw new RangeError(`${name} must hold between 1 and 340 entries`);
  }
  return entries
    .map((e) => {
      for (const v of [e.containerID, e.hostID, e.size]) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new RangeError(`${name} entry ${JSON.stringify(e)} is not three 32-bit IDs`);
        }
      }
      return `${e.containerID} ${e.hostID} ${e.size}\n`;
    })
    .join('');
}

/** Makes a user namespace with these ID maps; returns an fd that keeps it alive. */
export function createUserns(uidMap: IdMapEntry[], gidMap: IdMapEntry[]): number {
  return load().createUserns(formatMap(uidMap, 'uidMap'), formatMap(gidMap, 'gidMap'));
}

/**
 * Returns the fd of a detached clone of the mount at `target`, ID-mapped through the user
 * namespace behind `usernsFd`.
 */
export function openIdmappedTree(
  target: string,
  usernsFd: number,
  recursive = false,
  readonly = false,
): number {
  if (!Number.isInteger(usernsFd) || usernsFd < 0) {
    throw new TypeError('usernsFd must be an open file descriptor');
  }
  return openTree(target, recursive, usernsFd, readonly);
}

/**
 * Returns the fd of a detached, private, nodev clone of the mount at `target`, ID-mapped when a
 * user namespace fd is given.
 */
export function openTree(
  target: string,
  recursive = false,
  usernsFd = -1,
  readonly = false,
): number {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  return load().openIdmappedTree(target, usernsFd, recursive, readonly);
}

/**
 * The hex SHA-256 of the directory tree at `target`: names, kinds, owners, modes, times,
 * xattrs, symlink targets, hard links and contents. Hashed in C on a worker thread.
 */
export function hashTree(target: string): Promise<string> {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  return load().hashTree(target);
}

/** Makes a fifo with mode 0600 owned by `uid`:`gid`. */
export function makeFifo(target: string, uid: number, gid: number): void {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid < 0 || gid < 0) {
    throw new TypeError('uid and gid must be non-negative integers');
  }
  load().makeFifo(target, uid, gid);
}

/** Makes orphaned descendants of this process its children, so that it can wait for them. */
export function setChildSubreaper(): void {
  load().setChildSubreaper();
}

/** Waits for a child off the JavaScript thread; resolves with its status as a shell gives it. */
export function waitPid(pid: number): Promise<number> {
  if (!Number.isInteger(pid) || pid <= 0) throw new TypeError('pid must be a positive integer');
  return load().waitPid(pid);
}

/** Takes an exclusive lock on `target` (made if missing); closing the returned fd releases it. */
export function lockFile(target: string): number {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  return load().lockFile(target);
}

/** Names of the extended attributes of `target`, not following a final symlink. */
/** As lockFile, without stopping the event loop while another process holds the lock. */
export function lockFileAsync(target: string): Promise<number> {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  return load().lockFileAsync(target);
}

export function listXattrs(target: string): string[] {
  return load().listXattrs(target);
}

export function getXattr(target: string, name: string): Buffer {
  return load().getXattr(target, name);
}

export function setXattr(target: string, name: string, value: Buffer): void {
  if (!Buffer.isBuffer(value)) throw new TypeError('value must be a Buffer');
  load().setXattr(target, name, value);
}

/** mknod(2): `mode` holds the file type bits (S_IFCHR, S_IFSOCK, ...) and the permissions. */
export function makeNode(target: string, mode: number, dev = 0): void {
  if (!Number.isInteger(mode) || !Number.isInteger(dev) || mode < 0 || dev < 0) {
    throw new TypeError('mode and dev must be non-negative integers');
  }
  load().makeNode(target, mode, dev);
}

function checkFd(fd: number, name = 'fd'): void {
  if (!Number.isInteger(fd) || fd < 0)
    throw new TypeError(`${name} must be an open file descriptor`);
}

function checkStrings(list: string[], name: string): void {
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.includes('\0'))) {
    throw new TypeError(`${name} must be strings without NUL bytes`);
  }
}

/** Listens for launchers on a new SOCK_SEQPACKET socket at `target`. */
export function warmListen(target: string): number {
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    throw new TypeError(`path must be absolute, got ${JSON.stringify(target)}`);
  }
  return load().warmListen(target);
}

/** Whether something accepts connections at `target`. */
export function warmProbe(target: string): boolean {
  return load().warmProbe(target);
}

/** Accepts a connection and reads its first packet (waiting at most a second for it). */
export function warmAccept(listener: number): Promise<WarmPacket> {
  checkFd(listener, 'listener');
  return load().warmAccept(listener);
}

/** The next packet on a connection. */
export function warmReceive(conn: number): Promise<WarmPacket> {
  checkFd(conn, 'conn');
  return load().warmReceive(conn);
}

/** Sends one packet of `fields`, carrying `fds`. */
export function warmSend(conn: number, fields: string[], fds: number[] = []): void {
  checkFd(conn, 'conn');
  checkStrings(fields, 'fields');
  fds.forEach((fd) => checkFd(fd));
  load().warmSend(conn, fields, fds);
}

/** A connected pair of Unix stream sockets, both close-on-exec. */
export function socketPair(): [number, number] {
  return load().socketPair();
}

/** dup2(2). */
export function dupTo(from: number, to: number): void {
  checkFd(from, 'from');
  checkFd(to, 'to');
  load().dupTo(from, to);
}

/**
 * Starts `argv` in its own session with `fd` as its fd 3, not to be waited for, at nice 10.
 */
export function spawnDetached(argv: string[], env: string[], fd: number): number {
  checkStrings(argv, 'argv');
  checkStrings(env, 'env');
  if (argv.length === 0 || !path.isAbsolute(argv[0]))
    throw new TypeError('argv[0] must be absolute');
  checkFd(fd);
  return load().spawnDetached(argv, env, fd);
}

/** Puts every thread of this process back at nice 0. */
export function runNormally(): void {
  load().runNormally();
}

/** Ends this process with SIGKILL as soon as the process behind `pidfd` exits. */
export function dieWith(pidfd: number): void {
  checkFd(pidfd, 'pidfd');
  load().dieWith(pidfd);
}

/** Records the flags of fds 0, 1 and 2, which exitNow puts back. */
export function saveStdio(): void {
  load().saveStdio();
}

/** Whether the process behind `pidfd` has not exited. */
export function pidfdAlive(pidfd: number): boolean {
  checkFd(pidfd, 'pidfd');
  return load().pidfdAlive(pidfd);
}

/** _exit(2) after putting back the flags saveStdio recorded: no Node exit. */
export function exitNow(status: number): never {
  if (!Number.isInteger(status)) throw new TypeError('status must be an integer');
  return load().exitNow(status);
}
