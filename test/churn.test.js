'use strict';
// Churn: cycles of run, exec, stop, start, commit (sometimes) and rm, and --rm containers, of a
// system container with preloaded inner images. Afterwards the host has the mounts, processes,
// runtime state, cgroups, ID ranges and shared inner image entries it had before.
// SYSBOX_CHURN_CYCLES sets the count (default 8; the long variant is 200).
const t = require('tap');
const fs = require('node:fs');
const { dockerRun, dockerReady, runc, waitFor } = require('./helpers');

const cycles = Number(process.env.SYSBOX_CHURN_CYCLES ?? 8);
const system = 'sysbox-test/system:latest';
const busybox = 'sysbox-test/busybox:latest';
const store = '/var/lib/docker/sysbox-inner-images';

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function list(dir) {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * What a leak would show: host mounts, runtime state, cgroups, ID ranges, init processes, and
 * shared inner image entries (after a collection, which frees those no container uses).
 */
function snapshot() {
  runc('/run/sysbox-runc-churn-unused', ['store', 'gc']);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m.startsWith('/var/lib/docker') || m.startsWith('/run/docker')))
    .sort();
  const inits = list('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sysbox-init';
    } catch {
      return false;
    }
  });
  return {
    mounts,
    state: list('/run/docker/runtime-runc/moby'),
    cgroups: list('/sys/fs/cgroup/memory/docker'),
    ranges: list('/run/sysbox-runc-ids'),
    inits: inits.length,
    shared: list(`${store}/layers`),
  };
}

t.test(`${cycles} cycles of system containers leave the host as it was`, async (t) => {
  const before = snapshot();
  const committed = [];
  for (let i = 0; i < cycles; i++) {
    const id = dockerRun(['run', '--runtime=sysbox-runc', '-d', system]).stdout.trim();
    const up = () => dockerRun(['exec', id, 'docker', 'info']).status === 0;
    t.ok(await waitFor(up, 60000, 250), `cycle ${i}: the inner dockerd answers`);
    const inner = dockerRun([
      'exec',
      id,
      'docker',
      'run',
      '--rm',
      '--network',
      'none',
      busybox,
      'true',
    ]);
    t.equal(inner.status, 0, `cycle ${i}: an inner container ran`);
    t.equal(dockerRun(['stop', id]).status, 0);
    t.equal(dockerRun(['start', id]).status, 0);
    t.ok(await waitFor(up, 60000, 250), `cycle ${i}: the inner dockerd is back after start`);
    if (i % 4 === 3) {
      const image = `sysbox-test/churn-${i}`;
      t.equal(dockerRun(['commit', id, image]).status, 0, `cycle ${i}: commit`);
      committed.push(image);
    }
    t.equal(dockerRun(['rm', '-f', id]).status, 0);
    const once = dockerRun([
      'run',
      '--rm',
      '--runtime=sysbox-runc',
      '--network',
      'none',
      busybox,
      'true',
    ]);
    t.equal(once.status, 0, `cycle ${i}: a --rm container`);
  }
  for (const image of committed) dockerRun(['rmi', image]);
  // containerd's shims exit and Docker unmounts a moment after rm returns.
  const settled = await waitFor(
    () => JSON.stringify(snapshot()) === JSON.stringify(before),
    20000,
    250,
  );
  t.ok(settled, 'the host settles back to where it was');
  t.same(snapshot(), before, 'mounts, state, cgroups, ID ranges, processes, store as before');
});
