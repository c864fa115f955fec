'use strict';
// Inner image sharing: containers of an image share its preloaded inner image layers from one
// store entry, read-only, keyed by content; inner `docker rmi` works; use records free entries.
const t = require('tap');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { docker, dockerRun, dockerReady, repo, runc, waitFor } = require('./helpers');

const busybox = 'sysbox-test/busybox:latest';
const system = 'sysbox-test/system:latest';
const store = '/var/lib/docker/sysbox-inner-images';
const cli = path.join(repo, 'lib', 'sysbox-runc.js');
const { listXattrs } = require(path.join(repo, 'lib', 'native.js'));

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function inspectImage(image) {
  return JSON.parse(dockerRun(['image', 'inspect', image]).stdout)[0];
}

function inspect(id, format) {
  return dockerRun(['inspect', '--format', format, id]).stdout.trim();
}

async function systemContainer(t, image, extra = []) {
  const r = dockerRun(['run', '-d', '--runtime=sysbox-runc', '--network', 'none', ...extra, image]);
  t.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  t.teardown(() => dockerRun(['rm', '-f', id]));
  const up = await waitFor(() => dockerRun(['exec', id, 'docker', 'info']).status === 0, 60000);
  t.ok(up, `the inner dockerd of ${id.slice(0, 12)} answers`);
  return id;
}

function exec(id, ...cmd) {
  return dockerRun(['exec', id, ...cmd]);
}

function innerRun(id, ...cmd) {
  return exec(id, 'docker', 'run', '--rm', '--network', 'none', busybox, ...cmd);
}

/** The host directory that backs the container's /var/lib/docker. */
function innerDir(id) {
  const upper = inspect(id, '{{.GraphDriver.Data.UpperDir}}');
  return path.join(path.dirname(upper), 'sysbox', 'var-lib-docker');
}

/** Store hashes that the container's inner Docker points its layers at. */
function sharedHashes(id) {
  const dir = path.join(innerDir(id), 'overlay2');
  const out = [];
  for (const n of fs.readdirSync(dir)) {
    try {
      const m = /\.sysbox-shared\/([0-9a-f]{64})$/.exec(fs.readlinkSync(path.join(dir, n, 'diff')));
      if (m) out.push(m[1]);
    } catch {
      // Not a layer directory, or a layer of its own.
    }
  }
  return out.sort();
}

function storeList(args = []) {
  const r = runc('/run/sysbox-runc-test-unused', [...args, 'store', 'list', '--format', 'json']);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function usersOf(hash, args) {
  const e = storeList(args).find((x) => x.name === hash);
  return e ? e.users.filter((u) => u.live).map((u) => u.path) : undefined;
}

/** The runtime's own tree hash (src-c/treehash.c) of a directory. */
function treeHash(dir) {
  const native = JSON.stringify(path.join(repo, 'lib', 'native.js'));
  const code = `require(${native}).hashTree(${JSON.stringify(dir)}).then((h) => console.log(h))`;
  return spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' }).stdout.trim();
}

function sha(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Bytes of the blocks of a tree, as du counts them. */
function du(dir) {
  const r = spawnSync('du', ['-sxB1', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

t.test('containers of one image share its inner layers from one store entry', async (t) => {
  const a = await systemContainer(t, system);
  const b = await systemContainer(t, system);
  const hashes = sharedHashes(a);
  t.equal(hashes.length, 1, 'the one preloaded layer is shared');
  t.same(sharedHashes(b), hashes, 'both point at the same entry');
  const users = usersOf(hashes[0]);
  t.ok(users.includes(innerDir(a)) && users.includes(innerDir(b)), 'the store records both');
  // The layer (busybox, 2 MB) is not in either container's own directory.
  t.ok(du(innerDir(a)) < 512 * 1024, `the first container's inner data is small`);
  t.ok(du(innerDir(b)) < 512 * 1024, `the second container's inner data is small`);
  for (const id of [a, b]) {
    const r = innerRun(id, 'echo', 'hello');
    t.equal(r.stdout, 'hello\n', r.stderr);
  }
  // The inner Docker reads a shared layer through its symlink when it exports it.
  const saved = exec(
    a,
    'sh',
    '-c',
    `docker save ${busybox} | tar -xOf - --wildcards '*/layer.tar' | tar -t | wc -l`,
  );
  t.ok(
    Number(saved.stdout.trim()) > 100,
    `docker save inside has the layer's files (${saved.stdout.trim()})`,
  );
});

t.test('containers of a new image started together build each entry once', async (t) => {
  const before = dockerRun(['ps', '-aq', '--filter', `ancestor=${system}`]).stdout.trim();
  if (before !== '') {
    t.skip('other containers of the system image exist; its entries cannot be freed first');
    return;
  }
  t.equal(runc('/run/sysbox-runc-test-unused', ['store', 'gc']).status, 0);
  const started = await Promise.all(
    [1, 2, 3, 4].map(
      () =>
        new Promise((resolve) => {
          const args = ['run', '-d', '--runtime=sysbox-runc', '--network', 'none', system];
          const child = require('node:child_process').execFile(docker, args, (err, stdout) =>
            resolve(err ? '' : stdout.trim()),
          );
          child.stdin?.end();
        }),
    ),
  );
  for (const id of started) if (id) t.teardown(() => dockerRun(['rm', '-f', id]));
  t.equal(started.filter(Boolean).length, 4, 'all four started');
  const entries = new Set(started.filter(Boolean).flatMap((id) => sharedHashes(id)));
  t.equal(entries.size, 1, 'all four use one entry');
  const logs = started.filter(Boolean).map((id) => {
    const file = `/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/${id}/log.json`;
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  });
  const builds = logs.join('').match(/inner layer \S+ (linked|copied) as/g) ?? [];
  t.equal(builds.length, 1, 'one of them built it, the others waited and found it');
});

t.test('no container can change what another sees of a shared layer', async (t) => {
  const a = await systemContainer(t, system);
  const b = await systemContainer(t, system);
  const [hash] = sharedHashes(a);
  const hostFile = path.join(store, 'layers', hash, 'bin', 'busybox');
  const before = sha(hostFile);
  const entryHash = treeHash(path.join(store, 'layers', hash));
  const mnt = `/var/lib/docker/.sysbox-shared/${hash}`;
  const attempts = {
    write: `echo x >> ${mnt}/bin/busybox`,
    chmod: `chmod 777 ${mnt}/bin/busybox`,
    create: `touch ${mnt}/new`,
    remount: `mount -o remount,rw,bind ${mnt}`,
    'bind then remount':
      `mkdir -p /tmp/b && mount --bind ${mnt} /tmp/b && ` +
      'mount -o remount,rw,bind /tmp/b && echo x >> /tmp/b/bin/busybox',
  };
  for (const [name, cmd] of Object.entries(attempts)) {
    const r = exec(a, 'sh', '-c', cmd);
    t.not(r.status, 0, `${name} is refused`);
  }
  // An inner container changes its copy-on-write view only.
  const wrote = innerRun(a, 'sh', '-c', 'echo changed > /bin/busybox.txt; echo x >> /etc/passwd');
  t.equal(wrote.status, 0, wrote.stderr);
  // Unmounting its own view only uncovers its own empty directory.
  t.equal(exec(a, 'sh', '-c', `umount ${mnt} && touch ${mnt}/mine`).status, 0);
  t.equal(sha(hostFile), before, "the store's file is unchanged");
  t.notOk(fs.existsSync(path.join(store, 'layers', hash, 'mine')), 'nothing reached the store');
  const seen = innerRun(b, 'sha256sum', '/bin/busybox', '/etc/passwd');
  const sums = seen.stdout.split('\n').map((l) => l.split(' ')[0]);
  t.equal(sums[0], before, 'the other container sees the original bytes');
  t.equal(sums[1], sha(path.join(store, 'layers', hash, 'etc', 'passwd')), 'of every file');
  t.equal(innerRun(b, 'ls', '/bin/busybox.txt').status, 1, 'and not the first one files');
  t.equal(treeHash(path.join(store, 'layers', hash)), entryHash, 'the whole entry is unchanged');
});

t.test('docker rmi inside one container leaves the image to the others', async (t) => {
  const a = await systemContainer(t, system);
  const b = await systemContainer(t, system);
  const [hash] = sharedHashes(a);
  const rmi = exec(a, 'docker', 'rmi', busybox);
  t.equal(rmi.status, 0, rmi.stderr);
  t.equal(exec(a, 'docker', 'images', '-q').stdout.trim(), '', 'gone in the first');
  t.equal(innerRun(b, 'echo', 'still').stdout, 'still\n', 'the second still runs it');
  const c = await systemContainer(t, system);
  t.equal(innerRun(c, 'echo', 'new').stdout, 'new\n', 'a new container still runs it');

  // The first stops using the layer at its next start.
  t.equal(dockerRun(['restart', a]).status, 0);
  t.ok(await waitFor(() => exec(a, 'docker', 'info').status === 0, 60000), 'back after restart');
  t.same(sharedHashes(a), []);
  t.notOk(usersOf(hash).includes(innerDir(a)), 'the store no longer counts it');
  t.ok(usersOf(hash).includes(innerDir(b)), 'but still counts the others');
});

t.test(
  'a crafted image claiming an inner layer ID with other bytes gets its own entry',
  async (t) => {
    const crafted = 'sysbox-test/crafted-inner';
    const probe = await systemContainer(t, system);
    const [original] = sharedHashes(probe);
    const layerId = fs
      .readdirSync(path.join(innerDir(probe), 'overlay2'))
      .find((n) => /^[0-9a-f]{64}$/.test(n));
    // Made under runc, where /var/lib/docker is plain image content, as an attacker would.
    const evil = `/var/lib/docker/overlay2/${layerId}/diff/evil`;
    craftImage(t, crafted, `echo EVIL > ${evil}`);

    const x = await systemContainer(t, crafted);
    const o = await systemContainer(t, system);
    const [poisoned] = sharedHashes(x);
    t.not(poisoned, original, 'the crafted layer has an entry of its own');
    t.same(sharedHashes(o), [original], 'the original image keeps its entry');
    t.equal(innerRun(x, 'cat', '/evil').stdout, 'EVIL\n', 'the crafted image sees its own bytes');
    t.not(innerRun(o, 'cat', '/evil').status, 0, 'the original does not');

    // A container cannot point its inner Docker at an entry it was not given.
    const link = `../../.sysbox-shared/${poisoned}`;
    const fake = '/var/lib/docker/overlay2/fake';
    const faked = exec(o, 'sh', '-c', `mkdir -p ${fake} && ln -s ${link} ${fake}/diff`);
    t.equal(faked.status, 0, faked.stderr);
    t.equal(dockerRun(['restart', o]).status, 0);
    t.ok(await waitFor(() => exec(o, 'docker', 'info').status === 0, 60000), 'back after restart');
    const mounts = exec(o, 'cat', '/proc/self/mountinfo').stdout;
    t.notOk(mounts.includes(poisoned), 'the entry it named is not mounted');
    t.notOk((usersOf(poisoned) ?? []).includes(innerDir(o)), 'nor counted as its user');
    t.ok(mounts.includes(original), 'its own entry still is');
  },
);

t.test('an image whose inner Docker points out of it gets no host directory shared', async (t) => {
  const crafted = 'sysbox-test/inner-points-out';
  // The outer layer of the busybox image: a real directory on the host, as a target.
  const hostLayer = path.basename(path.dirname(inspectImage(busybox).GraphDriver.Data.UpperDir));
  const db = '/var/lib/docker/image/overlay2/layerdb/sha256';
  const script =
    `for c in ${db}/*; do echo ${hostLayer} > $c/cache-id; done && ` +
    'rm -rf /var/lib/docker/overlay2 && ln -s /var/lib/docker/overlay2 /var/lib/docker/overlay2';
  craftImage(t, crafted, script);
  const r = dockerRun(['run', '-d', '--runtime=sysbox-runc', '--network', 'none', crafted]);
  t.teardown(() => dockerRun(['rm', '-f', r.stdout.trim()]));
  const id = r.stdout.trim();
  t.equal(r.status, 0, r.stderr);
  t.same(sharedHashes(id), [], 'nothing is shared');
  const users = storeList().flatMap((e) => e.users.map((u) => u.path));
  t.notOk(users.includes(innerDir(id)), 'and the store gave it nothing');
  t.ok(fs.lstatSync(path.join(innerDir(id), 'overlay2')).isSymbolicLink(), 'the link is kept');
});

t.test('two different images that preload the same inner image share one entry', async (t) => {
  const other = 'sysbox-test/same-inner';
  t.teardown(() => dockerRun(['rmi', '-f', other]));
  // Another image altogether: busybox with the system image's /var/lib/docker added by a build.
  const ctx = fs.mkdtempSync('/tmp/sysbox-test-ctx-');
  t.teardown(() => fs.rmSync(ctx, { recursive: true, force: true }));
  const holder = dockerRun(['create', '--name', 'sysbox-test-holder', system, 'true']);
  t.teardown(() => dockerRun(['rm', '-f', 'sysbox-test-holder']));
  t.equal(holder.status, 0, holder.stderr);
  const out = fs.openSync(path.join(ctx, 'docker.tar'), 'w');
  const cp = spawnSync('docker', ['cp', 'sysbox-test-holder:/var/lib/docker', '-'], {
    stdio: ['ignore', out, 'pipe'],
  });
  fs.closeSync(out);
  t.equal(cp.status, 0, String(cp.stderr));
  fs.writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM ${busybox}\nADD docker.tar /var/lib/\nCMD ["sleep", "3600"]\n`,
  );
  const built = dockerRun(['build', '-q', '-t', other, ctx], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  t.equal(built.status, 0, built.stderr);

  const a = await systemContainer(t, system);
  const r = dockerRun(['run', '-d', '--runtime=sysbox-runc', '--network', 'none', other]);
  t.equal(r.status, 0, r.stderr);
  const b = r.stdout.trim();
  t.teardown(() => dockerRun(['rm', '-f', b]));
  const [entry] = sharedHashes(a);
  t.same(sharedHashes(b), [entry], 'the second image uses the first one entry');
  const listed = storeList().find((e) => e.name === entry);
  t.ok(listed && /^[0-9a-f]{64}$/.test(listed.hash ?? ''), 'after hashing both trees');
  t.ok(usersOf(entry).includes(innerDir(b)), 'and the store counts it as a user');
});

t.test('use records free entries after docker rm and survive a dockerd restart', async (t) => {
  const ours = fs.existsSync('/run/sysbox-dockerd.pid');
  const a = await systemContainer(t, system);
  const [hash] = sharedHashes(a);
  if (ours) {
    const scripts = path.join(__dirname, '..', 'scripts');
    t.equal(spawnSync(path.join(scripts, 'stop-dockerd.sh')).status, 0, 'dockerd stopped');
    const started = spawnSync(path.join(scripts, 'start-dockerd.sh'), { encoding: 'utf8' });
    t.equal(started.status, 0, started.stderr);
    t.equal(dockerRun(['start', a]).status, 0);
    t.ok(await waitFor(() => exec(a, 'docker', 'info').status === 0, 60000), 'back');
    t.ok(usersOf(hash).includes(innerDir(a)), 'the use is still recorded');
    t.equal(innerRun(a, 'echo', 'ok').stdout, 'ok\n', 'and the layer still works');
  }
  const dir = innerDir(a);
  t.equal(dockerRun(['rm', '-f', a]).status, 0);
  t.notOk(fs.existsSync(dir), 'docker rm removed the container directory');
  const others = dockerRun(['ps', '-aq', '--filter', `ancestor=${system}`]).stdout.trim();
  const gc = runc('/run/sysbox-runc-test-unused', ['store', 'gc']);
  t.equal(gc.status, 0, gc.stderr);
  if (others === '') t.notOk(usersOf(hash), 'the entry is freed with its last user');
  else t.notOk((usersOf(hash) ?? []).includes(dir), 'the removed container is no user');
});

/**
 * A bundle whose rootfs is an overlay over the system image's own layers, as Docker makes it,
 * in a directory of the test under /var/lib/docker, with the store beside it.
 */
function overlayBundle(t) {
  const base = fs.mkdtempSync('/var/lib/docker/sysbox-test-');
  fs.chmodSync(base, 0o700);
  const layer = path.join(base, 'layer');
  const rootfs = path.join(base, 'rootfs');
  for (const d of ['diff', 'work']) fs.mkdirSync(path.join(layer, d), { recursive: true });
  fs.mkdirSync(rootfs);
  const data = JSON.parse(dockerRun(['image', 'inspect', system]).stdout)[0].GraphDriver.Data;
  const lower = [data.UpperDir, ...(data.LowerDir ? data.LowerDir.split(':') : [])].join(':');
  const opts = `lowerdir=${lower},upperdir=${layer}/diff,workdir=${layer}/work`;
  const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', opts, rootfs]);
  t.equal(m.status, 0, String(m.stderr));
  t.equal(spawnSync('runc', ['spec'], { cwd: base }).status, 0, 'runc spec');
  const config = JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: false };
  config.process.terminal = false;
  config.process.args = ['sleep', '600'];
  fs.writeFileSync(path.join(base, 'config.json'), JSON.stringify(config));
  const settings = path.join(base, 'sysbox.json');
  const storeRoot = path.join(base, 'sysbox-inner-images');
  fs.writeFileSync(settings, JSON.stringify({ innerImageStore: storeRoot }));
  const root = path.join(base, 'state');
  t.teardown(() => {
    for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      runc(root, ['--config', settings, 'delete', '--force', id]);
    }
    spawnSync('umount', [rootfs]);
    fs.rmSync(base, { recursive: true, force: true });
  });
  return { base, layer, rootfs, root, settings, storeRoot };
}

function killedCreate(b, id, step) {
  const out = fs.openSync(path.join(b.base, `${id}.out`), 'w');
  const r = spawnSync(
    process.execPath,
    [cli, '--root', b.root, '--config', b.settings, 'create', '--bundle', b.base, id],
    { env: { ...process.env, SYSBOX_TEST_KILL_AT: step }, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  return r.signal;
}

t.test('a create killed while sharing leaves nothing that the store keeps', async (t) => {
  const b = overlayBundle(t);
  const flags = ['--config', b.settings];
  t.equal(killedCreate(b, 'k1', 'create:shared'), 'SIGKILL');
  t.equal(runc(b.root, [...flags, 'delete', '--force', 'k1']).status, 0);
  t.equal(runc(b.root, [...flags, 'store', 'gc']).status, 0);
  t.same(storeList(flags), [], 'a use by a create that died before finishing is no use');

  t.equal(killedCreate(b, 'k2', 'create:ready'), 'SIGKILL');
  t.equal(runc(b.root, [...flags, 'delete', '--force', 'k2']).status, 0);
  t.equal(runc(b.root, [...flags, 'store', 'gc']).status, 0);
  t.equal(storeList(flags).length, 1, 'a finished fill keeps its layer while its directory lives');
  // What docker rm does: the container's layer directory goes.
  fs.rmSync(path.join(b.layer, 'sysbox'), { recursive: true, force: true });
  t.equal(runc(b.root, [...flags, 'store', 'gc']).status, 0);
  t.same(storeList(flags), [], 'and frees it once that directory is gone');
  t.same(fs.readdirSync(path.join(b.storeRoot, 'tmp')), [], 'no half-built entry is left');
});

t.test('--inner-docker-image-sharing=false copies the inner images', async (t) => {
  const b = overlayBundle(t);
  const flags = ['--config', b.settings, '--inner-docker-image-sharing=false'];
  const out = fs.openSync(path.join(b.base, 'off.out'), 'w');
  const r = spawnSync(
    process.execPath,
    [cli, '--root', b.root, ...flags, 'create', '--bundle', b.base, 'off'],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  t.equal(r.status, 0, fs.readFileSync(path.join(b.base, 'off.out'), 'utf8'));
  const dir = path.join(b.layer, 'sysbox', 'var-lib-docker', 'overlay2');
  const diffs = fs
    .readdirSync(dir)
    .filter((n) => /^[0-9a-f]{64}$/.test(n))
    .map((n) => fs.lstatSync(path.join(dir, n, 'diff')));
  t.ok(diffs.length > 0 && diffs.every((s) => s.isDirectory()), 'each layer is a real copy');
  t.same(storeList(flags), [], 'and the store holds nothing');
  const bad = runc(b.root, [
    '--inner-docker-image-sharing=maybe',
    'create',
    '--bundle',
    b.base,
    'x',
  ]);
  t.not(bad.status, 0);
  t.match(bad.stderr, /--inner-docker-image-sharing must be true or false/);
});

/** An image made from the system image by `script` run under runc, as an attacker would. */
function craftImage(t, name, script) {
  const holder = `sysbox-test-craft-${process.pid}`;
  t.teardown(() => dockerRun(['rmi', '-f', name]));
  const made = dockerRun([
    'run',
    '--runtime=runc',
    '--network',
    'none',
    '--name',
    holder,
    '--entrypoint',
    'sh',
    system,
    '-c',
    script,
  ]);
  t.equal(made.status, 0, made.stderr);
  const config = inspectImage(system).Config;
  const committed = dockerRun([
    'commit',
    '--change',
    `ENTRYPOINT ${JSON.stringify(config.Entrypoint ?? [])}`,
    '--change',
    `CMD ${JSON.stringify(config.Cmd ?? [])}`,
    holder,
    name,
  ]);
  dockerRun(['rm', '-f', holder]);
  t.equal(committed.status, 0, committed.stderr);
}

/** Inodes of the regular files below `dir`. */
function inodes(dir) {
  const out = new Set();
  const walk = (p) => {
    const st = fs.lstatSync(p);
    if (st.isFile()) out.add(st.ino);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
  return out;
}

t.test('a capture never follows a symlink the container left in its writable layer', async (t) => {
  const victim = fs.mkdtempSync('/tmp/sysbox-test-victim-');
  t.teardown(() => fs.rmSync(victim, { recursive: true, force: true }));
  fs.mkdirSync(path.join(victim, 'docker'));
  fs.writeFileSync(path.join(victim, 'docker', 'keep'), 'host data\n');
  const id = await systemContainer(t, system);
  const swap = exec(
    id,
    'sh',
    '-c',
    'for m in $(awk \'$5 ~ "^/var/lib/" {print $5}\' /proc/self/mountinfo | sort -r); ' +
      `do umount -l $m; done && rm -rf /var/lib && ln -s ${victim} /var/lib`,
  );
  t.equal(swap.status, 0, swap.stderr);
  dockerRun(['commit', id, 'sysbox-test/capture-symlink']);
  t.teardown(() => dockerRun(['rmi', '-f', 'sysbox-test/capture-symlink']));
  dockerRun(['stop', '-t', '1', id]);
  t.same(fs.readdirSync(path.join(victim, 'docker')), ['keep'], 'the host directory is intact');
  t.equal(fs.readFileSync(path.join(victim, 'docker', 'keep'), 'utf8'), 'host data\n');
});

t.test('image file names that look like cp options stay names', async (t) => {
  const crafted = 'sysbox-test/cp-options';
  craftImage(t, crafted, 'cd /var/lib/docker && touch -- -L && ln -s /etc/hostname leak');
  const id = await systemContainer(t, crafted);
  t.equal(
    exec(id, 'readlink', '/var/lib/docker/leak').stdout.trim(),
    '/etc/hostname',
    'the symlink was copied as a symlink, not followed on the host',
  );
  t.equal(exec(id, 'ls', '/var/lib/docker/-L').status, 0, 'and the odd name is a file');
});

t.test('a capture never links a shared layer file into the writable layer', async (t) => {
  const id = await systemContainer(t, system);
  const [entry] = sharedHashes(id);
  const fake = `/var/lib/docker/overlay2/${'f'.repeat(64)}`;
  const made = exec(
    id,
    'sh',
    '-c',
    `mkdir -p ${fake} && ln -s ../../.sysbox-shared/${entry} ${fake}/diff`,
  );
  t.equal(made.status, 0, made.stderr);
  t.equal(dockerRun(['pause', id]).status, 0);
  t.equal(dockerRun(['unpause', id]).status, 0);
  const upper = inspect(id, '{{.GraphDriver.Data.UpperDir}}');
  const captured = path.join(upper, 'var', 'lib', 'docker');
  const shared = inodes(path.join(store, 'layers', entry));
  const linked = [...inodes(captured)].filter((i) => shared.has(i));
  t.same(linked, [], 'no file of the writable layer is a store file');
});

t.test('a manifest cannot change the image files a shared entry links to', async (t) => {
  const probe = await systemContainer(t, system);
  const layerId = fs
    .readdirSync(path.join(innerDir(probe), 'overlay2'))
    .find((n) => /^[0-9a-f]{64}$/.test(n));
  const manifest = JSON.stringify({
    whiteouts: [],
    sockets: [],
    xattrs: [
      {
        path: `overlay2/${layerId}/diff/bin/busybox`,
        name: 'user.evil',
        value: Buffer.from('x').toString('base64'),
      },
    ],
  });
  const crafted = 'sysbox-test/manifest-xattr';
  craftImage(t, crafted, `echo '${manifest}' > /var/lib/docker/.sysbox-manifest.json`);
  const id = await systemContainer(t, crafted);
  const [entry] = sharedHashes(id);
  const file = path.join(store, 'layers', entry, 'bin', 'busybox');
  const xattr = (f) => listXattrs(f).includes('user.evil');
  t.ok(xattr(file), "the crafted image's entry has the xattr");
  const [original] = sharedHashes(probe);
  t.not(entry, original, 'in an entry of its own');
  t.notOk(xattr(path.join(store, 'layers', original, 'bin', 'busybox')), 'the original has not');
  t.not(
    fs.statSync(file).ino,
    fs.statSync(path.join(store, 'layers', original, 'bin', 'busybox')).ino,
    'the file was copied before it was changed',
  );
});

t.test('device nodes and files of unmapped owners in preloaded data stay harmless', async (t) => {
  const crafted = 'sysbox-test/odd-inner-files';
  craftImage(
    t,
    crafted,
    'cd /var/lib/docker && mknod disk b 8 0 && mknod mem c 1 1 && echo far > far && ' +
      'chown 100000:100000 far && chmod 600 far',
  );
  const id = await systemContainer(t, crafted);
  for (const dev of ['disk', 'mem']) {
    const r = exec(id, 'head', '-c', '1', `/var/lib/docker/${dev}`);
    t.not(r.status, 0, `the ${dev} node cannot be opened`);
  }
  t.equal(
    exec(id, 'stat', '-c', '%u', '/var/lib/docker/far').stdout.trim(),
    '65534',
    'a file of an unmapped owner shows as nobody',
  );
  t.not(exec(id, 'sh', '-c', 'echo x >> /var/lib/docker/far').status, 0, 'and cannot be written');
});
