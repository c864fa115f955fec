'use strict';
// End to end under a real Docker engine with sysbox-runc as the runtime. Needs the dockerd that
// scripts/setup.sh starts and the images test/fixtures/build.sh makes.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { docker, dockerRun, dockerReady, hostMounts, waitFor } = require('./helpers');

const busybox = 'sysbox-test/busybox:latest';
const cli = path.join(__dirname, '..', 'lib', 'sysbox-runc.js');
const system = 'sysbox-test/system:latest';
const run = ['run', '--runtime=sysbox-runc', '--network', 'none'];

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function removeAtEnd(t, id) {
  t.teardown(() => dockerRun(['rm', '-f', id]));
}

function inspect(id, format) {
  return dockerRun(['inspect', '--format', format, id]).stdout.trim();
}

/** Runs a command under a pseudo-terminal, as a person at a terminal would. */
function withTerminal(command) {
  return spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    timeout: 60000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

t.test('docker run --rm prints the output of a plain image', async (t) => {
  const r = dockerRun([...run, '--rm', busybox, 'echo', 'hi']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'hi\n');
});

t.test('docker run passes the exit status through', async (t) => {
  t.equal(dockerRun([...run, '--rm', busybox, 'sh', '-c', 'exit 7']).status, 7);
});

t.test('docker run -it gives a working terminal', async (t) => {
  const r = withTerminal(`${docker} ${run.join(' ')} --rm -it ${busybox} sh -c 'tty; echo ok'`);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /\/dev\/pts\/\d+\r?\nok/);
});

t.test('docker exec works with and without -t', async (t) => {
  const id = dockerRun([...run, '-d', busybox, 'sleep', '1000']).stdout.trim();
  removeAtEnd(t, id);
  const plain = dockerRun(['exec', id, 'sh', '-c', 'id -u; tty || true']);
  t.equal(plain.status, 0, plain.stderr);
  t.match(plain.stdout, /^0\nnot a tty\n$/);
  const tty = withTerminal(`${docker} exec -it ${id} sh -c 'tty; echo $TERM'`);
  t.equal(tty.status, 0, tty.stderr);
  t.match(tty.stdout, /\/dev\/pts\/\d+/);
  t.equal(dockerRun(['exec', id, 'sh', '-c', 'exit 5']).status, 5);
});

t.test('docker stop ends a container within its timeout', async (t) => {
  const script = 'trap "exit 0" TERM; while :; do sleep 0.1; done';
  const id = dockerRun([...run, '-d', busybox, 'sh', '-c', script]).stdout.trim();
  removeAtEnd(t, id);
  let started = Date.now();
  t.equal(dockerRun(['stop', '-t', '10', id]).status, 0);
  t.ok(Date.now() - started < 5000, 'a process that handles SIGTERM stops at once');
  t.equal(inspect(id, '{{.State.ExitCode}}'), '0');

  const stubborn = dockerRun([...run, '-d', busybox, 'sleep', '1000']).stdout.trim();
  removeAtEnd(t, stubborn);
  started = Date.now();
  t.equal(dockerRun(['stop', '-t', '2', stubborn]).status, 0);
  const took = Date.now() - started;
  t.ok(
    took >= 1900 && took < 8000,
    `one that ignores SIGTERM is killed at the timeout (${took} ms)`,
  );
  t.equal(inspect(stubborn, '{{.State.Running}}'), 'false');
});

t.test('docker rm leaves no mounts, state or cgroups behind', async (t) => {
  const id = dockerRun([...run, '-d', system]).stdout.trim();
  const upper = inspect(id, '{{.GraphDriver.Data.UpperDir}}');
  const layer = path.dirname(upper);
  const volumes = path.join(layer, 'sysbox');
  t.ok(await waitFor(() => fs.existsSync(path.join(volumes, 'var-lib-docker'))));
  t.equal(dockerRun(['rm', '-f', id]).status, 0);
  t.notOk(fs.existsSync(`/run/docker/runtime-runc/moby/${id}`), 'no runtime state');
  t.notOk(fs.existsSync(`/sys/fs/cgroup/memory/docker/${id}`), 'no cgroup');
  t.notOk(fs.existsSync(volumes), 'no inner-data directory');
  t.same(hostMounts([layer, `/run/docker/runtime-runc/moby/${id}`]), [], 'no mount');
});

t.test('a system container runs its preloaded inner image', async (t) => {
  const id = dockerRun(['run', '--runtime=sysbox-runc', '-d', system]).stdout.trim();
  removeAtEnd(t, id);
  const up = await waitFor(
    () => dockerRun(['exec', id, 'docker', 'info']).status === 0,
    60000,
    250,
  );
  t.ok(up, 'the inner dockerd answers');

  const pid = inspect(id, '{{.State.Pid}}');
  const map = fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/);
  t.equal(map[0], '0');
  t.not(map[1], '0', "the init's first host ID is not 0");

  const images = dockerRun(['exec', id, 'docker', 'images', '--format', '{{.Repository}}']);
  t.match(images.stdout, /^sysbox-test\/busybox$/m, 'the preloaded image is listed');
  const inner = dockerRun([
    'exec',
    id,
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    busybox,
    'echo',
    'hello inner',
  ]);
  t.equal(inner.status, 0, inner.stderr);
  t.equal(inner.stdout, 'hello inner\n');
});

/** An inner container, stopped, with a file of its own: what persistence tests look for. */
function makeKeptInnerContainer(id) {
  const cmd = ['sh', '-c', 'echo persisted > /data'];
  return dockerRun([
    'exec',
    id,
    'docker',
    'run',
    '--network',
    'none',
    '--name',
    'kept',
    busybox,
    ...cmd,
  ]);
}

t.test('inner data persists across docker stop and start', async (t) => {
  const id = await systemContainer(t, system);
  const ready = () => dockerRun(['exec', id, 'docker', 'info']).status === 0;
  const made = makeKeptInnerContainer(id);
  t.equal(made.status, 0, made.stderr);
  t.equal(dockerRun(['stop', id]).status, 0);
  t.equal(dockerRun(['start', id]).status, 0);
  t.ok(await waitFor(ready, 60000, 250), 'the inner dockerd comes back');
  const cp = dockerRun(['exec', id, 'docker', 'cp', 'kept:/data', '-']);
  t.equal(cp.status, 0, cp.stderr);
  t.match(cp.stdout, /persisted/, "the inner container's file survived");
});

t.test('mounts made inside a system container stay inside it', async (t) => {
  const id = dockerRun(['run', '--runtime=sysbox-runc', '-d', system]).stdout.trim();
  removeAtEnd(t, id);
  const layer = path.dirname(inspect(id, '{{.GraphDriver.Data.UpperDir}}'));
  const before = hostMounts([layer]);
  t.same(before, [path.join(layer, 'merged')], "only Docker's own mount of the rootfs");
  const probe = 'mkdir -p /var/lib/docker/probe && mount -t tmpfs probe /var/lib/docker/probe';
  t.equal(dockerRun(['exec', id, 'sh', '-c', probe]).status, 0);
  t.same(hostMounts([layer]), before, 'the mount made inside does not reach the host');
});

/** Starts a system container from `image` and waits for its inner Docker. */
async function systemContainer(t, image) {
  const id = dockerRun(['run', '--runtime=sysbox-runc', '-d', image]).stdout.trim();
  removeAtEnd(t, id);
  const up = await waitFor(
    () => dockerRun(['exec', id, 'docker', 'info']).status === 0,
    60000,
    250,
  );
  t.ok(up, `the inner dockerd of ${image} answers`);
  return id;
}

function innerImages(id) {
  const r = dockerRun(['exec', id, 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

function layerSize(image) {
  const r = dockerRun(['history', '--no-trunc', '--format', '{{.Size}}', '--human=false', image]);
  return Number(r.stdout.split('\n')[0]);
}

/** Makes an inner image `name` from the preloaded busybox, as a new layer of about 2 MB. */
function makeInnerImage(id, name) {
  const script =
    'docker create --name exp sysbox-test/busybox true >/dev/null && ' +
    `docker export exp | docker import - ${name} >/dev/null && docker rm exp >/dev/null`;
  return dockerRun(['exec', id, 'sh', '-c', script]).status === 0;
}

function innerRun(id, image) {
  const run = ['exec', id, 'docker', 'run', '--rm', '--pull', 'never', '--network', 'none'];
  return dockerRun([...run, image, '/bin/busybox', 'echo', `${image} runs`]).stdout;
}

t.test('docker commit captures inner images, in layers, and inner deletions stick', async (t) => {
  const committed = ['sysbox-test/commit-1', 'sysbox-test/commit-2', 'sysbox-test/commit-3'];
  t.teardown(() => dockerRun(['rmi', ...committed.reverse()]));
  const first = await systemContainer(t, system);
  t.ok(makeInnerImage(first, 'probe:1'), 'an image is made inside');
  t.equal(dockerRun(['commit', first, committed[0]]).status, 0);
  const loaded = layerSize(committed[0]);
  t.ok(loaded < 3_000_000, `the committed layer holds about the new image (${loaded} bytes)`);

  const second = await systemContainer(t, committed[0]);
  t.ok(makeInnerImage(second, 'probe:2'), 'a second image on top of the first');
  t.equal(dockerRun(['commit', second, committed[1]]).status, 0);

  const third = await systemContainer(t, committed[1]);
  t.same(innerImages(third), ['probe:1', 'probe:2', 'sysbox-test/busybox:latest']);
  t.equal(innerRun(third, 'probe:1'), 'probe:1 runs\n');
  t.equal(innerRun(third, 'probe:2'), 'probe:2 runs\n');
  t.equal(dockerRun(['exec', third, 'docker', 'rmi', 'probe:1']).status, 0);
  t.equal(dockerRun(['commit', third, committed[2]]).status, 0);

  const removed = layerSize(committed[2]);
  t.ok(removed < 1_000_000, `the deletion adds whiteouts, not the files (${removed} bytes)`);

  const fourth = await systemContainer(t, committed[2]);
  t.same(innerImages(fourth), ['probe:2', 'sysbox-test/busybox:latest'], 'probe:1 stays deleted');
  t.equal(innerRun(fourth, 'probe:2'), 'probe:2 runs\n');
});

t.test('a stopped container that changed nothing adds almost nothing', async (t) => {
  const image = 'sysbox-test/commit-0';
  t.teardown(() => dockerRun(['rmi', image]));
  const id = await systemContainer(t, system);
  t.equal(dockerRun(['stop', id]).status, 0);
  const sized = dockerRun([
    'ps',
    '-a',
    '-s',
    '--no-trunc',
    '--filter',
    `id=${id}`,
    '--format',
    '{{.Size}}',
  ]);
  const m = /^([\d.]+)([kMG]?B)/.exec(sized.stdout.trim());
  const bytes = m ? Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2]] : Infinity;
  t.ok(bytes <= 1e6, `docker ps -s shows ${sized.stdout.trim()}`);
  t.equal(dockerRun(['commit', id, image]).status, 0);
  t.ok(layerSize(image) <= 1e6, `the committed layer is ${layerSize(image)} bytes`);
});

t.test('docker build with the legacy builder keeps an image loaded in a RUN step', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-build-'));
  t.teardown(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    dockerRun(['rmi', 'sysbox-test/built']);
  });
  fs.writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      `FROM ${system}`,
      'RUN (dockerd >/tmp/dockerd.log 2>&1 &) ; \\',
      '    for i in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done; \\',
      '    docker create --name exp sysbox-test/busybox true >/dev/null && \\',
      '    docker export exp | docker import - built:1 && docker rm exp >/dev/null && \\',
      '    kill $(cat /var/run/docker.pid) && while [ -e /var/run/docker.pid ]; do sleep 0.2; done',
    ].join('\n') + '\n',
  );
  const info = dockerRun(['info', '--format', '{{.DefaultRuntime}}']).stdout.trim();
  t.equal(info, 'sysbox-runc', 'scripts/start-dockerd.sh makes sysbox-runc the default runtime');
  const built = dockerRun(['build', '-t', 'sysbox-test/built', dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  t.equal(built.status, 0, built.stderr);
  const id = await systemContainer(t, 'sysbox-test/built');
  t.same(innerImages(id), ['built:1', 'sysbox-test/busybox:latest']);
  const run = ['exec', id, 'docker', 'run', '--rm', '--pull', 'never', '--network', 'none'];
  t.equal(dockerRun([...run, 'built:1', '/bin/busybox', 'echo', 'ok']).stdout, 'ok\n');
});

for (const [base, d] of [
  [system, '/etc/apt/apt.conf.d'],
  // Without inner data the launcher deletes the stopped container itself (see launcher.c).
  [busybox, '/usr/sbin'],
]) {
  t.test(
    `a directory replaced inside keeps only its new contents, in a commit and after (${base})`,
    async (t) => {
      const image = 'sysbox-test/opaque';
      t.teardown(() => dockerRun(['rmi', image]));
      const script = `rm -rf ${d} && mkdir ${d} && echo x > ${d}/only && sleep 1000`;
      const id = dockerRun([
        'run',
        '--runtime=sysbox-runc',
        '-d',
        '--network',
        'none',
        base,
        'sh',
        '-c',
        script,
      ]).stdout.trim();
      removeAtEnd(t, id);
      t.ok(await waitFor(() => dockerRun(['exec', id, 'ls', d]).stdout === 'only\n'), 'inside');
      t.equal(dockerRun(['stop', '-t', '1', id]).status, 0);
      t.equal(dockerRun(['commit', id, image]).status, 0);
      for (const runtime of ['runc', 'sysbox-runc']) {
        const r = dockerRun([
          'run',
          '--rm',
          `--runtime=${runtime}`,
          '--network',
          'none',
          image,
          'ls',
          d,
        ]);
        t.equal(r.stdout, 'only\n', `the committed image under ${runtime}`);
      }
    },
  );
}

/**
 * A listing of every entry below `root` as it is on disk: type, mode, owner, size, device,
 * link target, xattrs, content hash, and which entries share an inode.
 */
function listing(root) {
  const crypto = require('node:crypto');
  const native = require('../lib/native');
  const inodes = new Map();
  const out = [];
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(root, p);
      const group = inodes.get(st.ino) ?? rel;
      inodes.set(st.ino, group);
      const xattrs = native
        .listXattrs(p)
        .sort()
        .map((x) => `${x}=${native.getXattr(p, x).toString('hex')}`);
      const entry = { rel, mode: st.mode, uid: st.uid, gid: st.gid, xattrs, linkedTo: group };
      if (st.isFile()) {
        entry.size = st.size;
        entry.sha = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      }
      if (st.isSymbolicLink()) entry.target = fs.readlinkSync(p);
      if (st.isCharacterDevice() || st.isBlockDevice()) entry.rdev = st.rdev;
      out.push(entry);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

t.test('inner data keeps every kind of file through a commit and a new start', async (t) => {
  const native = require('../lib/native');
  const image = 'sysbox-test/fidelity';
  t.teardown(() => dockerRun(['rmi', image]));
  const first = await systemContainer(t, system);
  const volume = (id) =>
    path.join(
      path.dirname(inspect(id, '{{.GraphDriver.Data.UpperDir}}')),
      'sysbox',
      'var-lib-docker',
    );
  // Written from the host into the container's inner-data directory, with on-disk owners.
  const tree = path.join(volume(first), 'fidelity');
  fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
  fs.chownSync(path.join(tree, 'd'), 1000, 1000);
  fs.chmodSync(path.join(tree, 'd'), 0o750);
  native.setXattr(path.join(tree, 'd'), 'user.dir', Buffer.from('dv'));
  const f = path.join(tree, 'd', 'f');
  fs.writeFileSync(f, 'hello');
  fs.chownSync(f, 1001, 1002);
  fs.chmodSync(f, 0o640);
  native.setXattr(f, 'user.a', Buffer.from('1'));
  fs.linkSync(f, path.join(tree, 'f2'));
  fs.symlinkSync('d/f', path.join(tree, 's'));
  spawnSync('mkfifo', [path.join(tree, 'p')]);
  spawnSync('mknod', [path.join(tree, 'null'), 'c', '1', '3']);
  // What Docker's layer tars cannot hold: an inner whiteout and a socket.
  native.makeNode(path.join(tree, 'd', 'whiteout'), 0o020000, 0);
  native.makeNode(path.join(tree, 'sock'), 0o140755, 0);
  const sparse = path.join(tree, 'sparse');
  fs.writeFileSync(sparse, '');
  fs.truncateSync(sparse, 16 * 1024 * 1024);
  fs.appendFileSync(sparse, 'end');
  const capped = path.join(tree, 'capped');
  fs.writeFileSync(capped, '#!/bin/sh\n');
  // A v2 file capability granting CAP_NET_RAW (bit 13), effective.
  const cap = Buffer.alloc(20);
  cap.writeUInt32LE(0x02000001, 0);
  cap.writeUInt32LE(1 << 13, 4);
  native.setXattr(capped, 'security.capability', cap);
  const before = listing(tree);

  t.equal(dockerRun(['commit', first, image]).status, 0);
  const second = await systemContainer(t, image);
  const copied = path.join(volume(second), 'fidelity');
  t.same(listing(copied), before, 'type, mode, owner, size, xattrs, links and content');
  t.match(before.find((e) => e.rel === 'capped').xattrs, [/^security\.capability=/]);
  const st = fs.statSync(path.join(copied, 'sparse'));
  t.ok(st.blocks * 512 < st.size / 4, 'the sparse file is still sparse');
});

t.test('inner images and containers survive docker restart and a restart of dockerd', async (t) => {
  const ours = fs.existsSync('/run/sysbox-dockerd.pid');
  if (!ours) {
    t.skip('dockerd was not started by scripts/start-dockerd.sh; the test restarts only that one');
    return;
  }
  const id = await systemContainer(t, system);
  const made = makeKeptInnerContainer(id);
  t.equal(made.status, 0, made.stderr);
  const ready = () => dockerRun(['exec', id, 'docker', 'info']).status === 0;
  const innerData = () => dockerRun(['exec', id, 'docker', 'cp', 'kept:/data', '-']).stdout;

  t.equal(dockerRun(['restart', id]).status, 0);
  t.ok(await waitFor(ready, 60000, 250), 'the inner dockerd is back after docker restart');
  t.match(innerData(), /persisted/);

  const scripts = path.join(__dirname, '..', 'scripts');
  t.equal(spawnSync(path.join(scripts, 'stop-dockerd.sh')).status, 0, 'dockerd stopped');
  const started = spawnSync(path.join(scripts, 'start-dockerd.sh'), { encoding: 'utf8' });
  t.equal(started.status, 0, started.stderr);
  t.equal(dockerRun(['start', id]).status, 0);
  t.ok(await waitFor(ready, 60000, 250), 'the inner dockerd is back after dockerd restarted');
  t.same(innerImages(id), ['sysbox-test/busybox:latest']);
  t.match(innerData(), /persisted/, "the inner container's file survived");
});

t.test('an inner containerd keeps images imported with ctr through a commit', async (t) => {
  const image = 'sysbox-test/inner-containerd';
  t.teardown(() => dockerRun(['rmi', image]));
  const sh = (id, script) => dockerRun(['exec', id, 'sh', '-c', script]);
  // A containerd of its own beside the inner dockerd, without CRI, which would look for CNI.
  const start =
    'printf "version = 2\\ndisabled_plugins = [\\"io.containerd.grpc.v1.cri\\"]\\n" > /tmp/c.toml' +
    ' && (containerd --config /tmp/c.toml >/tmp/containerd.log 2>&1 &)' +
    ' && for i in $(seq 60); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done';
  const stop =
    'kill $(pidof containerd | tr " " "\\n" | while read p; do ' +
    'grep -q c.toml /proc/$p/cmdline && echo $p; done); sleep 1';
  const first = await systemContainer(t, system);
  t.equal(sh(first, start).status, 0, 'the inner containerd started');
  const imported = sh(
    first,
    'docker save -o /tmp/b.tar sysbox-test/busybox && ctr image import /tmp/b.tar && rm /tmp/b.tar',
  );
  t.equal(imported.status, 0, imported.stderr);
  t.equal(sh(first, stop).status, 0);
  t.equal(dockerRun(['commit', first, image]).status, 0);

  const second = await systemContainer(t, image);
  t.equal(sh(second, start).status, 0);
  const listed = sh(second, 'ctr images ls -q');
  t.match(listed.stdout, /docker\.io\/sysbox-test\/busybox:latest/, 'the image is listed');
  const ran = sh(second, 'ctr run --rm docker.io/sysbox-test/busybox:latest c1 echo from-ctr');
  t.equal(ran.stdout, 'from-ctr\n', ran.stderr);
  sh(second, stop);
});

t.test('committing after loading an image of S bytes adds at most S plus 5%', async (t) => {
  const image = 'sysbox-test/commit-big';
  t.teardown(() => dockerRun(['rmi', image]));
  const id = await systemContainer(t, system);
  const make =
    'mkdir -p /tmp/big && head -c 20000000 /dev/urandom > /tmp/big/blob && ' +
    'tar -C /tmp/big -c . | docker import - big:1 >/dev/null && rm -rf /tmp/big';
  t.equal(dockerRun(['exec', id, 'sh', '-c', make]).status, 0);
  const size = Number(
    dockerRun(['exec', id, 'docker', 'image', 'inspect', '--format', '{{.Size}}', 'big:1']).stdout,
  );
  t.ok(size > 19_000_000, `the inner image is ${size} bytes`);
  t.equal(dockerRun(['commit', id, image]).status, 0);
  const layer = layerSize(image);
  t.ok(
    layer <= size * 1.05,
    `the committed layer is ${layer} bytes, ${(layer / size).toFixed(3)}× S`,
  );
});

/** Runs the Docker client without blocking, so that several run at once. */
function dockerAsync(args) {
  const { spawn } = require('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(docker, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

t.test('16 system containers started at once all run an inner container', async (t) => {
  // Unused store entries are freed first, so that the image's inner layers are shared anew.
  const others = dockerRun(['ps', '-aq', '--filter', `ancestor=${system}`]).stdout.trim();
  const fresh = others === '';
  if (fresh) {
    const gc = spawnSync(process.execPath, [cli, 'store', 'gc'], { encoding: 'utf8' });
    t.equal(gc.status, 0, gc.stderr);
  }
  const started = await Promise.all(
    Array.from({ length: 16 }, () => dockerAsync(['run', '--runtime=sysbox-runc', '-d', system])),
  );
  const ids = started.map((r) => r.stdout.trim()).filter((id) => /^[0-9a-f]{64}$/.test(id));
  for (const id of ids) removeAtEnd(t, id);
  t.equal(ids.length, 16, 'all 16 started');
  if (fresh) {
    const logs = ids.map((id) => {
      const shim = '/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby';
      const file = `${shim}/${id}/log.json`;
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    });
    const builds = logs.join('').match(/inner layer \S+ (linked|copied) as/g) ?? [];
    t.equal(builds.length, 1, 'the inner image was set up once for all 16');
  }
  const ran = await Promise.all(
    ids.map(async (id) => {
      const up = await waitFor(
        () => dockerRun(['exec', id, 'docker', 'info']).status === 0,
        90000,
        500,
      );
      if (!up) return 'inner dockerd did not answer';
      const r = await dockerAsync([
        'exec',
        id,
        'docker',
        'run',
        '--rm',
        '--network',
        'none',
        busybox,
        'echo',
        'ok',
      ]);
      return r.stdout.trim() || r.stderr.trim();
    }),
  );
  t.same(ran, Array(16).fill('ok'), 'each ran an inner container');
});

t.test('10 inner containers started at once in one system container all run', async (t) => {
  const id = await systemContainer(t, system);
  const ran = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      dockerAsync([
        'exec',
        id,
        'docker',
        'run',
        '--rm',
        '--network',
        'none',
        busybox,
        'echo',
        `inner-${i}`,
      ]),
    ),
  );
  t.same(
    ran.map((r) => r.stdout.trim()),
    Array.from({ length: 10 }, (_, i) => `inner-${i}`),
  );
});
