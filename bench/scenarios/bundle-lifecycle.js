'use strict';
// `create`, `start` and `delete` of a busybox bundle, each a fresh process of the runtime: what
// containerd's shim runs for every container.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const sysbox = '/usr/local/bin/sysbox-runc';
const binaries = { 'sysbox-runc': sysbox, runc: 'runc', 'sysbox-runc, no worker': sysbox };

function makeBundle(dir) {
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp'])
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'true'));
  execFileSync('runc', ['spec'], { cwd: dir });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['true'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
}

/**
 * The container inherits the standard streams of `create` and keeps them after it exits, so
 * they go to a file: a pipe would hold the caller until the container ends.
 */
function run(bin, args, log, env) {
  const fd = fs.openSync(log, 'w');
  const r = spawnSync(bin, args, { stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${fs.readFileSync(log, 'utf8')}`);
}

module.exports = {
  name: 'create+start+delete of a bundle',
  runtimes: ['sysbox-runc', 'runc', 'sysbox-runc, no worker'],
  setup() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-bench-'));
    makeBundle(dir);
    return { dir, n: 0 };
  },
  trial(ctx, runtime) {
    const bin = binaries[runtime];
    const root = ['--root', path.join(ctx.dir, `root-${runtime.replace(/\W+/g, '-')}`)];
    // The launcher runs the command in Node started for it, as it does when no worker waits.
    const env = runtime.includes('no worker')
      ? { ...process.env, SYSBOX_WARM_WORKER: '0' }
      : process.env;
    const id = `bench-${ctx.n++}`;
    const started = process.hrtime.bigint();
    const log = path.join(ctx.dir, 'output');
    run(bin, [...root, 'create', '--bundle', ctx.dir, id], log, env);
    run(bin, [...root, 'start', id], log, env);
    run(bin, [...root, 'delete', '--force', id], log, env);
    return Number(process.hrtime.bigint() - started) / 1e6;
  },
  teardown(ctx) {
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  },
};
