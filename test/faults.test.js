'use strict';
// Crashes at each step of create, start and delete (SYSBOX_TEST_KILL_AT makes the command SIGKILL
// itself there): the next `delete --force` must leave no state, cgroup, ID range or process,
// and the id must be usable again.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { makeBundle, makeRoot, runc, repo, waitFor } = require('./helpers');

const cli = path.join(repo, 'lib', 'sysbox-runc.js');
const ids = '/run/sysbox-runc-ids';

function killedAt(root, step, args, bundle) {
  const out = fs.openSync(path.join(bundle, `${step}.out`), 'w');
  const r = spawnSync(process.execPath, [cli, '--root', root, ...args], {
    env: { ...process.env, SYSBOX_TEST_KILL_AT: step },
    stdio: ['ignore', out, out],
    timeout: 60000,
  });
  fs.closeSync(out);
  return r.signal;
}

/**
 * Nothing of container `id` is left: no state and no cgroup (so no process), and no ID range
 * recorded for it, except that a create killed between taking a range and recording it leaves
 * the range to be taken back by a later allocation (`staleRange`).
 */
async function nothingLeft(t, root, id, staleRange = false) {
  const dir = path.join(root, id);
  t.notOk(fs.existsSync(dir), 'no state directory');
  const cgroups = fs
    .readdirSync('/sys/fs/cgroup')
    .map((h) => path.join('/sys/fs/cgroup', h, 'sysbox', id))
    .filter((p) => fs.existsSync(p));
  t.same(cgroups, [], 'no cgroup');
  const held = fs.existsSync(ids)
    ? fs.readdirSync(ids).filter((f) => {
        try {
          return fs.readFileSync(path.join(ids, f), 'utf8') === dir;
        } catch {
          return false;
        }
      })
    : [];
  if (staleRange) t.ok(held.length <= 1, 'at most the one range whose owner is gone');
  else t.same(held, [], 'no ID range is recorded for it');
}

const createSteps = [
  'create:claimed',
  'create:allocated',
  'create:recorded',
  'create:cgroups',
  'create:forked',
  'create:ready',
];

for (const step of createSteps) {
  t.test(`a create killed at ${step} is cleaned up by delete --force`, async (t) => {
    const root = makeRoot(t);
    const bundle = makeBundle(t, ['sleep', '1000']);
    const signal = killedAt(root, step, ['create', '--bundle', bundle, 'c'], bundle);
    t.equal(signal, 'SIGKILL', `the command died at ${step}`);
    const d = runc(root, ['delete', '--force', 'c']);
    t.equal(d.status, 0, d.stderr);
    await nothingLeft(t, root, 'c', step === 'create:allocated');
    const again = spawnSync(
      process.execPath,
      [cli, '--root', root, 'create', '--bundle', bundle, 'c'],
      {
        stdio: 'ignore',
        timeout: 60000,
      },
    );
    t.equal(again.status, 0, 'the id can be created again');
    t.equal(runc(root, ['delete', '--force', 'c']).status, 0);
    await nothingLeft(t, root, 'c');
  });
}

t.test('a create killed half-way is removed by the next create, with no delete', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  t.equal(
    killedAt(root, 'create:cgroups', ['create', '--bundle', bundle, 'lost'], bundle),
    'SIGKILL',
  );
  t.ok(fs.existsSync(path.join(root, 'lost')), 'the killed create left its remains');
  const other = spawnSync(
    process.execPath,
    [cli, '--root', root, 'create', '--bundle', bundle, 'next'],
    { stdio: 'ignore', timeout: 60000 },
  );
  t.equal(other.status, 0, 'another create succeeds');
  await nothingLeft(t, root, 'lost');
  t.equal(runc(root, ['delete', '--force', 'next']).status, 0);
});

// start is killed after it opened the exec fifo (the container still waits) or after it wrote
// it (the container runs, the fifo is still there): either way the next delete --force cleans
// up, and a start killed early can be run again.
for (const step of ['start:opened', 'start:written']) {
  t.test(`a start killed at ${step} leaves a container that delete --force removes`, async (t) => {
    const root = makeRoot(t);
    const bundle = makeBundle(t, ['sleep', '1000']);
    const created = spawnSync(
      process.execPath,
      [cli, '--root', root, 'create', '--bundle', bundle, 'c'],
      { stdio: 'ignore', timeout: 60000 },
    );
    t.equal(created.status, 0);
    t.equal(killedAt(root, step, ['start', 'c'], bundle), 'SIGKILL');
    const status = JSON.parse(runc(root, ['state', 'c']).stdout).status;
    if (step === 'start:opened') {
      t.equal(status, 'created', 'the container still waits to start');
      t.equal(runc(root, ['start', 'c']).status, 0, 'and can be started');
    } else {
      t.ok(['created', 'running'].includes(status), `the container is ${status}`);
    }
    t.equal(runc(root, ['delete', '--force', 'c']).status, 0);
    t.ok(await waitFor(() => !fs.existsSync(path.join(root, 'c'))));
    await nothingLeft(t, root, 'c');
  });
}

for (const step of ['delete:killed', 'delete:cgroups']) {
  t.test(`a delete killed at ${step} is finished by the next one`, async (t) => {
    const root = makeRoot(t);
    const bundle = makeBundle(t, ['sleep', '1000']);
    const created = spawnSync(
      process.execPath,
      [cli, '--root', root, 'create', '--bundle', bundle, 'c'],
      {
        stdio: 'ignore',
        timeout: 60000,
      },
    );
    t.equal(created.status, 0);
    t.equal(runc(root, ['start', 'c']).status, 0);
    t.equal(killedAt(root, step, ['delete', '--force', 'c'], bundle), 'SIGKILL');
    t.equal(runc(root, ['delete', '--force', 'c']).status, 0);
    t.ok(await waitFor(() => !fs.existsSync(path.join(root, 'c'))));
    await nothingLeft(t, root, 'c');
  });
}

t.test('a state directory a create left without a record is removed a minute later', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  const orphan = path.join(root, 'orphan');
  const fresh = path.join(root, 'fresh');
  fs.mkdirSync(orphan);
  fs.mkdirSync(fresh);
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(orphan, old, old);

  const r = spawnSync(process.execPath, [cli, '--root', root, 'create', '--bundle', bundle, 'c'], {
    stdio: 'ignore',
    timeout: 60000,
  });
  t.equal(r.status, 0, 'a create runs the sweep');
  t.notOk(fs.existsSync(orphan), 'the old one is gone: its create died before writing a record');
  t.ok(fs.existsSync(fresh), 'a new one may be a create that has not written it yet');
  t.equal(runc(root, ['delete', '--force', 'c']).status, 0);
});
