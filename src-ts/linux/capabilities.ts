/** Capability names and bit masks, and the host's bounding set that every set is clamped to. */
import * as fs from 'node:fs';

export const capabilityNames = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

export const allCapabilities = (1n << BigInt(capabilityNames.length)) - 1n;

let hostBounding: bigint | undefined;

/** The bounding set of this process, which no container may exceed. */
export function hostBoundingSet(): bigint {
  if (hostBounding === undefined) {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
    hostBounding = m ? BigInt('0x' + m[1]) : allCapabilities;
  }
  return hostBounding;
}

export interface CapabilityMask {
  mask: bigint;
  unknown: string[];
}

/** Turns names into a mask; names this kernel list lacks are returned, not fatal, as runc does. */
export function capabilityMask(names: string[] | undefined): CapabilityMask {
  let mask = 0n;
  const unknown: string[] = [];
  for (const name of names ?? []) {
    const bit = capabilityNames.indexOf(name.toUpperCase() as (typeof capabilityNames)[number]);
    if (bit < 0) unknown.push(name);
    else mask |= 1n << BigInt(bit);
  }
  return { mask, unknown };
}

export function maskNames(mask: bigint): string[] {
  return capabilityNames.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export function hex(mask: bigint): string {
  return mask.toString(16);
}
