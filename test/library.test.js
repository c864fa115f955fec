'use strict';
// The library as the README shows it: the README's example is extracted and run as written.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { makeBundle, repo } = require('./helpers');
const { Runtime, SysboxError } = require('..');

function readmeExample() {
  const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const m = /```js\n(\/\/ demo\.js[\s\S]*?)```/.exec(readme);
  return m && m[1];
}

t.test("the README's example runs as written", async (t) => {
  const code = readmeExample();
  t.ok(code, 'the README has the example');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-example-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // `require('sysbox')` resolves to this checkout, as it would to an installed package.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(repo, path.join(dir, 'node_modules', 'sysbox'));
  fs.writeFileSync(path.join(dir, 'demo.js'), code);
  const bundle = makeBundle(t, ['echo', 'hello from the bundle']);
  const r = spawnSync(process.execPath, [path.join(dir, 'demo.js'), bundle], {
    encoding: 'utf8',
    timeout: 60000,
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'status: created\nhello from the bundle\nstatus: stopped\ndeleted\n');
});

t.test('errors carry stable codes', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-lib-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const runtime = new Runtime({ root, config: {} });
  t.throws(() => runtime.get('missing'), { code: 'ENOT_FOUND' });
  t.ok(
    (() => {
      try {
        runtime.get('missing');
      } catch (err) {
        return err instanceof SysboxError;
      }
    })(),
    'errors are SysboxError',
  );
  t.throws(() => runtime.get('../x'), { code: 'EINVAL_ARGUMENT' });
  await t.rejects(runtime.create('c1', { bundle: '/nonexistent' }), { code: 'EINVAL_ARGUMENT' });
  t.throws(() => new Runtime({ root: '' }), TypeError);
});

t.test('a container handle drives the lifecycle', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-lib-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const runtime = new Runtime({ root, config: {} });
  const bundle = makeBundle(t, ['sleep', '1000']);
  const c = await runtime.create('lib1', { bundle });
  t.teardown(() => c.delete({ force: true }).catch(() => {}));
  t.equal(c.state().status, 'created');
  c.start();
  t.equal(c.state().status, 'running');
  t.same(
    runtime.list().map((x) => x.id),
    ['lib1'],
  );
  await c.pause();
  t.equal(c.state().status, 'paused');
  await c.resume();
  t.equal(c.state().status, 'running');
  t.ok(c.pids().includes(c.state().pid));
  const status = await c.exec({ args: ['sh', '-c', 'exit 4'], cwd: '/', user: { uid: 0, gid: 0 } });
  t.equal(status, 4, 'exec returns the exit status');
  t.throws(() => c.start(), { code: 'EBAD_STATE' });
  await t.rejects(c.delete(), { code: 'EBAD_STATE' }, 'a running container needs force');
  c.kill('KILL');
  t.ok(await c.waitStopped(10000));
  t.throws(() => c.kill(), { code: 'EBAD_STATE', message: /container not running/ });
  await c.delete();
  t.throws(() => runtime.get('lib1'), { code: 'ENOT_FOUND' });
});
