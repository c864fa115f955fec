'use strict';
// `docker run --rm` of a 2 MB image running `true`: the whole path through dockerd, containerd,
// the shim and the runtime's create, start and delete.
const { spawnSync } = require('node:child_process');

const docker = process.env.DOCKER || '/usr/bin/docker';
const image = 'sysbox-test/busybox:latest';

module.exports = {
  name: 'docker run --rm true',
  runtimes: ['sysbox-runc', 'runc'],
  setup() {
    if (spawnSync(docker, ['image', 'inspect', image]).status !== 0) {
      throw new Error(`${image} is missing: run test/fixtures/build.sh`);
    }
    return {};
  },
  trial(_ctx, runtime) {
    const started = process.hrtime.bigint();
    const r = spawnSync(docker, [
      'run',
      '--rm',
      `--runtime=${runtime}`,
      '--network',
      'none',
      image,
      'true',
    ]);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`docker run with ${runtime} failed: ${r.stderr}`);
    return ms;
  },
  teardown() {},
};
