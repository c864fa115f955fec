/**
 * Host IDs for containers. Each container gets a range of 65536 IDs of its own, carved from a
 * pool, so that root of one container is a different host user from root of another: it cannot
 * signal another container's processes, reach its cgroups or use up its key quota, even through
 * a namespace they share with the host.
 *
 * The pool is the `sysbox` entry of /etc/subuid and /etc/subgid, the files that shadow-utils'
 * useradd and usermod keep, so that no host user is given the same IDs; `idRange` in the
 * runtime's config file overrides it. Without either it is 2^30 IDs from host ID 2^30, far above
 * what useradd hands out. A pool of one range is shared by all containers, as in Sysbox CE.
 *
 * Allocations are files under /run/sysbox-runc-ids, one per range, named by its first host ID
 * and holding the state directory of the container that has it; /run is emptied at boot, when
 * no container runs. A range whose container's state directory is gone (its runtime was killed
 * mid-create or mid-delete) is taken back by the next allocation.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import { lockFile } from '../native';
import type { IdMapping } from '../runtime/spec';

export const rangeSize = 65536;
export const defaultPool = { start: 2 ** 30, size: 2 ** 30 };
export const rangeOwner = 'sysbox';
export const allocationDir = '/run/sysbox-runc-ids';

export interface IdRange {
  start: number;
  size: number;
  source: string;
}

function readRange(file: string): IdRange | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, start, size] = line.trim().split(':');
    if (name !== rangeOwner || start === undefined || size === undefined) continue;
    const range = { start: Number(start), size: Number(size), source: file };
    if (!Number.isInteger(range.start) || !Number.isInteger(range.size)) {
      throw new SysboxError('EINVAL_CONFIG', `${file}: malformed entry ${JSON.stringify(line)}`);
    }
    return range;
  }
  return undefined;
}

function checkRange(r: IdRange): IdRange {
  if (r.start <= 0) {
    throw new SysboxError('EINVAL_CONFIG', `${r.source}: the range must start above host ID 0`);
  }
  if (r.size < rangeSize) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `${r.source}: the range holds ${r.size} IDs; a system container needs ${rangeSize}`,
    );
  }
  if (r.start + r.size > 0xffffffff) {
    throw new SysboxError('EINVAL_CONFIG', `${r.source}: the range passes the last 32-bit ID`);
  }
  return r;
}

/** The pool: the configured range, else the `sysbox` entries, else the built-in default. */
export function idPool(
  configured?: { start: number; size: number; source: string },
  subuid = '/etc/subuid',
  subgid = '/etc/subgid',
): IdRange {
  if (configured) return checkRange(configured);
  const uid = readRange(subuid);
  const gid = readRange(subgid);
  if (!uid && !gid) return { ...defaultPool, source: 'the built-in default' };
  if (!uid || !gid || uid.start !== gid.start || uid.size !== gid.size) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `the ${rangeOwner} entries of ${subuid} and ${subgid} must exist together and be equal`,
    );
  }
  return checkRange(uid);
}

export interface Allocation {
  mappings: IdMapping[];
  /** First host ID of an allocated range, or undefined when the pool is shared. */
  allocated?: number;
}

/** The file that records who holds the range starting at `start`. */
export function rangeFile(start: number): string {
  return path.join(allocationDir, String(start));
}

/**
 * A range can be taken back when its container's state directory is gone, or when it names the
 * directory now being created: that was just claimed, so no live container has it, and the range
 * is what a create of the same id left when it was killed.
 */
function reclaimable(file: string, claimant: string): boolean {
  let owner: string;
  try {
    owner = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return owner === claimant || (owner !== '' && !fs.existsSync(owner));
}

/**
 * Gives the container whose state directory is `owner` a range of its own. The search starts at
 * a slot drawn from the owner's path, so that concurrent creates rarely probe the same slots.
 */
export function allocateRange(pool: IdRange, owner: string): Allocation {
  const slots = Math.floor(pool.size / rangeSize);
  if (slots < 2) {
    return { mappings: [{ containerID: 0, hostID: pool.start, size: rangeSize }] };
  }
  fs.mkdirSync(allocationDir, { recursive: true, mode: 0o700 });
  const lock = lockFile(path.join(allocationDir, '.lock'));
  try {
    // Ranges left by killed creates and deletes go first, so that none lingers.
    for (const name of fs.readdirSync(allocationDir)) {
      const file = path.join(allocationDir, name);
      if (/^\d+$/.test(name) && reclaimable(file, owner)) fs.unlinkSync(file);
    }
    const first = crypto.createHash('sha256').update(owner).digest().readUInt32BE(0) % slots;
    for (let i = 0; i < slots; i++) {
      const start = pool.start + ((first + i) % slots) * rangeSize;
      const file = rangeFile(start);
      if (fs.existsSync(file)) continue;
      fs.writeFileSync(file, owner, { flag: 'wx', mode: 0o600 });
      return {
        mappings: [{ containerID: 0, hostID: start, size: rangeSize }],
        allocated: start,
      };
    }
  } finally {
    fs.closeSync(lock);
  }
  throw new SysboxError('ESYSTEM', `all ${slots} ID ranges of ${pool.source} are in use`);
}

/** Frees a range that `owner` holds; a range someone else holds now is left alone. */
export function releaseRange(start: number | undefined, owner: string): void {
  if (start === undefined) return;
  const file = rangeFile(start);
  try {
    if (fs.readFileSync(file, 'utf8') === owner) fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Mappings a manager gave in config.json (Docker's userns-remap, Kubernetes' user namespaces) are
 * honoured if no container ID maps to host root; otherwise the container gets a range.
 */
export function checkGivenMappings(given: IdMapping[], kind: 'uid' | 'gid'): IdMapping[] {
  const root = given.find((m) => m.containerID <= 0 && m.containerID + m.size > 0);
  if (!root) {
    throw new SysboxError('EINVAL_CONFIG', `config.json: linux.${kind}Mappings must map ID 0`);
  }
  for (const m of given) {
    if (m.hostID === 0 || m.size <= 0 || m.hostID + m.size > 0x100000000) {
      throw new SysboxError(
        'EINVAL_CONFIG',
        `config.json: linux.${kind}Mappings entry ${JSON.stringify(m)} reaches host ID 0 or ` +
          'is empty; no container ID may map to host root',
      );
    }
  }
  return given;
}

/** The host ID that a container ID maps to, or undefined when it is not mapped. */
export function toHost(maps: IdMapping[], id: number): number | undefined {
  for (const m of maps) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  }
  return undefined;
}
