'use strict';
// Churn: cycles of run, exec, stop, start, commit (sometimes) and rm, and --rm containers, of a
// system container with preloaded inner images. Afterwards the host has the mounts, processes,
// runtime state, cgroups, ID ranges and shared inner image entries it had before.
// SYSBOX_CHURN_CYCLES sets the count (default 8; the long variant is 200).
const t = require('tap');
const { dockerRun, dockerReady, hostSnapshot: snapshot, waitFor } = require('./helpers');

const cycles = Number(process.env.SYSBOX_CHURN_CYCLES ?? 8);
const system = 'sysbox-test/system:latest';
const busybox = 'sysbox-test/busybox:latest';

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
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
