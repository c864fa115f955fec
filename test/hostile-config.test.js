'use strict';
// Hostile config.json and rootfs: paths with `..`, symlinks out of the rootfs, mount targets
// through symlinks, huge values, wrong types. Each is refused with an error that names what is
// wrong and leaves nothing behind, or contained: the container is made and nothing outside it
// changes.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { makeBundle, makeRoot, runc, repo } = require('./helpers');

const cli = path.join(repo, 'lib', 'sysbox-runc.js');

/** create, with the container's streams in files (it keeps them open after create exits). */
function create(root, bundle, id) {
  const err = path.join(bundle, `${id}.stderr`);
  const fd = fs.openSync(err, 'w');
  const r = spawnSync(process.execPath, [cli, '--root', root, 'create', '--bundle', bundle, id], {
    stdio: ['ignore', fd, fd],
    timeout: 60000,
  });
  fs.closeSync(fd);
  return { status: r.status, signal: r.signal, stderr: fs.readFileSync(err, 'utf8') };
}

function mountedAt(target) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);
}

/** A host path for the test to watch, removed at the end. */
function sentinel(t, name) {
  const p = path.join(os.tmpdir(), `sysbox-hostile-${process.pid}-${name}`);
  t.teardown(() => fs.rmSync(p, { recursive: true, force: true }));
  return p;
}

/** Refused: non-zero exit, an error naming `what`, and no state, cgroup or range left. */
function refused(t, root, bundle, id, what) {
  const r = create(root, bundle, id);
  t.not(r.status, 0, 'create fails');
  t.equal(r.signal, null, 'with an error, not a crash or a timeout');
  t.match(r.stderr, what, 'the error names what is wrong');
  t.same(fs.readdirSync(root), [], 'no state is left');
  t.notOk(fs.existsSync(`/sys/fs/cgroup/memory/sysbox/${id}`), 'no cgroup is left');
}

/** Contained: either refused cleanly or made; then `check` must hold and delete cleans up. */
function contained(t, root, bundle, id, check) {
  const r = create(root, bundle, id);
  t.equal(r.signal, null, 'create ends by itself');
  if (r.status !== 0) t.same(fs.readdirSync(root), [], `refused (${r.stderr.trim()}), cleanly`);
  check();
  t.equal(runc(root, ['delete', '--force', id]).status, 0);
  check();
}

t.test('a mount destination with .. stays in the container', async (t) => {
  const root = makeRoot(t);
  const target = sentinel(t, 'dotdot');
  const bundle = makeBundle(t, ['true'], (c) => {
    c.mounts.push({
      destination: `/../../../../../..${target}`,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['size=1m'],
    });
  });
  contained(t, root, bundle, 'dotdot', () => {
    t.notOk(fs.existsSync(target), 'nothing was made at the host path');
    t.notOk(mountedAt(target), 'nothing is mounted there');
  });
});

t.test('a mount target through a symlink out of the rootfs stays in the container', async (t) => {
  const root = makeRoot(t);
  const target = sentinel(t, 'through');
  fs.mkdirSync(target);
  const bundle = makeBundle(t, ['true'], (c) => {
    c.mounts.push({ destination: '/mnt/out/sub', type: 'tmpfs', source: 'tmpfs' });
  });
  fs.mkdirSync(path.join(bundle, 'rootfs', 'mnt'), { recursive: true });
  fs.symlinkSync(target, path.join(bundle, 'rootfs', 'mnt', 'out'));
  contained(t, root, bundle, 'through', () => {
    t.same(fs.readdirSync(target), [], 'the host directory the symlink names is untouched');
    t.notOk(mountedAt(path.join(target, 'sub')), 'and nothing is mounted below it');
  });
});

t.test('a cwd through a symlink out of the rootfs stays in the container', async (t) => {
  const root = makeRoot(t);
  const target = sentinel(t, 'cwd');
  fs.mkdirSync(target);
  const bundle = makeBundle(t, ['sh', '-c', 'echo escaped > here'], (c) => {
    c.process.cwd = '/away';
  });
  fs.symlinkSync(target, path.join(bundle, 'rootfs', 'away'));
  contained(t, root, bundle, 'cwd', () => {
    t.same(fs.readdirSync(target), [], 'the host directory is untouched');
  });
});

t.test('a rootfs path that climbs out of the bundle is refused', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true'], (c) => {
    c.root.path = '../../../../../../etc';
  });
  refused(t, root, bundle, 'climb', /rootfs \/etc can be reached by users other than root/);
});

const wrong = [
  ['process.args is a string', (c) => (c.process.args = 'true'), /process\.args/],
  ['mounts is an object', (c) => (c.mounts = { destination: '/x' }), /mounts/],
  ['a uid is negative', (c) => (c.process.user.uid = -1), /process\.user\.uid/],
  ['an env entry is a number', (c) => c.process.env.push(42), /process\.env/],
  [
    'a memory limit is a string',
    (c) => (c.linux.resources = { memory: { limit: 'lots' } }),
    /memory\.limit/,
  ],
  ['the hostname is 100 kB', (c) => (c.hostname = 'h'.repeat(100000)), /hostname/],
  [
    'an rlimit is beyond 2^64',
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 2 ** 70, soft: 2 ** 70 }]),
    /rlimit/i,
  ],
  ['oomScoreAdj is 10^9', (c) => (c.process.oomScoreAdj = 1e9), /oom/i],
  ['a mount destination is relative', (c) => c.mounts.push({ destination: 'x' }), /absolute/],
];

for (const [name, edit, what] of wrong) {
  t.test(`refused: ${name}`, async (t) => {
    const root = makeRoot(t);
    const bundle = makeBundle(t, ['true'], edit);
    refused(t, root, bundle, 'bad', what);
  });
}

t.test('a memory limit of 10^30 bytes is refused or contained', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true'], (c) => {
    c.linux.resources = { memory: { limit: 1e30 } };
  });
  contained(t, root, bundle, 'huge', () => {});
});
