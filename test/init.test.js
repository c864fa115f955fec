'use strict';
// sysbox-init on its own: the plan format, its escapes, and how it reports a bad plan.
const t = require('tap');
const { spawn } = require('node:child_process');
const { Plan } = require('../lib/runtime/plan');
const { initProgram } = require('../lib/native');

function runInit(planText) {
  return new Promise((resolve) => {
    const child = spawn(initProgram(), [], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let sync = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stdio[3].on('data', (d) => (sync += d));
    child.stdio[3].on('error', () => {});
    child.on('close', (status) => resolve({ status, stdout, sync }));
    child.stdio[3].write(planText);
  });
}

t.test('fields keep tabs, newlines and backslashes through the plan', async (t) => {
  const odd = 'a\tb\nc\\d';
  const plan = new Plan().add('env', 'PATH=/bin:/usr/bin').add('arg', 'printf').add('arg', '%s');
  plan.add('arg', odd).add('lookup').add('exec');
  const r = await runInit(plan.text());
  t.equal(r.status, 0);
  t.equal(r.stdout, odd);
});

t.test('an unknown step is reported on the sync socket with exit 127', async (t) => {
  const r = await runInit('no-such-step\tx\nend\n');
  t.equal(r.status, 127);
  t.match(r.sync, /^error unknown plan step `no-such-step` with 1 fields\n/);
});

t.test('a missing program is reported before exec', async (t) => {
  const plan = new Plan().add('env', 'PATH=/bin').add('arg', 'no-such-program').add('lookup');
  const r = await runInit(plan.text());
  t.equal(r.status, 127);
  t.match(r.sync, /executable file not found in \$PATH/);
});

t.test('a plan cut short is an error, not a hang', async (t) => {
  const child = spawn(initProgram(), [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  let sync = '';
  child.stdio[3].on('data', (d) => (sync += d));
  child.stdio[3].end('arg\tx\n');
  const status = await new Promise((r) => child.on('close', r));
  t.equal(status, 127);
  t.equal(sync, '');
});

t.test('run without the sync socket it explains itself', async (t) => {
  const child = spawn(initProgram(), [], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise((r) => child.on('close', r));
  t.equal(status, 2);
  t.match(stderr, /started by sysbox-runc/);
});
