'use strict';
// The per-container /proc and /sys files that sysbox-fs serves (src-c/fs/main.c): values of
// the container's own, writes kept per container, and what happens when the server dies.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  dockerReady,
  dockerRun,
  innerReady,
  innerRun,
  makeBundle,
  makeRoot,
  repo,
  waitFor,
} = require('./helpers');

const system = 'sysbox-test/system:latest';

const launcher = path.join(repo, 'build', 'Release', 'sysbox-runc');

function cli(root, args, opts = {}) {
  const r = spawnSync(launcher, ['--root', root, ...args], {
    encoding: 'utf8',
    timeout: 60000,
    ...opts,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A running container of a fresh bundle; deleted at teardown by makeRoot. */
function container(t, root, id) {
  const bundle = makeBundle(t, ['sleep', '1000']);
  const created = cli(root, ['create', '--bundle', bundle, id], { stdio: 'ignore' });
  t.equal(created.status, 0, `${id} created`);
  t.equal(cli(root, ['start', id]).status, 0, `${id} started`);
}

function sh(root, id, script) {
  return cli(root, ['exec', id, 'sh', '-c', script]);
}

function serverOf(root, id) {
  const mountpoint = path.join(root, id, 'fs');
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith('sysbox-fs') && argv[1] === mountpoint) return Number(p);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

const overcommit = '/proc/sys/vm/overcommit_memory';
const uuid = '/sys/devices/virtual/dmi/id/product_uuid';
const panic = '/proc/sys/kernel/panic';

t.test('a setting written in one container is that container alone', async (t) => {
  const root = makeRoot(t);
  container(t, root, 'a');
  container(t, root, 'b');
  const host = {
    overcommit: fs.readFileSync(overcommit, 'utf8'),
    panic: fs.readFileSync(panic, 'utf8'),
  };
  const newOvercommit = host.overcommit.trim() === '1' ? '2' : '1';

  const wrote = sh(root, 'a', `echo ${newOvercommit} > ${overcommit} && echo 42 > ${panic}`);
  t.equal(wrote.status, 0, wrote.stderr);
  t.equal(sh(root, 'a', `cat ${overcommit}`).stdout, `${newOvercommit}\n`, 'a reads its value');
  t.equal(sh(root, 'a', `cat ${panic}`).stdout, '42\n');
  t.equal(sh(root, 'b', `cat ${overcommit}`).stdout, host.overcommit, 'b reads the host value');
  t.equal(sh(root, 'b', `cat ${panic}`).stdout, host.panic);
  t.equal(fs.readFileSync(overcommit, 'utf8'), host.overcommit, 'the host is unchanged');
  t.equal(fs.readFileSync(panic, 'utf8'), host.panic);

  const bad = sh(root, 'a', `echo 7 > ${overcommit}`);
  t.not(bad.status, 0, 'a value the kernel would refuse is refused');
  const user = cli(root, ['exec', '--user', '1000', 'a', 'sh', '-c', `echo 0 > ${panic}`]);
  t.not(user.status, 0, 'a user other than the container root may not write');
  t.equal(sh(root, 'a', `cat ${panic}`).stdout, '42\n');
});

t.test('uptime starts near zero and the product UUID is the container own', async (t) => {
  const root = makeRoot(t);
  container(t, root, 'a');
  container(t, root, 'b');
  const uptime = Number(sh(root, 'b', 'cat /proc/uptime').stdout.split(' ')[0]);
  const host = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  t.ok(uptime >= 0 && uptime < 10, `the container's uptime is ${uptime} s (host: ${host} s)`);
  const a = sh(root, 'a', `cat ${uuid}`).stdout.trim();
  const b = sh(root, 'b', `cat ${uuid}`).stdout.trim();
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.not(a, b, 'each container has its own');
  t.equal(sh(root, 'a', 'ls /sys/devices/virtual/net').stdout, 'lo\n', 'sysfs keeps its own');
  t.equal(sh(root, 'a', 'echo x > /proc/sys/kernel/hostname; hostname').stdout, 'x\n');
});

t.test(
  'killing the server fails only the served files; stopping the container ends it',
  async (t) => {
    const root = makeRoot(t);
    container(t, root, 'a');
    container(t, root, 'b');
    const server = serverOf(root, 'a');
    t.ok(server, `a's server runs (${server})`);
    process.kill(server, 'SIGKILL');
    await waitFor(() => serverOf(root, 'a') === undefined, 5000);

    const served = sh(root, 'a', 'cat /proc/uptime');
    t.not(served.status, 0, 'a served file fails');
    t.match(served.stderr, /Transport endpoint is not connected/, 'with a clear error');
    t.match(sh(root, 'a', 'cat /proc/loadavg').stdout, /^\d/, 'the kernel files still work');
    t.match(sh(root, 'b', 'cat /proc/uptime').stdout, /^\d/, 'the other container is unharmed');

    const other = serverOf(root, 'b');
    t.equal(cli(root, ['kill', 'b', 'KILL']).status, 0);
    await waitFor(() => serverOf(root, 'b') === undefined, 10000);
    t.notOk(serverOf(root, 'b'), `b's server (${other}) ended with its container`);
    for (const id of ['a', 'b']) {
      t.equal(cli(root, ['delete', '--force', id]).status, 0, `${id} deleted`);
      const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(path.join(root, id));
      t.notOk(mounted, `no mount of ${id} is left`);
    }
  },
);

t.test('a /proc that an inner container mounts shows the same files', async (t) => {
  if (!dockerReady()) {
    t.fail('dockerd does not answer: run scripts/setup.sh first');
    return;
  }
  const r = dockerRun(['run', '-d', '--runtime=sysbox-runc', '--network', 'none', system]);
  t.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  t.teardown(() => dockerRun(['rm', '-f', id]));
  const ready = await waitFor(() => innerReady(id), 60000);
  t.ok(ready, 'the inner dockerd answers');
  const host = fs.readFileSync(overcommit, 'utf8').trim();
  const mine = host === '1' ? '2' : '1';
  t.equal(dockerRun(['exec', id, 'sh', '-c', `echo ${mine} > ${overcommit}`]).status, 0);

  const inner = innerRun(id, ['sh', '-c', `cat /proc/uptime ${overcommit} ${uuid}`]);
  t.equal(inner.status, 0, inner.stderr);
  const [uptime, value, innerUuid] = inner.stdout.trim().split('\n');
  const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const seconds = Number(uptime.split(' ')[0]);
  t.ok(seconds < 120, `the inner container's uptime is the system container's: ${seconds} s`);
  t.ok(seconds < hostUptime / 2, `not the host's (${hostUptime} s)`);
  t.equal(value, mine, "and its settings are the system container's");
  const outerUuid = dockerRun(['exec', id, 'cat', uuid]).stdout.trim();
  t.equal(innerUuid, outerUuid, "its sysfs has the system container's product UUID");
});
