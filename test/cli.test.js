'use strict';
// The runc-compatible command line on bundles: state JSON, pid files, exit codes, log lines,
// and errors that leave nothing behind.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { makeBundle, makeRoot, runc, hostMounts, waitFor, repo } = require('./helpers');

const cli = path.join(repo, 'lib', 'sysbox-runc.js');

function state(root, id) {
  const r = runc(root, ['state', id]);
  return r.status === 0 ? JSON.parse(r.stdout) : null;
}

function logLines(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * create with the container's standard output and error sent to files: the container keeps them
 * open after create exits, so pipes would hold the test until the container ends.
 */
function createWithOutput(root, bundle, id, extra = []) {
  const out = path.join(bundle, `${id}.stdout`);
  const err = path.join(bundle, `${id}.stderr`);
  const outFd = fs.openSync(out, 'w');
  const errFd = fs.openSync(err, 'w');
  const args = [cli, '--root', root, 'create', '--bundle', bundle, ...extra, id];
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', outFd, errFd], timeout: 60000 });
  fs.closeSync(outFd);
  fs.closeSync(errFd);
  return { status: r.status, stderr: fs.readFileSync(err, 'utf8'), out };
}

function cgroupDir(id) {
  return `/sys/fs/cgroup/memory/sysbox/${id}`;
}

t.test('--version prints a runc-style version', async (t) => {
  const r = runc('/tmp', ['--version']);
  t.equal(r.status, 0);
  t.match(r.stdout, /^sysbox-runc version \S+\ncommit: \S+\nspec: 1\.0\.2-dev\n/);
});

t.test('create, start, state and delete follow the OCI lifecycle', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sh', '-c', 'echo hello from $(hostname); cat /proc/self/uid_map']);
  const pidFile = path.join(bundle, 'init.pid');
  const log = path.join(bundle, 'log.json');
  const before = hostMounts([root, bundle]);
  const r = createWithOutput(root, bundle, 'life', ['--pid-file', pidFile]);
  t.equal(r.status, 0, r.stderr);

  const created = state(root, 'life');
  t.equal(created.status, 'created');
  t.equal(created.id, 'life');
  t.equal(created.bundle, bundle);
  t.equal(created.ociVersion, '1.0.2');
  const pidText = fs.readFileSync(pidFile, 'utf8');
  t.match(pidText, /^\d+$/, 'pid file holds digits only, no newline');
  t.equal(Number(pidText), created.pid);
  const uidMap = fs.readFileSync(`/proc/${created.pid}/uid_map`, 'utf8').trim().split(/\s+/);
  t.equal(uidMap[0], '0');
  t.not(uidMap[1], '0', 'container root is not host root');
  t.ok(Number(uidMap[2]) >= 65536, 'at least 65536 IDs are mapped');

  const s = spawnSync(process.execPath, [
    cli,
    '--root',
    root,
    '--log',
    log,
    '--log-format',
    'json',
    'start',
    'life',
  ]);
  t.equal(s.status, 0);
  t.ok(
    await waitFor(() => state(root, 'life')?.status === 'stopped'),
    'the process ran and exited',
  );
  t.equal(state(root, 'life').pid, 0, 'a stopped container reports pid 0');
  const output = fs.readFileSync(r.out, 'utf8');
  t.match(output, /^hello from sysbox-test\n/);
  t.match(
    output,
    /^\s+0\s+[1-9]\d*\s+\d+$/m,
    'uid_map seen inside maps root to a non-zero host ID',
  );
  t.ok(
    logLines(log).every((l) => l.level && l.msg && l.time),
    'log lines are runc-style JSON',
  );

  t.equal(runc(root, ['delete', 'life']).status, 0);
  t.equal(state(root, 'life'), null);
  t.notOk(fs.existsSync(path.join(root, 'life')), 'no state directory is left');
  t.notOk(fs.existsSync(cgroupDir('life')), 'no cgroup is left');
  t.same(hostMounts([root, bundle]), before, 'no mount is left on the host');
});

t.test('kill, ps and exec act on a running container', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  t.equal(createWithOutput(root, bundle, 'busy').status, 0);
  t.equal(runc(root, ['start', 'busy']).status, 0);
  t.equal(state(root, 'busy').status, 'running');

  const pids = JSON.parse(runc(root, ['ps', '--format', 'json', 'busy']).stdout);
  t.ok(pids.includes(state(root, 'busy').pid), 'ps lists the init');

  const e = runc(root, ['exec', 'busy', 'sh', '-c', 'echo $$; id -u; cat /proc/1/cmdline']);
  t.equal(e.status, 0, e.stderr);
  t.match(e.stdout, /^\d+\n0\nsleep\u00001000\u0000$/, 'exec runs as root in the container');
  const failing = runc(root, ['exec', 'busy', 'sh', '-c', 'exit 3']);
  t.equal(failing.status, 3, 'exec returns the exit status of the process');

  const d = runc(root, ['delete', 'busy']);
  t.not(d.status, 0, 'a running container is not deleted without --force');
  t.match(d.stderr, /running/);

  t.equal(runc(root, ['kill', 'busy', 'KILL']).status, 0);
  t.ok(await waitFor(() => state(root, 'busy').status === 'stopped'));
  const k = runc(root, ['kill', 'busy', '9']);
  t.equal(k.status, 1);
  t.match(k.stderr, /container not running/);
  t.equal(runc(root, ['delete', 'busy']).status, 0);
});

t.test('delete --force removes a created container and its process', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  t.equal(createWithOutput(root, bundle, 'waiting').status, 0);
  const pid = state(root, 'waiting').pid;
  t.equal(runc(root, ['delete', '--force', 'waiting']).status, 0);
  t.notOk(
    fs.existsSync(`/proc/${pid}/cmdline`) &&
      fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z',
  );
  t.notOk(fs.existsSync(path.join(root, 'waiting')));
});

t.test('an unknown id is an error that says it does not exist', async (t) => {
  const root = makeRoot(t);
  const log = path.join(root, 'log.json');
  for (const args of [
    ['state', 'ghost'],
    ['start', 'ghost'],
    ['kill', 'ghost'],
    ['delete', 'ghost'],
  ]) {
    const r = spawnSync(
      process.execPath,
      [cli, '--root', root, '--log', log, '--log-format', 'json', ...args],
      {
        encoding: 'utf8',
      },
    );
    t.equal(r.status, 1, `${args[0]} exits 1`);
    t.match(r.stderr, /container "ghost" does not exist/);
    const last = logLines(log).pop();
    t.equal(last.level, 'error');
    t.match(last.msg, /does not exist/);
  }
});

/** Runs a create that must fail and checks that it left nothing behind. */
function failedCreate(t, root, bundle, id, pattern) {
  const before = hostMounts([root, bundle]);
  const log = path.join(root, `${id}.log`);
  const r = spawnSync(
    process.execPath,
    [cli, '--root', root, '--log', log, '--log-format', 'json', 'create', '--bundle', bundle, id],
    { encoding: 'utf8', timeout: 60000 },
  );
  t.equal(r.status, 1, 'exit status 1');
  t.match(r.stderr, pattern, 'stderr names the problem');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
  t.match(logLines(log).pop(), { level: 'error', msg: pattern }, 'the log ends with the error');
  t.notOk(fs.existsSync(path.join(root, id)), 'no state directory');
  t.notOk(fs.existsSync(cgroupDir(id)), 'no cgroup');
  t.same(hostMounts([root, bundle]), before, 'no mount');
}

t.test('a malformed config.json fails cleanly', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  fs.writeFileSync(path.join(bundle, 'config.json'), '{"ociVersion": "1.0.2", "process": ');
  failedCreate(t, root, bundle, 'broken', /config\.json is not valid JSON/);
});

t.test('a missing rootfs fails cleanly', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  fs.rmSync(path.join(bundle, 'rootfs'), { recursive: true });
  failedCreate(t, root, bundle, 'norootfs', /rootfs .*rootfs.* does not exist/);
});

t.test('a missing program fails at create, not at start', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['no-such-program']);
  failedCreate(t, root, bundle, 'noprog', /no-such-program.*executable file not found/);
});

t.test('a duplicate id is refused and the first container is untouched', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  t.equal(createWithOutput(root, bundle, 'twice').status, 0);
  const first = state(root, 'twice');
  const r = runc(root, ['create', '--bundle', bundle, 'twice']);
  t.equal(r.status, 1);
  t.match(r.stderr, /container with id \\?"twice\\?" already exists/);
  t.same(state(root, 'twice'), first, 'the first container is unchanged');
  t.equal(runc(root, ['delete', '--force', 'twice']).status, 0);
});

t.test('an invalid id is refused', async (t) => {
  const root = makeRoot(t);
  const r = runc(root, ['state', '../etc']);
  t.equal(r.status, 1);
  t.match(r.stderr, /invalid container id/);
});

t.test('list shows containers and their status', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  t.equal(createWithOutput(root, bundle, 'listed').status, 0);
  const list = JSON.parse(runc(root, ['list', '--format', 'json']).stdout);
  t.match(list, [{ id: 'listed', status: 'created' }]);
  t.equal(runc(root, ['list', '-q']).stdout, 'listed\n');
});

t.test('a container reaches no host file and no host-global setting', async (t) => {
  const root = makeRoot(t);
  const secret = path.join(os.tmpdir(), `sysbox-host-secret-${process.pid}`);
  fs.writeFileSync(secret, 'secret');
  t.teardown(() => fs.rmSync(secret, { force: true }));
  const hostname = os.hostname();
  const panic = fs.readFileSync('/proc/sys/kernel/panic', 'utf8');
  const swappiness = fs.readFileSync('/proc/sys/vm/swappiness', 'utf8').trim();
  const probes = [
    `cat ${secret}`,
    'mknod /tmp/disk b 254 0 && cat /tmp/disk',
    'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt',
    // kernel.panic is the container's own (sysbox-fs); vm.swappiness is the host's (the value
    // written is the host's own, so that a hole would change nothing).
    `mount -o remount,rw /proc/sys; echo ${swappiness} > /proc/sys/vm/swappiness`,
    'echo 1 > /proc/sysrq-trigger',
    `kill -0 ${process.pid}`,
    'ls /proc/1/root/../../../ | grep -q sysbox-host-secret',
    // Mounting its own cgroup hierarchy is allowed, but shows only its own cgroup: no
    // release_agent, which lives at the hierarchy's root.
    'mkdir -p /mnt && mount -t cgroup -o memory none /mnt && ls /mnt/release_agent',
    'echo 4 > /sys/fs/cgroup/pids/pids.max',
    'echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes',
  ];
  const script = probes
    .map((p, i) => `if (${p}) >/dev/null 2>&1; then echo HOLE ${i}; fi`)
    .join('\n');
  const bundle = makeBundle(
    t,
    ['sh', '-c', script + '\nhostname changed-inside; echo 7 > /proc/sys/kernel/panic; echo done'],
    (c) => {
      c.linux.resources = { pids: { limit: 100 }, memory: { limit: 256 * 1024 * 1024 } };
    },
  );
  const r = createWithOutput(root, bundle, 'probe');
  t.equal(r.status, 0, r.stderr);
  t.equal(runc(root, ['start', 'probe']).status, 0);
  t.ok(await waitFor(() => state(root, 'probe')?.status === 'stopped'));
  const out = fs.readFileSync(r.out, 'utf8');
  t.equal(out, 'done\n', 'every probe was denied');
  t.equal(os.hostname(), hostname, 'the host name is unchanged');
  t.equal(
    fs.readFileSync('/proc/sys/kernel/panic', 'utf8'),
    panic,
    'kernel.panic, written inside, is unchanged',
  );
});

t.test('device nodes in the rootfs cannot be opened', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sh', '-c', 'echo x > /nulldev && echo OPENED || echo refused']);
  spawnSync('mknod', [path.join(bundle, 'rootfs', 'nulldev'), 'c', '1', '3']);
  const r = createWithOutput(root, bundle, 'nodev');
  t.equal(r.status, 0, r.stderr);
  t.equal(runc(root, ['start', 'nodev']).status, 0);
  t.ok(await waitFor(() => state(root, 'nodev')?.status === 'stopped'));
  t.equal(fs.readFileSync(r.out, 'utf8'), 'refused\n');
});

t.test('a bind other users can reach is not id-mapped: root inside is nobody there', async (t) => {
  const root = makeRoot(t);
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-shared-'));
  fs.chmodSync(shared, 0o755);
  t.teardown(() => fs.rmSync(shared, { recursive: true, force: true }));
  const script = 'touch /b/made 2>/dev/null && echo WROTE || echo refused; stat -c %u /b';
  const bundle = makeBundle(t, ['sh', '-c', script], (c) => {
    c.mounts.push({ destination: '/b', type: 'bind', source: shared, options: ['rbind'] });
  });
  const r = createWithOutput(root, bundle, 'shared');
  t.equal(r.status, 0, r.stderr);
  t.equal(runc(root, ['start', 'shared']).status, 0);
  t.ok(await waitFor(() => state(root, 'shared')?.status === 'stopped'));
  t.equal(fs.readFileSync(r.out, 'utf8'), 'refused\n65534\n');
  t.notOk(fs.existsSync(path.join(shared, 'made')));
});

t.test('a rootfs other users can reach is refused', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true']);
  fs.chmodSync(bundle, 0o755);
  failedCreate(t, root, bundle, 'reachable', /can be reached by users other than root/);
});

t.test('mappings that reach host root are refused', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['true'], (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [
      { containerID: 0, hostID: 165536, size: 1 },
      { containerID: 1, hostID: 0, size: 1 },
    ];
    c.linux.gidMappings = [{ containerID: 0, hostID: 165536, size: 65536 }];
  });
  failedCreate(t, root, bundle, 'rootmap', /reaches host ID 0/);
});

t.test('a symlink in the image does not make create touch the host', async (t) => {
  const root = makeRoot(t);
  const target = path.join(os.tmpdir(), `sysbox-evil-${process.pid}`);
  t.teardown(() => fs.rmSync(target, { force: true }));
  const source = path.join(os.tmpdir(), `sysbox-hosts-${process.pid}`);
  fs.writeFileSync(source, '127.0.0.1 localhost\n');
  t.teardown(() => fs.rmSync(source, { force: true }));
  const bundle = makeBundle(t, ['true'], (c) => {
    c.mounts.push({ destination: '/etc/hosts', type: 'bind', source, options: ['bind'] });
  });
  fs.symlinkSync(target, path.join(bundle, 'rootfs', 'etc', 'hosts'));
  createWithOutput(root, bundle, 'evil');
  t.notOk(fs.existsSync(target), 'no file appeared at the host path the symlink names');
  runc(root, ['delete', '--force', 'evil']);
});

t.test('delete --force of an unknown id succeeds, as in runc', async (t) => {
  const root = makeRoot(t);
  t.equal(runc(root, ['delete', '--force', 'nothing-here']).status, 0);
  t.equal(runc(root, ['delete', 'nothing-here']).status, 1);
});

t.test('delete --force kills a container that froze its own sub-cgroup', async (t) => {
  const root = makeRoot(t);
  const script = [
    'mkdir /sys/fs/cgroup/freezer/x',
    'sleep 1000 & echo $! > /sys/fs/cgroup/freezer/x/cgroup.procs',
    'echo FROZEN > /sys/fs/cgroup/freezer/x/freezer.state',
    'sleep 1000',
  ].join('; ');
  const bundle = makeBundle(t, ['sh', '-c', script]);
  t.equal(createWithOutput(root, bundle, 'frozen').status, 0);
  t.equal(runc(root, ['start', 'frozen']).status, 0);
  await waitFor(() => fs.existsSync('/sys/fs/cgroup/freezer/sysbox/frozen/x'));
  await new Promise((r) => setTimeout(r, 300));
  const d = runc(root, ['delete', '--force', 'frozen']);
  t.equal(d.status, 0, d.stderr);
  t.notOk(fs.existsSync('/sys/fs/cgroup/freezer/sysbox/frozen'), 'its cgroups are gone');
});

t.test('each container gets an ID range of its own, freed when it is deleted', async (t) => {
  const root = makeRoot(t);
  const bundle = makeBundle(t, ['sleep', '1000']);
  const hostRoot = [];
  for (const id of ['range1', 'range2']) {
    t.equal(createWithOutput(root, bundle, id).status, 0);
    const map = fs.readFileSync(`/proc/${state(root, id).pid}/uid_map`, 'utf8');
    hostRoot.push(Number(map.trim().split(/\s+/)[1]));
  }
  t.not(hostRoot[0], hostRoot[1], 'the two roots are different host users');
  t.ok(Math.abs(hostRoot[0] - hostRoot[1]) >= 65536, 'the ranges do not overlap');
  for (const start of hostRoot) t.ok(fs.existsSync(`/run/sysbox-runc-ids/${start}`));
  for (const id of ['range1', 'range2']) t.equal(runc(root, ['delete', '--force', id]).status, 0);
  for (const start of hostRoot) t.notOk(fs.existsSync(`/run/sysbox-runc-ids/${start}`), 'freed');
});

t.test('the launcher answers delete and start itself, and leaves hooks to Node', async (t) => {
  const launcher = path.join(repo, 'build', 'Release', 'sysbox-runc');
  const root = makeRoot(t);
  const launch = (args) => spawnSync(launcher, ['--root', root, ...args], { encoding: 'utf8' });
  t.equal(launch(['delete', '--force', 'absent']).status, 0, 'delete --force of nothing');
  t.equal(launch(['delete', 'absent']).status, 1, 'without --force, Node reports it');

  const marker = path.join(os.tmpdir(), `sysbox-poststart-${process.pid}`);
  t.teardown(() => fs.rmSync(marker, { force: true }));
  const plain = makeBundle(t, ['sleep', '1000']);
  const hooked = makeBundle(t, ['sleep', '1000'], (c) => {
    c.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${marker}`] }] };
  });
  t.equal(createWithOutput(root, plain, 'plain').status, 0);
  t.equal(createWithOutput(root, hooked, 'hooked').status, 0);
  t.equal(launch(['start', 'plain']).status, 0);
  t.equal(state(root, 'plain').status, 'running');
  t.equal(launch(['start', 'hooked']).status, 0);
  t.equal(state(root, 'hooked').status, 'running');
  t.match(JSON.parse(fs.readFileSync(marker, 'utf8')), { id: 'hooked', status: 'running' });
  const again = launch(['start', 'plain']);
  t.equal(again.status, 1, 'starting twice is an error');
  t.match(again.stderr, /cannot start a container that is running/);
});

t.test(
  'the launcher deletes a stopped container itself, and leaves the rest to Node',
  async (t) => {
    const launcher = path.join(repo, 'build', 'Release', 'sysbox-runc');
    const root = makeRoot(t);
    // Node's delete logs what it did; the launcher's writes nothing.
    const logFile = `${root}.log`;
    t.teardown(() => fs.rmSync(logFile, { force: true }));
    const logged = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    const launch = (args) =>
      spawnSync(launcher, ['--root', root, '--log', logFile, ...args], { encoding: 'utf8' });

    const done = makeBundle(t, ['true']);
    t.equal(createWithOutput(root, done, 'done').status, 0);
    t.ok(fs.existsSync(path.join(root, 'done', 'teardown')), 'create leaves a teardown file');
    const range = fs
      .readdirSync('/run/sysbox-runc-ids')
      .filter(
        (f) =>
          fs.readFileSync(path.join('/run/sysbox-runc-ids', f), 'utf8') === path.join(root, 'done'),
      );
    t.equal(range.length, 1, 'the container holds an ID range');
    t.equal(launch(['start', 'done']).status, 0);
    t.ok(await waitFor(() => state(root, 'done')?.status === 'stopped'), 'it ran and stopped');
    const before = logged();
    const r = launch(['delete', 'done']);
    t.equal(r.status, 0, r.stderr);
    t.equal(logged(), before, 'the launcher deleted it without Node');
    t.notOk(fs.existsSync(path.join(root, 'done')), 'its state is gone');
    t.notOk(fs.existsSync(cgroupDir('done')), 'its cgroup is gone');
    t.notOk(fs.existsSync(path.join('/run/sysbox-runc-ids', range[0])), 'its ID range is free');

    const running = makeBundle(t, ['sleep', '1000']);
    t.equal(createWithOutput(root, running, 'running').status, 0);
    t.equal(launch(['start', 'running']).status, 0);
    t.not(launch(['delete', 'running']).status, 0, 'a running one is refused');
    t.match(logged(), /cannot delete container running that is running/, 'by Node');
    // A caller's Node options (dockerd passes its environment on) do not reach the runtime.
    const env = { ...process.env, NODE_OPTIONS: '--no-such-node-flag' };
    const listed = spawnSync(launcher, ['--root', root, 'list'], { encoding: 'utf8', env });
    t.equal(listed.status, 0, listed.stderr);
    t.equal(state(root, 'running').status, 'running', 'and is untouched');

    const hooked = makeBundle(t, ['true'], (c) => {
      c.hooks = { poststop: [{ path: '/bin/true' }] };
    });
    t.equal(createWithOutput(root, hooked, 'hooked').status, 0);
    t.notOk(fs.existsSync(path.join(root, 'hooked', 'teardown')), 'poststop hooks need Node');
  },
);

t.test(
  'every command refuses an unknown id, a wrong state or bad input, and changes nothing',
  async (t) => {
    const root = makeRoot(t);
    for (const args of [
      ['pause', 'ghost'],
      ['resume', 'ghost'],
      ['update', '--memory', '1000000', 'ghost'],
      ['events', '--stats', 'ghost'],
      ['exec', 'ghost', 'true'],
      ['ps', 'ghost'],
    ]) {
      const r = runc(root, args);
      t.not(r.status, 0, `${args[0]} of an unknown id fails`);
      t.match(r.stderr, /does not exist/, `${args[0]} says the container does not exist`);
    }
    const bundle = makeBundle(t, ['true']);
    t.equal(createWithOutput(root, bundle, 'done').status, 0);
    t.equal(runc(root, ['start', 'done']).status, 0);
    t.ok(await waitFor(() => state(root, 'done')?.status === 'stopped'));
    const before = fs.readFileSync(path.join(root, 'done', 'state.json'), 'utf8');
    const wrong = [
      [['pause', 'done'], /container not running/],
      [['resume', 'done'], /container not paused/],
      [['update', '--memory', '1000000', 'done'], /container not running/],
      [['exec', 'done', 'true'], /cannot exec in a container that is stopped/],
      [['kill', 'done', 'KILL'], /container not running/],
      [['start', 'done'], /cannot start a container that is stopped/],
      [['kill', 'done', 'SIGNOPE'], /invalid signal/],
    ];
    for (const [args, pattern] of wrong) {
      const r = runc(root, args);
      t.not(r.status, 0, `${args.join(' ')} fails`);
      t.match(r.stderr, pattern);
    }
    const bad = spawnSync(
      process.execPath,
      [cli, '--root', root, 'update', '--resources', '-', 'done'],
      {
        input: '{"memory": ',
        encoding: 'utf8',
      },
    );
    t.equal(bad.status, 1);
    t.match(bad.stderr, /resources are not valid JSON/);
    t.equal(
      fs.readFileSync(path.join(root, 'done', 'state.json'), 'utf8'),
      before,
      'state unchanged',
    );
  },
);

t.test(
  'createContainer and startContainer hooks run inside the container with its state',
  async (t) => {
    const root = makeRoot(t);
    const bundle = makeBundle(t, ['sleep', '1000'], (c) => {
      c.hooks = {
        // Before the switch to the new root: the host's path, the container's namespaces.
        createContainer: [
          {
            path: '/bin/sh',
            args: [
              'sh',
              '-c',
              'cat > "$OUT"; echo >> "$OUT"; readlink /proc/self/ns/uts >> "$OUT"',
            ],
            env: [`OUT=${path.join(os.tmpdir(), `sysbox-cc-${process.pid}`)}`],
          },
        ],
        // After it: the path and the files are the container's.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /start-state'] }],
      };
    });
    const created = path.join(os.tmpdir(), `sysbox-cc-${process.pid}`);
    t.teardown(() => fs.rmSync(created, { force: true }));
    t.equal(createWithOutput(root, bundle, 'hooks').status, 0);
    const pid = state(root, 'hooks').pid;
    const [json, uts] = fs.readFileSync(created, 'utf8').split('\n');
    t.match(JSON.parse(json), { id: 'hooks', status: 'created', pid });
    t.equal(
      uts,
      fs.readlinkSync(`/proc/${pid}/ns/uts`),
      "the hook ran in the container's namespaces",
    );
    t.equal(runc(root, ['start', 'hooks']).status, 0);
    const started = path.join(bundle, 'rootfs', 'start-state');
    t.ok(await waitFor(() => fs.existsSync(started) && fs.readFileSync(started, 'utf8')));
    t.match(JSON.parse(fs.readFileSync(started, 'utf8')), { id: 'hooks', status: 'running', pid });
  },
);

t.test('a read-only bind keeps nodev', async (t) => {
  const root = makeRoot(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-devsrc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  spawnSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
  const script =
    'head -c1 /d/null >/dev/null 2>&1 && echo OPENED || echo refused; grep " /d " /proc/mounts';
  const bundle = makeBundle(t, ['sh', '-c', script], (c) => {
    c.mounts.push({ destination: '/d', type: 'bind', source: dir, options: ['rbind', 'ro'] });
  });
  const r = createWithOutput(root, bundle, 'rodev');
  t.equal(r.status, 0, r.stderr);
  t.equal(runc(root, ['start', 'rodev']).status, 0);
  t.ok(await waitFor(() => state(root, 'rodev')?.status === 'stopped'));
  const out = fs.readFileSync(r.out, 'utf8');
  t.match(out, /^refused\n/);
  t.match(out, / \/d \S+ ro,nodev/);
});
