/**
 * Steps that give a process its program, environment, identity, capabilities and seccomp filter,
 * shared by a container's first process and exec'd ones.
 */
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import { capabilityMask, hex, hostBoundingSet, maskNames } from '../linux/capabilities';
import type { Step } from './plan';
import type { Process } from './spec';

const rlimitNumbers: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export function programSteps(p: Process): Step[] {
  const steps: Step[] = [['cwd', p.cwd]];
  for (const e of p.env ?? []) steps.push(['env', e]);
  for (const a of p.args) steps.push(['arg', a]);
  steps.push(['home', String(p.user.uid)], ['lookup']);
  return steps;
}

export function rlimitSteps(p: Process): Step[] {
  return (p.rlimits ?? []).map((r) => {
    const n = rlimitNumbers[r.type];
    if (n === undefined) {
      throw new SysboxError('EINVAL_CONFIG', `config.json: unknown rlimit type ${r.type}`);
    }
    return ['rlimit', String(n), String(BigInt(r.soft)), String(BigInt(r.hard))];
  });
}

interface CapSets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/**
 * The set Docker, containerd and Kubernetes give a container unless told otherwise. A config
 * that carries exactly this set asked for nothing in particular.
 */
export const managerDefaultCaps = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Whether root in this process gets every capability. In a system container it does, as root of
 * its own user namespace: that is what lets inner runtimes mount, make namespaces and manage
 * cgroups. But a config whose capabilities differ from the managers' default set was changed on
 * purpose (`--cap-add`, `--cap-drop`), and then the runtime honours it as runc would.
 */
export function wantsAllCapabilities(p: Process, honorCaps: boolean): boolean {
  if (honorCaps || p.user.uid !== 0) return false;
  const bounding = new Set((p.capabilities?.bounding ?? []).map((c) => c.toUpperCase()));
  return (
    bounding.size === managerDefaultCaps.length && managerDefaultCaps.every((c) => bounding.has(c))
  );
}

/** The sets the process gets, never past the host's bounding set. */
function capSets(p: Process, allCaps: boolean, log: Logger): CapSets {
  const host = hostBoundingSet();
  if (allCaps) {
    return { bounding: host, effective: host, permitted: host, inheritable: 0n, ambient: 0n };
  }
  const c = p.capabilities ?? {};
  const sets = {
    bounding: capabilityMask(c.bounding),
    effective: capabilityMask(c.effective),
    permitted: capabilityMask(c.permitted),
    inheritable: capabilityMask(c.inheritable),
    ambient: capabilityMask(c.ambient),
  };
  const unknown = new Set(Object.values(sets).flatMap((s) => s.unknown));
  if (unknown.size > 0) log.warn(`ignoring unknown capabilities: ${[...unknown].join(', ')}`);
  const dropped = (sets.bounding.mask | sets.permitted.mask) & ~host;
  if (dropped !== 0n) {
    log.info(`dropping capabilities the host lacks: ${maskNames(dropped).join(', ')}`);
  }
  return {
    bounding: sets.bounding.mask & host,
    effective: sets.effective.mask & host,
    permitted: sets.permitted.mask & host,
    inheritable: sets.inheritable.mask & host,
    ambient: sets.ambient.mask & host,
  };
}

/**
 * Identity, capabilities and seccomp, in the order the kernel allows: without no_new_privs a
 * seccomp filter needs CAP_SYS_ADMIN, so it goes in before the capabilities are dropped; with it,
 * it goes in last so that it need not allow the calls that drop them.
 */
export function credentialSteps(
  p: Process,
  seccomp: Step[],
  noNewPrivileges: boolean,
  allCaps: boolean,
  log: Logger,
): Step[] {
  const caps = capSets(p, allCaps, log);
  const groups = (p.user.additionalGids ?? []).join(',');
  const identity: Step[] = [
    ['bounding', hex(caps.bounding)],
    ['user', String(p.user.uid), String(p.user.gid), groups],
    ['caps', hex(caps.effective), hex(caps.permitted), hex(caps.inheritable), hex(caps.ambient)],
  ];
  const steps: Step[] = [];
  if (p.user.umask !== undefined) steps.push(['umask', p.user.umask.toString(8)]);
  steps.push(['close-fds']);
  if (noNewPrivileges) {
    steps.push(...identity, ['nnp'], ...seccomp, ...(seccomp.length ? [['seccomp-load']] : []));
  } else {
    steps.push(...seccomp, ...(seccomp.length ? [['seccomp-load']] : []), ...identity);
  }
  steps.push(['exec']);
  return steps;
}
