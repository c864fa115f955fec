'use strict';
// Shared by the test files: bundles made from Debian's static busybox, and runners for the CLI
// and the Docker client. Nothing here keeps state between files.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');
const cli = path.join(repo, 'lib', 'sysbox-runc.js');
const docker = process.env.DOCKER || '/usr/bin/docker';

/** A rootfs with busybox and its applets, owned by host root as an unpacked image is. */
function makeRootfs(dir) {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n');
  for (const a of applets.filter((x) => x && x !== 'busybox')) {
    fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  }
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\n');
}

/** The config runc's `spec` makes, trimmed to what a plain container needs. */
function baseConfig(args) {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'sysbox-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/sys',
        type: 'sysfs',
        source: 'sysfs',
        options: ['nosuid', 'noexec', 'nodev', 'ro'],
      },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
      ],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** Makes a bundle under a fresh temporary directory; `edit` may change the config. */
function makeBundle(t, args, edit) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeRootfs(path.join(dir, 'rootfs'));
  const config = baseConfig(args);
  if (edit) edit(config);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** A state root of the test's own, removed (with any container left in it) at teardown. */
function makeRoot(t) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-root-'));
  t.teardown(() => {
    for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      runc(root, ['delete', '--force', id]);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });
  return root;
}

function runc(root, args, opts = {}) {
  const r = spawnSync(process.execPath, [cli, '--root', root, ...args], {
    encoding: 'utf8',
    timeout: 60000,
    ...opts,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function dockerRun(args, opts = {}) {
  const r = spawnSync(docker, args, { encoding: 'utf8', timeout: 120000, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Whether the inner Docker of system container `id` answers (`docker` runs the client). */
function innerReady(id, docker = dockerRun) {
  return docker(['exec', id, 'docker', 'info']).status === 0;
}

/** Runs `cmd` in a throwaway busybox container of the inner Docker of `id`. */
function innerRun(id, cmd, docker = dockerRun) {
  const run = ['exec', id, 'docker', 'run', '--rm', '--network', 'none'];
  return docker([...run, 'sysbox-test/busybox:latest', ...cmd]);
}

function dockerReady() {
  return dockerRun(['info'], { timeout: 15000 }).status === 0;
}

/**
 * Host mount points under any of `prefixes`, to compare before and after. Only the paths a test
 * owns are compared, since other containers on the machine may mount and unmount meanwhile.
 */
function hostMounts(prefixes) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && prefixes.some((p) => m === p || m.startsWith(p + '/')))
    .sort();
}

async function waitFor(check, timeoutMs = 20000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function list(dir) {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * What a leak would show: host mounts, runtime state, cgroups, ID ranges, init processes, and
 * shared inner image entries (after a collection, which frees those no container uses).
 */
function hostSnapshot() {
  runc('/run/sysbox-runc-snapshot-unused', ['store', 'gc']);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m.startsWith('/var/lib/docker') || m.startsWith('/run/docker')))
    .sort();
  const inits = list('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sysbox-init';
    } catch {
      return false;
    }
  });
  return {
    mounts,
    state: list('/run/docker/runtime-runc/moby'),
    cgroups: list('/sys/fs/cgroup/memory/docker'),
    ranges: list('/run/sysbox-runc-ids'),
    inits: inits.length,
    shared: list('/var/lib/docker/sysbox-inner-images/layers'),
  };
}

module.exports = {
  hostSnapshot,
  repo,
  docker,
  makeBundle,
  makeRoot,
  runc,
  dockerRun,
  dockerReady,
  innerReady,
  innerRun,
  hostMounts,
  waitFor,
};
