'use strict';
// containerd without Docker: a containerd of the test's own, `ctr run` with the runc v2 shim
// and sysbox-runc as its binary, on images imported from the host Docker.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { docker, dockerReady, waitFor } = require('./helpers');

const runtime = '/usr/local/bin/sysbox-runc';

if (!dockerReady() || !fs.existsSync(runtime)) {
  t.fail('dockerd does not answer or sysbox-runc is not installed: run scripts/setup.sh first');
  process.exit(1);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-containerd-'));
const sock = path.join(dir, 'containerd.sock');
fs.writeFileSync(
  path.join(dir, 'config.toml'),
  [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    // CRI would look for CNI networking; this test needs only the task service.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${sock}"`,
  ].join('\n'),
);
const daemon = spawn('containerd', ['--config', path.join(dir, 'config.toml')], {
  stdio: ['ignore', fs.openSync(path.join(dir, 'log'), 'w'), 'inherit'],
});

t.teardown(async () => {
  ctr(['task', 'kill', '-s', 'KILL', 'sys1']);
  ctr(['task', 'delete', 'sys1']);
  ctr(['container', 'delete', 'sys1']);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const mnt = line.split(' ')[4];
    if (mnt && mnt.startsWith(dir + '/')) spawnSync('umount', ['-l', mnt]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function ctr(args, opts = {}) {
  const r = spawnSync('ctr', ['--address', sock, '-n', 'sysbox-test', ...args], {
    encoding: 'utf8',
    timeout: 120000,
    ...opts,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function importImage(name) {
  const tar = path.join(dir, 'image.tar');
  const saved = spawnSync(docker, ['save', '-o', tar, name]);
  if (saved.status !== 0) return false;
  const r = ctr(['image', 'import', tar]);
  fs.rmSync(tar);
  return r.status === 0;
}

const runFlags = ['--runtime', 'io.containerd.runc.v2', '--runc-binary', runtime];

t.test('containerd answers', async (t) => {
  t.ok(await waitFor(() => ctr(['version']).status === 0, 30000), 'the test containerd started');
});

t.test('ctr run with sysbox-runc runs a container in its own user namespace', async (t) => {
  t.ok(importImage('sysbox-test/busybox:latest'), 'busybox imported');
  const r = ctr([
    'run',
    '--rm',
    ...runFlags,
    'docker.io/sysbox-test/busybox:latest',
    'plain1',
    'sh',
    '-c',
    'cat /proc/self/uid_map; ls -ln /bin/busybox',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^\s+0\s+[1-9]\d*\s+\d+\n/, 'root maps to a non-zero host ID');
  t.match(r.stdout, /\s0\s+0\s+\d+ .*\/bin\/busybox/, 'image files appear owned by root');
});

t.test('a system container under containerd runs its inner Docker', async (t) => {
  t.ok(importImage('sysbox-test/system:latest'), 'system image imported');
  const started = ctr(['run', '-d', ...runFlags, 'docker.io/sysbox-test/system:latest', 'sys1']);
  t.equal(started.status, 0, started.stderr);
  let n = 0;
  const exec = (...cmd) => ctr(['task', 'exec', '--exec-id', `e${n++}`, 'sys1', ...cmd]);
  t.ok(await waitFor(() => exec('docker', 'info').status === 0, 60000, 500), 'inner dockerd up');
  const inner = exec(
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    'sysbox-test/busybox',
    'echo',
    'hi',
  );
  t.equal(inner.status, 0, inner.stderr);
  t.equal(inner.stdout, 'hi\n');
});
