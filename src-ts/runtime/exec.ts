/**
 * `exec`: runs another process in a running container. sysbox-init joins the container's cgroups
 * and namespaces while it is still host root (it could not join them after giving that up),
 * takes the user namespace last, and forks so that the process lands in the container's PID
 * namespace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import { procsFiles } from '../linux/cgroups';
import { InitProcess } from './init-process';
import { Plan } from './plan';
import { credentialSteps, programSteps, rlimitSteps, wantsAllCapabilities } from './process-steps';
import { checkProcessObject, type Process } from './spec';
import { readState, statusOf } from './state';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  log: Logger;
}

const joinOrder = ['cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt'];
const nsNames: Record<string, string> = {
  cgroup: 'cgroup',
  ipc: 'ipc',
  uts: 'uts',
  net: 'network',
  pid: 'pid',
  mnt: 'mount',
  user: 'user',
};

function sameNamespace(pid: number, ns: string): boolean {
  try {
    return fs.statSync(`/proc/${pid}/ns/${ns}`).ino === fs.statSync(`/proc/self/ns/${ns}`).ino;
  } catch {
    return false;
  }
}

export function readProcessFile(file: string): Process {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      `cannot read the process file ${file}: ${(err as Error).message}`,
    );
  }
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (err) {
    throw new SysboxError('EINVAL_CONFIG', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  return checkProcessObject(p, 'process');
}

/** Returns the PID of the new process, or with `detach` false its exit status. */
export async function execProcess(o: ExecOptions): Promise<{ pid: number; status?: number }> {
  const s = readState(o.root, o.id);
  const status = statusOf(o.root, s);
  if (status !== 'running' && status !== 'created') {
    throw new SysboxError('EBAD_STATE', `cannot exec in a container that is ${status}: ${o.id}`);
  }
  const p = o.process;
  if (p.terminal && !o.consoleSocket) {
    throw new SysboxError(
      'EINVAL_ARGUMENT',
      'process.terminal is true but --console-socket is missing',
    );
  }
  const plan = new Plan();
  if (o.consoleSocket) plan.add('console-connect', path.resolve(o.consoleSocket));
  for (const f of procsFiles(s.cgroups)) plan.add('cgroup', f);
  if (p.oomScoreAdj !== undefined) plan.add('oom-score-adj', p.oomScoreAdj);
  const join: string[] = [];
  for (const ns of [...joinOrder, 'user']) {
    if (!sameNamespace(s.pid, ns)) join.push(nsNames[ns], `/proc/${s.pid}/ns/${ns}`);
  }
  // Files the process makes before it takes its own user (its terminal among them) need an
  // owner the container maps; host root is not one.
  plan.add('join', ...join).add('become-root');
  plan.add('fork', ...(o.detach ? [] : ['wait']));
  if (p.terminal) {
    const size = p.consoleSize ?? { height: 0, width: 0 };
    plan.add('setsid').add('console', size.height, size.width, 'none');
  }
  plan.addAll(programSteps(p)).addAll(rlimitSteps(p));
  const nnp = p.noNewPrivileges ?? s.noNewPrivileges;
  const allCaps = wantsAllCapabilities(p, s.honorCaps);
  plan.addAll(credentialSteps(p, s.seccomp, nnp, allCaps, o.log));

  const init = await InitProcess.start(plan, []);
  try {
    const pidText = await init.expect('pid', 60_000);
    if (pidText === null) throw new SysboxError('EINIT', 'exec helper exited before it forked');
    const pid = Number(pidText);
    // The socket closes when the process execs; a line before that is an error.
    const line = await init.next(60_000);
    if (line !== null && line.startsWith('error ')) throw new SysboxError('EINIT', line.slice(6));
    if (o.pidFile) {
      const abs = path.resolve(o.pidFile);
      const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
      fs.writeFileSync(tmp, String(pid));
      fs.renameSync(tmp, abs);
    }
    if (o.detach) {
      await init.exitStatus();
      return { pid };
    }
    return { pid, status: await init.exitStatus() };
  } finally {
    init.close();
  }
}
