'use strict';
// A plain container under sysbox-runc behaves as under runc: each scenario runs with both
// runtimes through Docker and compares what a user observes.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { docker, dockerRun, dockerReady, waitFor } = require('./helpers');

const image = 'sysbox-test/busybox:latest';
const runtimes = ['runc', 'sysbox-runc'];

if (!dockerReady()) {
  t.fail('dockerd does not answer: run scripts/setup.sh first');
  process.exit(1);
}

function runWith(runtime, flags, command) {
  const r = dockerRun([
    'run',
    '--rm',
    `--runtime=${runtime}`,
    '--network',
    'none',
    ...flags,
    image,
    ...command,
  ]);
  return { status: r.status, stdout: r.stdout };
}

/** Runs the same container with both runtimes and expects equal status and output. */
function same(t, name, flags, command, check) {
  t.test(name, async (t) => {
    const [a, b] = runtimes.map((rt) => runWith(rt, flags, command));
    t.same(b, a, 'sysbox-runc matches runc');
    if (check) check(t, a);
  });
}

function detached(t, runtime, flags, command) {
  const r = dockerRun([
    'run',
    '-d',
    `--runtime=${runtime}`,
    '--network',
    'none',
    ...flags,
    image,
    ...command,
  ]);
  const id = r.stdout.trim();
  t.teardown(() => dockerRun(['rm', '-f', id]));
  return id;
}

same(t, 'environment', ['-e', 'GREETING=hello world'], ['sh', '-c', 'echo "$GREETING"'], (t, r) =>
  t.equal(r.stdout, 'hello world\n'),
);
same(t, 'working directory', ['-w', '/tmp'], ['pwd']);
same(t, 'user and groups', ['--user', '1000:1000', '--group-add', '20'], ['id']);
same(t, 'hostname', ['--hostname', 'parity-host'], ['hostname']);
same(t, 'exit status', [], ['sh', '-c', 'exit 42'], (t, r) => t.equal(r.status, 42));
same(t, 'read-only rootfs', ['--read-only'], ['sh', '-c', 'touch /x 2>/dev/null; echo $?']);
same(
  t,
  'tmpfs mount',
  ['--tmpfs', '/data:size=1m'],
  ['sh', '-c', 'echo x > /data/f && cat /data/f && grep -c " /data tmpfs" /proc/mounts'],
);
same(t, '--cap-drop ALL', ['--cap-drop', 'ALL'], ['grep', 'Cap[EPB]', '/proc/self/status']);
same(
  t,
  '--cap-add',
  ['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW'],
  ['grep', 'CapEff', '/proc/self/status'],
);
same(
  t,
  '--memory',
  ['--memory', '64m'],
  ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'],
  (t, r) => t.equal(r.stdout, `${64 * 1024 * 1024}\n`),
);
same(t, '--pids-limit', ['--pids-limit', '50'], ['cat', '/sys/fs/cgroup/pids/pids.max']);
same(t, '--cpus', ['--cpus', '0.5'], ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);

t.test('bind mounts read and write host files as root does', async (t) => {
  const results = [];
  for (const rt of runtimes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-parity-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'in'), 'from host');
    const r = runWith(
      rt,
      ['-v', `${dir}:/b`],
      ['sh', '-c', 'cat /b/in; echo out > /b/out; stat -c "%A %u %g %s %n" /b/*'],
    );
    const out = fs.statSync(path.join(dir, 'out'));
    results.push({ ...r, owner: `${out.uid}:${out.gid}` });
  }
  t.same(results[1], results[0]);
  t.equal(results[0].owner, '0:0', 'files written by container root belong to host root');
});

t.test('pause, unpause, update, top and stats', async (t) => {
  const seen = [];
  for (const rt of runtimes) {
    const id = detached(t, rt, ['--memory', '64m'], ['sleep', '1000']);
    const o = {};
    o.pause = dockerRun(['pause', id]).status;
    o.paused = dockerRun(['inspect', '--format', '{{.State.Paused}}', id]).stdout.trim();
    o.unpause = dockerRun(['unpause', id]).status;
    o.running = dockerRun(['inspect', '--format', '{{.State.Status}}', id]).stdout.trim();
    o.update = dockerRun(['update', '--memory', '128m', '--memory-swap', '256m', id]).status;
    o.limit = dockerRun(['exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).stdout;
    o.top = /sleep 1000/.test(dockerRun(['top', id]).stdout);
    const stats = dockerRun(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
    o.stats = stats.status === 0 && /MiB|KiB|B \//.test(stats.stdout);
    seen.push(o);
  }
  t.same(seen[1], seen[0]);
  t.match(seen[0], {
    pause: 0,
    paused: 'true',
    unpause: 0,
    running: 'running',
    top: true,
    stats: true,
  });
});

t.test('a signal reaches PID 1', async (t) => {
  const seen = [];
  for (const rt of runtimes) {
    const script = 'trap "echo got-usr1; exit 3" USR1; while :; do sleep 0.1; done';
    const id = detached(t, rt, [], ['sh', '-c', script]);
    await waitFor(() => dockerRun(['top', id]).stdout.includes('sleep'));
    dockerRun(['kill', '-s', 'USR1', id]);
    await waitFor(
      () => dockerRun(['inspect', '--format', '{{.State.Running}}', id]).stdout.trim() === 'false',
    );
    seen.push({
      logs: dockerRun(['logs', id]).stdout,
      exit: dockerRun(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim(),
    });
  }
  t.same(seen[1], seen[0]);
  t.same(seen[0], { logs: 'got-usr1\n', exit: '3' });
});

t.test('a container over its memory limit is OOM-killed', async (t) => {
  const seen = [];
  for (const rt of runtimes) {
    const hog = 'head -c 200000000 /dev/zero | tr "\\0" a | sort > /dev/null';
    const id = detached(t, rt, ['--memory', '32m', '--memory-swap', '32m'], ['sh', '-c', hog]);
    await waitFor(
      () => dockerRun(['inspect', '--format', '{{.State.Running}}', id]).stdout.trim() === 'false',
      60000,
    );
    seen.push(
      dockerRun([
        'inspect',
        '--format',
        '{{.State.OOMKilled}} {{.State.ExitCode}}',
        id,
      ]).stdout.trim(),
    );
  }
  t.same(seen[1], seen[0]);
  t.equal(seen[0], 'true 137');
});

t.test('docker exec -it gives a terminal', async (t) => {
  const seen = [];
  for (const rt of runtimes) {
    const id = detached(t, rt, [], ['sleep', '1000']);
    const r = spawnSync(
      'script',
      ['-qec', `${docker} exec -it ${id} sh -c 'tty; echo $TERM'`, '/dev/null'],
      {
        encoding: 'utf8',
        timeout: 60000,
      },
    );
    // script(1) echoes control characters unevenly; what matters is the terminal and TERM.
    seen.push({
      status: r.status,
      tty: /\/dev\/pts\/\d+/.test(r.stdout),
      term: /xterm/.test(r.stdout),
    });
  }
  t.same(seen[1], seen[0]);
  t.same(seen[0], { status: 0, tty: true, term: true });
});
