'use strict';
// dockerd killed with SIGKILL while system containers are being created, then started again:
// `docker rm -f` cleans up every container it was making, a container that ran before still
// starts with its inner data, and the host ends with the mounts, runtime state, cgroups, ID
// ranges, init processes and shared inner image entries it had before.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const {
  docker,
  dockerRun,
  dockerReady,
  hostSnapshot: snapshot,
  innerReady,
  innerRun,
  waitFor,
} = require('./helpers');

const system = 'sysbox-test/system:latest';
const busybox = 'sysbox-test/busybox:latest';
const pidFile = '/run/sysbox-dockerd.pid';
const scripts = path.join(__dirname, '..', 'scripts');

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function startDockerd(t) {
  const r = spawnSync(path.join(scripts, 'start-dockerd.sh'), { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
}

t.test('dockerd killed while it creates system containers', async (t) => {
  if (!fs.existsSync(pidFile)) {
    t.skip('dockerd was not started by scripts/start-dockerd.sh; the test kills only that one');
    return;
  }
  const before = snapshot();
  const prefix = `sysbox-test-dkill-${process.pid}`;
  t.teardown(() => {
    if (!dockerReady()) startDockerd(t);
    const ids = dockerRun(['ps', '-aq', '--filter', `name=${prefix}`]).stdout.split(/\s+/);
    for (const id of ids.filter(Boolean)) dockerRun(['rm', '-f', id]);
  });

  const survivor = `${prefix}-survivor`;
  const run = ['run', '-d', '--runtime=sysbox-runc', '--network', 'none'];
  t.equal(dockerRun([...run, '--name', survivor, system]).status, 0);
  t.ok(await waitFor(() => innerReady(survivor), 60000, 250), 'a container runs before the kill');
  const kept = dockerRun([
    'exec',
    survivor,
    'docker',
    'run',
    '--network',
    'none',
    '--name',
    'kept',
    busybox,
    'sh',
    '-c',
    'echo kept > /data',
  ]);
  t.equal(kept.status, 0, kept.stderr);

  // Three creates in flight, then dockerd dies under them.
  const clients = [1, 2, 3].map(
    (i) =>
      new Promise((resolve) => {
        const c = spawn(docker, [...run, '--name', `${prefix}-${i}`, system], { stdio: 'ignore' });
        c.on('exit', resolve);
      }),
  );
  await new Promise((r) => setTimeout(r, 250));
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  await Promise.all(clients);
  t.ok(await waitFor(() => !fs.existsSync(`/proc/${pid}`), 10000), 'dockerd is gone');

  startDockerd(t);
  const victims = dockerRun(['ps', '-aq', '--filter', `name=${prefix}-[0-9]`])
    .stdout.split(/\s+/)
    .filter(Boolean);
  t.ok(victims.length > 0, `dockerd had made ${victims.length} of the three when it died`);
  for (const id of victims) {
    const rm = dockerRun(['rm', '-f', id]);
    t.equal(rm.status, 0, `docker rm -f of a container dockerd was making: ${rm.stderr}`);
  }

  t.equal(dockerRun(['start', survivor]).status, 0, 'the earlier container starts again');
  t.ok(await waitFor(() => innerReady(survivor), 60000, 250), 'and its inner dockerd answers');
  const data = dockerRun(['exec', survivor, 'docker', 'cp', 'kept:/data', '-']).stdout;
  t.match(data, /kept/, 'with its inner container and its file');
  const inner = innerRun(survivor, ['echo', 'inner ok']);
  t.equal(inner.stdout, 'inner ok\n', 'and its shared inner image runs');

  t.equal(dockerRun(['rm', '-f', survivor]).status, 0);
  const settled = await waitFor(
    () => JSON.stringify(snapshot()) === JSON.stringify(before),
    30000,
    500,
  );
  t.ok(settled, 'the host settles back to where it was');
  t.same(snapshot(), before, 'mounts, state, cgroups, ID ranges, inits and store as before');
});
