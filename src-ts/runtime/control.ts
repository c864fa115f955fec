/** `pause`, `resume`, `update` and `events`: commands that act on a container's cgroups. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import { applyResources, dirOf, freezerState, isUnified, type CgroupSet } from '../linux/cgroups';
import type { Resources } from './spec';
import { capture } from '../storage/capture';
import { readState, statusOf } from './state';

function freezerFile(set: CgroupSet): { file: string; frozen: string; thawed: string } {
  if (isUnified(set.hierarchies)) {
    const dir = dirOf(set.hierarchies[0], set.path);
    return { file: path.join(dir, 'cgroup.freeze'), frozen: '1', thawed: '0' };
  }
  const h = set.hierarchies.find((x) => x.controllers.includes('freezer'));
  if (!h) throw new SysboxError('ESYSTEM', 'no freezer cgroup is mounted');
  return {
    file: path.join(dirOf(h, set.path), 'freezer.state'),
    frozen: 'FROZEN',
    thawed: 'THAWED',
  };
}

async function setFrozen(set: CgroupSet, frozen: boolean): Promise<void> {
  const f = freezerFile(set);
  fs.writeFileSync(f.file, frozen ? f.frozen : f.thawed);
  // v1 passes through FREEZING while tasks stop; the command returns once they have.
  for (let i = 0; i < 500; i++) {
    const now = freezerState(set);
    if (now === (frozen ? 'FROZEN' : 'THAWED')) return;
    if (i % 20 === 19 && frozen) fs.writeFileSync(f.file, f.frozen);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new SysboxError('ESYSTEM', `the freezer did not reach ${frozen ? 'FROZEN' : 'THAWED'}`);
}

export async function pauseContainer(root: string, id: string, log: Logger): Promise<void> {
  const s = readState(root, id);
  const status = statusOf(root, s);
  if (status !== 'running' && status !== 'created') {
    throw new SysboxError('EBAD_STATE', `container not running: ${id} is ${status}`);
  }
  await setFrozen(s.cgroups, true);
  if (s.capture) {
    // docker commit pauses the container: frozen, its inner data is consistent, and the commit
    // must find it in the writable layer.
    try {
      capture(s.capture, log);
    } catch (err) {
      await setFrozen(s.cgroups, false);
      throw new SysboxError(
        'ESYSTEM',
        `capture the inner data of ${id}: ${(err as Error).message}`,
      );
    }
  }
  log.info(`paused container ${id}`);
}

export async function resumeContainer(root: string, id: string, log: Logger): Promise<void> {
  const s = readState(root, id);
  const status = statusOf(root, s);
  if (status !== 'paused') {
    throw new SysboxError('EBAD_STATE', `container not paused: ${id} is ${status}`);
  }
  await setFrozen(s.cgroups, false);
  log.info(`resumed container ${id}`);
}

export function updateContainer(root: string, id: string, resources: Resources, log: Logger): void {
  const s = readState(root, id);
  const status = statusOf(root, s);
  if (status === 'stopped') throw new SysboxError('EBAD_STATE', `container not running: ${id}`);
  applyResources(s.cgroups, resources, log, true);
  log.info(`updated the resources of container ${id}`);
}

function readNumber(file: string): number | undefined {
  try {
    const v = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Statistics in the shape of `runc events --stats`, from the v1 or v2 cgroup files. */
export function containerStats(root: string, id: string): object {
  const s = readState(root, id);
  const set = s.cgroups;
  const dir = (controller: string): string => {
    if (isUnified(set.hierarchies)) return dirOf(set.hierarchies[0], set.path);
    const h = set.hierarchies.find((x) => x.controllers.includes(controller));
    return h ? dirOf(h, set.path) : '/nonexistent';
  };
  const unified = isUnified(set.hierarchies);
  const memory = unified
    ? { usage: { usage: readNumber(path.join(dir('memory'), 'memory.current')) ?? 0 } }
    : {
        usage: {
          usage: readNumber(path.join(dir('memory'), 'memory.usage_in_bytes')) ?? 0,
          max: readNumber(path.join(dir('memory'), 'memory.max_usage_in_bytes')) ?? 0,
          limit: readNumber(path.join(dir('memory'), 'memory.limit_in_bytes')) ?? 0,
          failcnt: readNumber(path.join(dir('memory'), 'memory.failcnt')) ?? 0,
        },
      };
  const cpuTotal = unified
    ? (() => {
        const text = fs.existsSync(path.join(dir('cpu'), 'cpu.stat'))
          ? fs.readFileSync(path.join(dir('cpu'), 'cpu.stat'), 'utf8')
          : '';
        const m = /^usage_usec (\d+)$/m.exec(text);
        return m ? Number(m[1]) * 1000 : 0;
      })()
    : (readNumber(path.join(dir('cpuacct'), 'cpuacct.usage')) ?? 0);
  const pids = {
    current: readNumber(path.join(dir('pids'), 'pids.current')) ?? 0,
    limit: readNumber(path.join(dir('pids'), 'pids.max')) ?? 0,
  };
  return { type: 'stats', id, data: { cpu: { usage: { total: cpuTotal } }, memory, pids } };
}
