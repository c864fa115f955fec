'use strict';
// The launcher and its warm workers (src-c/relay.c, src-ts/cli/warm.ts): which commands a
// worker serves, that it serves them as the launcher's own process would, and that it refuses
// whom it should and dies with its launcher.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const native = require('../lib/native');
const { makeBundle, makeRoot, repo, runc, waitFor } = require('./helpers');

const launcher = path.join(repo, 'build', 'Release', 'sysbox-runc');
const socket = '/run/sysbox-runc-warm/socket';
const script = path.join(repo, 'lib', 'sysbox-runc.js');

/** Pids of the workers of this checkout that wait for a command. */
function workers() {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv.includes(script) && argv.some((a) => a.startsWith('--warm-worker'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function launch(args, opts = {}) {
  const r = spawnSync(launcher, args, { encoding: 'utf8', timeout: 60000, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** One worker waits, booted: it answers a probe and no other worker is starting. */
async function idleWorker(t) {
  if (workers().length === 0) launch(['--root', '/run/sysbox-warm-test', 'state', 'none']);
  await waitFor(() => workers().length === 1 && native.warmProbe(socket), 20000);
  // A worker listens as soon as it is up; the probe above only shows the socket accepts.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const [pid] = workers();
  t.ok(pid, `worker ${pid} waits`);
  return pid;
}

function alive(pid) {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

t.before(() => native.setChildSubreaper());

t.test('a create goes to the waiting worker; the container descends from the caller', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  const worker = await idleWorker(t);

  const r = launch(['--root', root, 'create', '--bundle', bundle, 'c'], { stdio: 'ignore' });
  t.equal(r.status, 0, 'created');
  await waitFor(() => !alive(worker), 5000);
  t.notOk(alive(worker), 'the waiting worker served it and exited');
  await waitFor(() => workers().length === 1, 20000);
  t.notSame(workers(), [worker], 'its successor waits');

  const state = JSON.parse(launch(['--root', root, 'state', 'c']).stdout);
  t.equal(state.status, 'created');
  const ppid = /PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${state.pid}/status`, 'utf8'))[1];
  t.equal(Number(ppid), process.pid, 'the init is reparented to the caller, its subreaper');
  t.equal(launch(['--root', root, 'start', 'c']).status, 0);
  t.equal(launch(['--root', root, 'delete', '--force', 'c']).status, 0);
  t.notOk(fs.existsSync(path.join(root, 'c')), 'deleted');
});

t.test('the worker takes the caller cwd, environment and relative paths', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  const worker = await idleWorker(t);

  const args = ['--root', root, 'create', '--bundle', '.', '--pid-file', 'init.pid', 'c'];
  const r = spawnSync('/bin/sh', ['-c', 'umask 077; exec "$0" "$@"', launcher, ...args], {
    cwd: bundle,
    stdio: 'ignore',
  });
  t.equal(r.status, 0, 'created with a relative bundle, under umask 077');
  await waitFor(() => !alive(worker), 5000);
  t.notOk(alive(worker), 'by the worker');
  const pidFile = fs.readFileSync(path.join(bundle, 'init.pid'), 'utf8');
  t.match(pidFile, /^\d+$/, 'with the pid file in the caller directory');
  const mode = fs.statSync(path.join(bundle, 'init.pid')).mode & 0o777;
  t.equal(mode, 0o644, 'the pid file is readable by all, as with runc');
  t.equal(launch(['--root', root, 'delete', '--force', 'c']).status, 0);

  await idleWorker(t);
  const killed = launch(['--root', root, 'create', '--bundle', bundle, 'k'], {
    env: { ...process.env, SYSBOX_TEST_KILL_AT: 'create:forked' },
  });
  t.equal(killed.status, 1, 'a command whose worker died fails');
  t.match(killed.stderr, /serving this command \(warm worker \d+\) died before it finished/);
  t.equal(launch(['--root', root, 'delete', '--force', 'k']).status, 0, 'and is cleaned up');
  t.notOk(fs.existsSync(path.join(root, 'k')));
});

t.test('a command may take its time in a worker', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000'], (c) => {
    c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '3'] }] };
  });
  const worker = await idleWorker(t);

  const r = launch(['--root', root, 'create', '--bundle', bundle, 'c'], { stdio: 'ignore' });
  t.equal(r.status, 0, 'a create with a hook of 3 s succeeds');
  t.notOk(alive(worker), 'in the worker');
  t.equal(launch(['--root', root, 'delete', '--force', 'c']).status, 0);
});

t.test('a killed launcher takes its command with it', async (t) => {
  const root = makeRoot(t);
  const marker = path.join(root, 'hook-ran');
  const bundle = makeBundle(t, ['sleep', '1000'], (c) => {
    c.hooks = {
      createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 5`] }],
    };
  });
  const worker = await idleWorker(t);

  const child = spawn(launcher, ['--root', root, 'create', '--bundle', bundle, 'c'], {
    stdio: 'ignore',
  });
  await waitFor(() => fs.existsSync(marker), 20000);
  t.equal(fs.readlinkSync(`/proc/${worker}/cwd`), process.cwd(), 'the worker runs the create');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  await waitFor(() => !alive(worker), 5000);
  t.notOk(alive(worker), 'and dies with its launcher, while the hook still runs');
  t.equal(launch(['--root', root, 'delete', '--force', 'c']).status, 0);
  t.notOk(fs.existsSync(path.join(root, 'c')), 'nothing is left');
});

t.test('a rebuilt runtime makes waiting workers step aside', async (t) => {
  const worker = await idleWorker(t);
  const now = new Date();
  fs.utimesSync(script, now, now);

  const r = launch(['--root', '/run/sysbox-warm-test', 'state', 'none']);
  t.match(r.stderr, /does not exist/, 'the command still runs');
  await waitFor(() => !alive(worker), 5000);
  t.notOk(alive(worker), 'the worker that loaded the old build exited');
  t.ok(await idleWorker(t), 'a new one waits');
});

t.test('workers serve only launchers like themselves', async (t) => {
  const worker = await idleWorker(t);

  const off = launch(['--root', '/run/sysbox-warm-test', 'state', 'none'], {
    env: { ...process.env, SYSBOX_WARM_WORKER: '0' },
  });
  t.match(off.stderr, /does not exist/, 'SYSBOX_WARM_WORKER=0: the launcher runs Node itself');
  t.ok(alive(worker), 'and the worker still waits');

  const confined = spawnSync(
    'setpriv',
    ['--bounding-set=-sys_admin', '--', launcher, '--root', '/run/sysbox-warm-test', 'state', 'x'],
    { encoding: 'utf8' },
  );
  t.match(confined.stderr, /does not exist/, 'a root with fewer capabilities gets an answer');
  t.ok(alive(worker), 'from a Node of its own, not from the worker');

  const nobody = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', '--', launcher, 'state', 'x'],
    { encoding: 'utf8' },
  );
  t.not(nobody.status, 0, 'a user other than root gets no runtime');
  t.ok(alive(worker), 'and cannot reach the worker');

  t.ok(native.warmProbe(socket), 'a connection that sends nothing');
  const after = launch(['--root', '/run/sysbox-warm-test', 'state', 'none']);
  t.match(after.stderr, /does not exist/);
  t.notOk(alive(worker), 'leaves the worker serving the next launcher');
});

t.test('the launcher itself deletes a running container with --force', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  t.equal(launch(['--root', root, 'run', '--detach', '--bundle', bundle, 'c']).status, 0);
  const { pid } = JSON.parse(launch(['--root', root, 'state', 'c']).stdout);
  t.ok(alive(pid), 'it runs');
  const worker = await idleWorker(t);

  const r = launch(['--root', root, 'delete', '--force', 'c']);
  t.equal(r.status, 0, r.stderr);
  t.notOk(alive(pid), 'its process is gone');
  t.notOk(fs.existsSync(path.join(root, 'c')), 'and its state');
  t.ok(alive(worker), 'without a worker');
  const cgroups = fs
    .readdirSync('/sys/fs/cgroup')
    .filter((h) => fs.existsSync(path.join('/sys/fs/cgroup', h, 'sysbox', 'c')));
  t.same(cgroups, [], 'and its cgroups');
});
