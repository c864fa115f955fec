'use strict';
// config.json checking: each malformed field is named in the error.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const { loadSpec } = require('../lib/runtime/spec');
const { makeBundle } = require('./helpers');

function withConfig(t, edit) {
  const dir = makeBundle(t, ['true']);
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(
    file,
    typeof edit === 'function' ? JSON.stringify(edit(config) ?? config) : edit,
  );
  return dir;
}

t.test('a valid bundle loads, with the rootfs made absolute', async (t) => {
  const dir = makeBundle(t, ['true']);
  const { spec, rootfs } = loadSpec(dir);
  t.equal(rootfs, path.join(dir, 'rootfs'));
  t.same(spec.process.args, ['true']);
});

t.test('malformed JSON names the file', async (t) => {
  const dir = withConfig(t, '{"ociVersion": ');
  t.throws(() => loadSpec(dir), {
    code: 'EINVAL_CONFIG',
    message: /config\.json is not valid JSON/,
  });
});

t.test('a field of the wrong type is named', async (t) => {
  const dir = withConfig(t, (c) => {
    c.process.args = 'sh -c true';
  });
  t.throws(() => loadSpec(dir), {
    code: 'EINVAL_CONFIG',
    message: /process\.args must be a array/,
  });
  const dir2 = withConfig(t, (c) => {
    c.mounts[0].options = [1];
  });
  t.throws(() => loadSpec(dir2), { message: /mounts\[0\]\.options\[0\] must be a string/ });
});

t.test('a missing rootfs is named', async (t) => {
  const dir = withConfig(t, (c) => {
    c.root.path = 'no-such-rootfs';
  });
  t.throws(() => loadSpec(dir), {
    code: 'EINVAL_CONFIG',
    message: /no-such-rootfs.*does not exist/,
  });
});

t.test('relative mount destinations and empty args are refused', async (t) => {
  const dir = withConfig(t, (c) => {
    c.mounts[0].destination = 'proc';
  });
  t.throws(() => loadSpec(dir), { message: /mounts\[0\]\.destination must be absolute/ });
  const dir2 = withConfig(t, (c) => {
    c.process.args = [];
  });
  t.throws(() => loadSpec(dir2), { message: /process\.args must name the program/ });
});

t.test('a missing config.json is reported as such', async (t) => {
  t.throws(() => loadSpec('/nonexistent-bundle'), {
    code: 'EINVAL_ARGUMENT',
    message: /no such file/,
  });
});
