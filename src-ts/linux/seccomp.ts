/**
 * Turns the config's seccomp profile into sysbox-init steps. A system container runs inner
 * runtimes, so the calls they need to build containers are allowed whatever the profile says;
 * the kernel still checks each against the capabilities root holds in its own user namespace.
 */
import { invalidConfig } from '../errors';
import type { Step } from '../runtime/plan';
import type { Seccomp, SeccompArg } from '../runtime/spec';

export const systemContainerSyscalls = [
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'unshare',
  'setns',
  'clone',
  'clone3',
  'keyctl',
  'add_key',
  'request_key',
  'sethostname',
  'setdomainname',
  'chroot',
  'open_tree',
  'move_mount',
  'mount_setattr',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
];

const actions: Record<string, string> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill',
  SCMP_ACT_KILL_THREAD: 'kill',
  SCMP_ACT_KILL_PROCESS: 'kill-process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
};

const operators: Record<string, string> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'me',
};

const EPERM = 1;

function action(name: string, errnoRet: number | undefined, where: string): [string, string] {
  const a = actions[name];
  if (!a) throw invalidConfig(`config.json: ${where} has the unsupported action ${name}`);
  const value = a === 'errno' ? (errnoRet ?? EPERM) : 0;
  return [a, String(value)];
}

function argField(arg: SeccompArg, where: string): string {
  const op = operators[arg.op];
  if (!op) throw invalidConfig(`config.json: ${where} has the unknown operator ${arg.op}`);
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw invalidConfig(`config.json: ${where} has argument index ${arg.index}, not 0..5`);
  }
  return `${arg.index},${op},${BigInt(arg.value)},${BigInt(arg.valueTwo ?? 0)}`;
}

export function seccompSteps(profile: Seccomp | undefined, systemContainer: boolean): Step[] {
  if (!profile) return [];
  const steps: Step[] = [];
  steps.push([
    'seccomp-init',
    ...action(profile.defaultAction, profile.defaultErrnoRet, 'linux.seccomp.defaultAction'),
  ]);
  for (const arch of profile.architectures ?? []) {
    steps.push(['seccomp-arch', arch.replace(/^SCMP_ARCH_/, '').toLowerCase()]);
  }
  const widened = new Set(systemContainer ? systemContainerSyscalls : []);
  const defaultAllows = profile.defaultAction === 'SCMP_ACT_ALLOW';
  (profile.syscalls ?? []).forEach((rule, i) => {
    const where = `linux.seccomp.syscalls[${i}]`;
    const [act, value] = action(rule.action, rule.errnoRet, where);
    if (act === 'allow' && defaultAllows) return;
    const args = (rule.args ?? []).map((a, j) => argField(a, `${where}.args[${j}]`));
    const indices = (rule.args ?? []).map((a) => a.index);
    // libseccomp takes one comparison per argument in a rule: split rules that repeat one.
    const groups = new Set(indices).size === indices.length ? [args] : args.map((a) => [a]);
    for (const name of rule.names ?? []) {
      if (widened.has(name)) continue;
      for (const g of groups) steps.push(['seccomp-rule', act, value, name, ...g]);
    }
  });
  if (!defaultAllows) {
    for (const name of widened) steps.push(['seccomp-rule', 'allow', '0', name]);
  }
  return steps;
}
