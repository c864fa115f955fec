'use strict';
// The addon's primitives, checked against what the kernel reports about their results.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const native = require('../lib/native');

const range = [{ containerID: 0, hostID: 165536, size: 65536 }];

t.test('createUserns returns an fd of a new user namespace', async (t) => {
  const fd = native.createUserns(range, range);
  t.teardown(() => fs.closeSync(fd));
  const link = fs.readlinkSync(`/proc/self/fd/${fd}`);
  t.match(link, /^user:\[\d+\]$/);
  t.not(link, fs.readlinkSync('/proc/self/ns/user'), 'not the caller namespace');
});

t.test('createUserns reports a map the kernel refuses', async (t) => {
  const bad = [{ containerID: 0, hostID: 165536, size: 0 }];
  t.throws(() => native.createUserns(bad, range), { code: 'EINVAL', message: /uid_map/ });
});

t.test('map entries are checked before the addon is called', async (t) => {
  t.throws(() => native.createUserns([], range), RangeError);
  t.throws(() => native.createUserns([{ containerID: -1, hostID: 1, size: 1 }], range), RangeError);
});

t.test('openIdmappedTree shows root-owned files as the mapped host ID', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-idmap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'file'), 'data');
  fs.chownSync(path.join(dir, 'file'), 1000, 1000);
  const ns = native.createUserns(range, range);
  t.teardown(() => fs.closeSync(ns));
  const fd = native.openIdmappedTree(dir, ns, false);
  t.teardown(() => fs.closeSync(fd));
  t.equal(fs.fstatSync(fd).uid, 165536, 'root on disk is the range start through the mount');
  t.equal(fs.statSync(`/proc/self/fd/${fd}/file`).uid, 166536, 'uid 1000 is shifted too');
  t.equal(fs.statSync(path.join(dir, 'file')).uid, 1000, 'the directory itself is unchanged');
});

t.test('openIdmappedTree names the path it could not open', async (t) => {
  const ns = native.createUserns(range, range);
  t.teardown(() => fs.closeSync(ns));
  t.throws(() => native.openIdmappedTree('/nonexistent/sysbox', ns, false), {
    code: 'ENOENT',
    message: /\/nonexistent\/sysbox/,
  });
  t.throws(() => native.openIdmappedTree('relative/path', ns, false), TypeError);
});

t.test('makeFifo makes a fifo owned by the given IDs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-fifo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'exec.fifo');
  native.makeFifo(file, 165536, 165536);
  const st = fs.statSync(file);
  t.ok(st.isFIFO());
  t.equal(st.uid, 165536);
  t.equal(st.mode & 0o777, 0o600);
  t.throws(() => native.makeFifo(file, 0, 0), { code: 'EEXIST' });
});
