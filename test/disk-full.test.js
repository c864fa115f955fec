'use strict';
// The disk fills up while a system container is set up. A dockerd of the test's own keeps its
// data on a small tmpfs, so that only that file system fills: `docker run` must fail with an
// error that says so, leave nothing half-made, and work again once there is room.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { docker, dockerReady, innerReady, innerRun, waitFor } = require('./helpers');

const system = 'sysbox-test/system:latest';

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

/** A dockerd on a tmpfs of `size`, with sysbox-runc as its default runtime. */
async function privateDockerd(t, size) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-diskfull-'));
  fs.chmodSync(base, 0o700);
  const data = path.join(base, 'data');
  fs.mkdirSync(data);
  const mounted = spawnSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${size},mode=0700`,
    'tmpfs',
    data,
  ]);
  t.equal(mounted.status, 0, String(mounted.stderr));
  const runtime = { path: '/usr/local/bin/sysbox-runc' };
  const copying = { ...runtime, runtimeArgs: ['--inner-docker-image-sharing=false'] };
  const config = { runtimes: { 'sysbox-runc': runtime, 'sysbox-copy': copying } };
  fs.writeFileSync(path.join(base, 'daemon.json'), JSON.stringify(config));
  const sock = `unix://${path.join(base, 'docker.sock')}`;
  const log = fs.openSync(path.join(base, 'dockerd.log'), 'w');
  const daemon = spawn(
    '/usr/sbin/dockerd',
    [
      '--config-file',
      path.join(base, 'daemon.json'),
      '--data-root',
      data,
      '--exec-root',
      path.join(base, 'exec'),
      '--pidfile',
      path.join(base, 'dockerd.pid'),
      '-H',
      sock,
      '--bridge',
      'none',
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--add-runtime',
      'sysbox-runc=/usr/local/bin/sysbox-runc',
      '--default-runtime',
      'sysbox-runc',
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  const d = (args, opts = {}) => {
    const r = spawnSync(docker, ['-H', sock, ...args], {
      encoding: 'utf8',
      timeout: 120000,
      ...opts,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  t.teardown(async () => {
    for (const id of d(['ps', '-aq']).stdout.split(/\s+/).filter(Boolean)) d(['rm', '-f', id]);
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20000))]);
    spawnSync('umount', [data]);
    fs.rmSync(base, { recursive: true, force: true });
  });
  t.ok(await waitFor(() => d(['info']).status === 0, 30000, 250), 'the test dockerd answers');
  return { d, sock, data, exec: path.join(base, 'exec') };
}

function available(dir) {
  const r = spawnSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\n').pop());
}

t.test('a system container set up on a full disk fails cleanly, then works', async (t) => {
  const { d, sock, data, exec } = await privateDockerd(t, '800m');
  const loaded = spawnSync(
    'sh',
    ['-c', `${docker} save ${system} | ${docker} -H ${sock} load -q`],
    {
      encoding: 'utf8',
    },
  );
  t.equal(loaded.status, 0, loaded.stderr);

  // Each time, room for Docker's and containerd's own files for a new container but not for
  // what the runtime sets up: with sharing off, a copy of the 2 MB inner image; with it on,
  // the inner Docker's metadata (there the first to run out may be containerd).
  const filler = path.join(data, 'filler');
  for (const [runtime, left] of [
    ['sysbox-copy', 1024 * 1024],
    ['sysbox-runc', 100 * 1024],
  ]) {
    spawnSync('fallocate', ['-l', String(available(data) - left), filler]);
    const name = `full-${runtime}`;
    const failed = d([
      'run',
      '-d',
      '--runtime',
      runtime,
      '--network',
      'none',
      '--name',
      name,
      system,
    ]);
    t.not(failed.status, 0, `${runtime}: docker run fails`);
    t.match(failed.stderr, /no space left on device/i, `${runtime}: and says why`);
    if (runtime === 'sysbox-copy') {
      t.match(failed.stderr, /prepare the host directory for \/var\/lib\/docker/, 'in the runtime');
    }
    const layers = fs.readdirSync(path.join(data, 'overlay2'));
    const halfMade = layers.flatMap((l) => {
      const dir = path.join(data, 'overlay2', l, 'sysbox');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.includes('.tmp-')) : [];
    });
    t.same(halfMade, [], `${runtime}: no half-made copy is left`);
    const state = path.join(exec, 'runtime-runc', 'moby');
    t.same(fs.existsSync(state) ? fs.readdirSync(state) : [], [], 'no runtime state is left');
    const id = d(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
    t.notOk(id && fs.existsSync(`/sys/fs/cgroup/memory/docker/${id}`), 'nor a cgroup');
    d(['rm', '-f', name]);
    t.equal(d(['ps', '-aq']).stdout.trim(), '', 'docker rm -f removes it');
    const store = path.join(data, 'sysbox-inner-images', 'tmp');
    t.same(fs.existsSync(store) ? fs.readdirSync(store) : [], [], 'no half-built store entry');
    fs.rmSync(filler);
  }

  const ok = d(['run', '-d', '--network', 'none', '--name', 'roomy', system]);
  t.equal(ok.status, 0, ok.stderr);
  const up = await waitFor(() => innerReady('roomy', d), 60000, 250);
  t.ok(up, 'with room again, a container starts and its inner dockerd answers');
  const inner = innerRun('roomy', ['echo', 'inner ok'], d);
  t.equal(inner.stdout, 'inner ok\n', inner.stderr);
});
