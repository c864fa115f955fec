/**
 * The host ID range that container root and its users map to. It comes from the `sysbox` entry
 * of /etc/subuid and /etc/subgid, the files that shadow-utils' useradd and usermod maintain, so
 * that the range never overlaps one given to a host user. Without an entry the runtime uses
 * 165536 with 65536 IDs, which is where `useradd` puts the first user's range on Debian.
 */
import * as fs from 'node:fs';
import { SysboxError } from '../errors';
import type { IdMapping } from '../runtime/spec';

export const defaultRange = { start: 165536, size: 65536 };
export const minimumSize = 65536;
export const rangeOwner = 'sysbox';

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
  if (r.start === 0) {
    throw new SysboxError('EINVAL_CONFIG', `${r.source}: the range must not start at host ID 0`);
  }
  if (r.size < minimumSize) {
    throw new SysboxError(
      'EINVAL_CONFIG',
      `${r.source}: the range holds ${r.size} IDs; a system container needs ${minimumSize}`,
    );
  }
  if (r.start + r.size > 0xffffffff) {
    throw new SysboxError('EINVAL_CONFIG', `${r.source}: the range passes the last 32-bit ID`);
  }
  return r;
}

export function hostRanges(
  configured?: { start: number; size: number; source: string },
  subuid = '/etc/subuid',
  subgid = '/etc/subgid',
): { uid: IdRange; gid: IdRange } {
  if (configured) return { uid: checkRange(configured), gid: checkRange(configured) };
  const fallback = { ...defaultRange, source: 'the built-in default' };
  return {
    uid: checkRange(readRange(subuid) ?? fallback),
    gid: checkRange(readRange(subgid) ?? fallback),
  };
}

/**
 * Mappings a manager gave in config.json (Docker's userns-remap, Kubernetes' user namespaces) are
 * honoured if they map container root to a host ID other than 0; otherwise the range is used.
 */
export function containerMappings(
  given: IdMapping[] | undefined,
  range: IdRange,
  kind: 'uid' | 'gid',
): IdMapping[] {
  if (given && given.length > 0) {
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
  return [{ containerID: 0, hostID: range.start, size: range.size }];
}

/** The host ID that a container ID maps to, or undefined when it is not mapped. */
export function toHost(maps: IdMapping[], id: number): number | undefined {
  for (const m of maps) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  }
  return undefined;
}
