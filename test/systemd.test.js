'use strict';
// systemd as the container's PID 1 under Docker, with no flag but --runtime: it boots, runs
// the inner Docker as a service that systemctl controls, and halts on `docker stop`. Needs the
// dockerd that scripts/setup.sh starts and sysbox-test/systemd from test/fixtures/build.sh.
const t = require('tap');
const { dockerRun, dockerReady, innerRun, waitFor } = require('./helpers');

const image = 'sysbox-test/systemd:latest';
const run = ['run', '--runtime=sysbox-runc', '--network', 'none'];

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function exec(id, ...cmd) {
  return dockerRun(['exec', id, ...cmd]);
}

/** What `systemctl is-system-running` says once the boot is over (not `starting`). */
async function bootState(id) {
  let state = '';
  await waitFor(() => {
    state = exec(id, 'systemctl', 'is-system-running').stdout.trim();
    return state !== '' && state !== 'starting' && state !== 'initializing';
  }, 120000);
  return state;
}

async function bootedContainer(t) {
  const r = dockerRun([...run, '-d', image]);
  t.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  t.teardown(() => dockerRun(['rm', '-f', id]));
  const state = await bootState(id);
  const failed = exec(id, 'systemctl', '--failed', '--no-legend', '--plain').stdout.trim();
  t.ok(['running', 'degraded'].includes(state), `systemd reached ${state}`);
  t.equal(failed, '', 'no unit failed');
  return id;
}

t.test('systemd boots in a system container and runs the inner Docker as a service', async (t) => {
  const id = await bootedContainer(t);
  t.match(exec(id, 'cat', '/proc/1/environ').stdout, /container=sysbox/, 'PID 1 knows');
  t.match(exec(id, 'systemd-detect-virt', '--container').stdout, /container-other/);
  const mounts = exec(id, 'findmnt', '-n', '-o', 'FSTYPE', '/run').stdout.trim();
  t.equal(mounts, 'tmpfs', '/run is a tmpfs');

  t.equal(exec(id, 'systemctl', 'is-active', 'docker').stdout.trim(), 'active');
  const hello = innerRun(id, ['echo', 'hi']);
  t.equal(hello.stdout, 'hi\n', hello.stderr);

  const stop = exec(id, 'systemctl', 'stop', 'docker.socket', 'docker.service');
  t.equal(stop.status, 0, stop.stderr);
  t.equal(exec(id, 'systemctl', 'is-active', 'docker').stdout.trim(), 'inactive', 'stopped');
  const start = exec(id, 'systemctl', 'start', 'docker');
  t.equal(start.status, 0, start.stderr);
  t.equal(exec(id, 'systemctl', 'is-active', 'docker').stdout.trim(), 'active', 'started');
  t.equal(exec(id, 'docker', 'images', '-q', 'sysbox-test/busybox').status, 0);
});

t.test('docker stop halts systemd cleanly within its timeout', async (t) => {
  const id = await bootedContainer(t);
  const started = Date.now();
  const stop = dockerRun(['stop', '-t', '30', id]);
  const seconds = (Date.now() - started) / 1000;
  t.equal(stop.status, 0, stop.stderr);
  t.ok(seconds < 25, `stopped in ${seconds.toFixed(1)} s, before the 30 s timeout`);
  const code = dockerRun(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim();
  t.not(code, '137', `exited by itself (status ${code}), not killed`);
  const mark = dockerRun(['cp', `${id}:/var/lib/sysbox-test-stopped`, '-']);
  t.equal(mark.status, 0, 'systemd stopped its units on the way out');
});
