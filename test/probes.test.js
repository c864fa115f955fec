'use strict';
// Isolation probes run as root inside a system container; every one must fail. The README's
// reliability section lists them; keep the two in step.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { makeBundle, makeRoot, runc, waitFor, repo } = require('./helpers');

const cli = path.join(repo, 'lib', 'sysbox-runc.js');
const secret = path.join(os.tmpdir(), `sysbox-probe-secret-${process.pid}`);

/** The host's current value of a sysctl (`vm/swappiness`). */
function hostValue(name) {
  return fs.readFileSync(path.join('/proc/sys', name), 'utf8').trim();
}

/** [what it tries, a shell command that succeeds only if the container got through] */
const probes = [
  ['read a host file', `cat ${secret}`],
  ['reach a host file through /proc/1/root', `cat /proc/1/root${secret}`],
  [
    'climb out of the root with .. and chroot',
    `mkdir -p /x && chroot /x /bin/cat ../../..${secret}`,
  ],
  ['make a device node for the host disk', 'mknod /tmp/vda b 254 0'],
  ['make /dev/mem', 'mknod /tmp/mem c 1 1'],
  ['mount the host disk', 'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt'],
  [
    'mount a cgroup v1 hierarchy and find release_agent',
    'mkdir -p /c && mount -t cgroup -o memory none /c && ls /c/release_agent',
  ],
  // kernel.panic and kernel.pid_max are the container's own (sysbox-fs): written below, and
  // checked unchanged on the host. These are the host's, and get the host's own values.
  [
    'write vm.swappiness after remounting /proc/sys',
    `mount -o remount,rw /proc/sys; echo ${hostValue('vm/swappiness')} > /proc/sys/vm/swappiness`,
  ],
  ['write vm.drop_caches', 'mount -o remount,rw /proc/sys; echo 1 > /proc/sys/vm/drop_caches'],
  [
    'write kernel.threads-max',
    'mount -o remount,rw /proc/sys; ' +
      `echo ${hostValue('kernel/threads-max')} > /proc/sys/kernel/threads-max`,
  ],
  ['trigger sysrq', 'echo h > /proc/sysrq-trigger'],
  ['read /proc/kcore after unmounting its mask', 'umount /proc/kcore; head -c 1 /proc/kcore'],
  ['write a sysfs global', 'echo never > /sys/kernel/mm/transparent_hugepage/enabled'],
  ['see a host process', `test -d /proc/${process.pid}`],
  ['signal a host process', `kill -0 ${process.pid}`],
  ['raise its own pids limit', 'echo max > /sys/fs/cgroup/pids/pids.max'],
  ['raise its own memory limit', 'echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes'],
  // Its cgroup namespace roots every hierarchy at its own cgroup: the parents are out of sight.
  [
    'see the cgroups above its own',
    'mkdir -p /c2 && mount -t cgroup -o pids none /c2 && test -d /c2/../sysbox',
  ],
  ['load a kernel module', 'insmod /bin/busybox'],
  // busybox date exits 0 even when it cannot set the clock; the year tells.
  ['set the clock', 'date -s 2001-01-01; test "$(date +%Y)" = 2001'],
  ['raise its hard open-files limit', 'ulimit -H -n 2000000'],
  ['raise its scheduling priority', 'nice -n -10 true'],
  ['turn on swap', 'swapon /bin/busybox'],
  [
    'open a raw socket on the host network',
    'ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && ip link show eth0',
  ],
  [
    'write the host name of the host',
    `hostname probe-changed; test "$(cat /proc/sys/kernel/hostname)" = "${os.hostname()}"`,
  ],
  ['write to a host terminal', 'mknod /tmp/tty1 c 4 1 && echo x > /tmp/tty1'],
  ['read kernel log', 'dmesg'],
];

t.test(`${probes.length} isolation probes are all denied`, async (t) => {
  t.ok(probes.length >= 25, 'at least 25 probes');
  fs.writeFileSync(secret, 'secret');
  t.teardown(() => fs.rmSync(secret, { force: true }));
  const root = makeRoot(t);
  const script = probes
    .map(([, cmd], i) => `if (${cmd}) >/dev/null 2>&1; then echo "HOLE ${i}"; fi`)
    .join('\n');
  const writes = 'echo 7 > /proc/sys/kernel/panic; echo 4194000 > /proc/sys/kernel/pid_max';
  const bundle = makeBundle(t, ['sh', '-c', `${script}\n${writes}\necho done`], (c) => {
    c.linux.resources = { pids: { limit: 100 }, memory: { limit: 256 * 1024 * 1024 } };
  });
  const out = path.join(bundle, 'out');
  const fd = fs.openSync(out, 'w');
  const created = spawnSync(
    process.execPath,
    [cli, '--root', root, 'create', '--bundle', bundle, 'p'],
    {
      stdio: ['ignore', fd, fd],
      timeout: 60000,
    },
  );
  fs.closeSync(fd);
  t.equal(created.status, 0);
  const before = {
    hostname: os.hostname(),
    panic: fs.readFileSync('/proc/sys/kernel/panic', 'utf8'),
    pidMax: fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'),
  };
  t.equal(runc(root, ['start', 'p']).status, 0);
  const done = await waitFor(() => fs.readFileSync(out, 'utf8').includes('done'), 60000);
  t.ok(done, 'the probes ran');
  const holes = fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('HOLE'))
    .map((l) => probes[Number(l.split(' ')[1])][0]);
  t.same(holes, [], 'no probe got through');
  t.equal(os.hostname(), before.hostname, 'the host name is unchanged');
  t.equal(
    fs.readFileSync('/proc/sys/kernel/panic', 'utf8'),
    before.panic,
    'kernel.panic, written inside, is unchanged',
  );
  t.equal(
    fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'),
    before.pidMax,
    'kernel.pid_max, written inside, is unchanged',
  );
});

module.exports = { probes };
