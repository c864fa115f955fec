#!/usr/bin/env node
'use strict';
// Measures what inner image sharing is for: N containers of one image with ~600 MB of preloaded
// inner Docker images (bench/fixtures/build-inner-500.sh), started one after another, under
// sysbox-runc with sharing on, with sharing off (the `sysbox-runc-noshare` runtime entry) and
// under runc. For each mode: `docker run -d` time and the time until the inner dockerd answers,
// for the first container and for the later ones, and the host storage the N containers add.
// Usage, as root: node bench/sharing.js [--instances N] [--trials T] [--timeout SECONDS]
// (N defaults to 10; each of the T trials runs every mode again, and the tables show medians
// over trials). Results go to bench/results/sharing-<stamp>.{json,md,svg}; the table to stdout.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');

const docker = process.env.DOCKER || '/usr/bin/docker';
const image = 'sysbox-bench/inner-500:latest';
const fixture = path.join(__dirname, 'fixtures', 'build-inner-500.sh');
const fixtureHashLabel = 'io.sysbox.bench.fixture.build-hash';
const innerBytesLabel = 'io.sysbox.bench.fixture.inner-bytes';
const noShareFlag = '--inner-docker-image-sharing=false';
// Where the shared store may live: the runtime's setting, then its default beside Docker's
// layers (where hard links to them are possible).
const storeCandidates = [
  process.env.SYSBOX_INNER_STORE,
  configuredStore('/etc/sysbox/config.json'),
  '/var/lib/docker/sysbox-inner-images',
];
const pollMs = 50;

// Sharing on runs first: its store is then empty (unless an earlier run left entries, which
// the results record), so its instance 1 is a true first start. Sharing off never reads the
// store, so the entries sharing on leaves behind cannot help it.
const modes = [
  { key: 'on', name: 'sysbox (sharing on)', runtime: 'sysbox-runc', innerDocker: true },
  { key: 'off', name: 'sysbox (sharing off)', runtime: 'sysbox-runc-noshare', innerDocker: true },
  { key: 'runc', name: 'runc', runtime: 'runc', innerDocker: false },
];

class Interrupted extends Error {}
let interrupted = false;

const flags = { '--instances': 'instances', '--trials': 'trials', '--timeout': 'timeout' };

function parseArgs(argv) {
  const args = { instances: 10, trials: 1, timeout: 180 };
  for (let i = 0; i < argv.length; i++) {
    const key = flags[argv[i]];
    if (key === undefined) throw new Error(`unknown argument ${argv[i]}`);
    args[key] = Number(argv[++i]);
  }
  // Instance 1 against the median of 2..N needs at least one later instance.
  if (!Number.isInteger(args.instances) || args.instances < 2) {
    throw new Error('--instances must be an integer >= 2');
  }
  if (!Number.isInteger(args.trials) || args.trials < 1) throw new Error('--trials must be >= 1');
  if (!(args.timeout > 0)) throw new Error('--timeout must be > 0 seconds');
  return args;
}

function configuredStore(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).innerImageStore;
  } catch {
    return undefined;
  }
}

/**
 * The trees one du measures: Docker's layers (every container's writable layer and the special
 * dirs inside it) and the store. One du over all of them, so that a file hard-linked from an
 * image layer into the store counts once, as on the disk; a root inside another is left out
 * because du would count it twice.
 */
function duRoots() {
  const all = ['/var/lib/docker/overlay2', '/var/lib/sysbox', ...storeCandidates];
  const existing = [...new Set(all.filter((p) => p && fs.existsSync(p)))];
  return existing.filter((p) => !existing.some((q) => q !== p && p.startsWith(q + '/')));
}

function storeEntries() {
  // An entry per layer dir where the store has one, else per top-level name.
  const store = storeCandidates.find((p) => p && fs.existsSync(p));
  if (store === undefined) return { store: null, entries: 0 };
  const layers = path.join(store, 'layers');
  const dir = fs.existsSync(layers) ? layers : store;
  return { store, entries: fs.readdirSync(dir).length };
}

const log = (msg) => process.stderr.write(`sharing: ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every docker call is synchronous, so a signal handler only runs when the event loop gets a
 * turn: checking for an interrupt must await one first.
 */
async function checkInterrupt() {
  await new Promise((resolve) => setImmediate(resolve));
  if (interrupted) throw new Interrupted();
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function median(xs) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function mustRun(cmd, args, opts) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').trim()}`);
  }
  return r.stdout;
}

// --- preconditions ------------------------------------------------------------------------

function checkRuntimes() {
  const runtimes = JSON.parse(mustRun(docker, ['info', '--format', '{{json .Runtimes}}']));
  const missing = modes.filter((m) => runtimes[m.runtime] === undefined).map((m) => m.runtime);
  const noShare = runtimes['sysbox-runc-noshare'];
  if (noShare !== undefined && !(noShare.runtimeArgs || []).includes(noShareFlag)) {
    missing.push(`sysbox-runc-noshare with runtimeArgs ["${noShareFlag}"]`);
  }
  if (missing.length > 0) {
    throw new Error(
      `dockerd lacks the runtime entries ${missing.join(', ')}. scripts/start-dockerd.sh ` +
        'writes them to /etc/docker/daemon.json and reloads a dockerd it started (SIGHUP); ' +
        'any other dockerd needs the same entries and a reload by its owner.',
    );
  }
  return runtimes;
}

function ensureFixture() {
  // The script is idempotent and returns at once when the image is current. Its output goes to
  // stderr, so that stdout carries only the results table.
  const r = run(fixture, [], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`${fixture} failed (exit ${r.status})`);
  const fmt =
    `{{.Id}} {{index .Config.Labels "${fixtureHashLabel}"}} ` +
    `{{index .Config.Labels "${innerBytesLabel}"}}`;
  const [id, hash, innerBytes] = mustRun(docker, ['image', 'inspect', '--format', fmt, image])
    .trim()
    .split(' ');
  return { image, id, buildHash: hash, innerBytes: Number(innerBytes) };
}

function ourContainers(prefix) {
  const out = mustRun(docker, [
    'ps',
    '-a',
    '--filter',
    `name=^${prefix}`,
    '--format',
    '{{.Names}}',
  ]);
  return out.split('\n').filter(Boolean);
}

function otherContainerCount() {
  // Containers that are not ours share the disk and the CPU; the results record how many ran.
  const all = mustRun(docker, ['ps', '-a', '--format', '{{.Names}}']).split('\n').filter(Boolean);
  return all.filter((n) => !n.startsWith('sbbench-')).length;
}

// --- measurements -------------------------------------------------------------------------

function storage() {
  mustRun('sync', []);
  const df = mustRun('df', ['-B1', '--output=used', '/var/lib/docker']);
  const dfUsed = Number(df.trim().split('\n').pop());
  const roots = duRoots();
  // -x keeps du out of the containers' overlay mounts, which would count every layer again.
  const du = run('du', ['-sxB1', ...roots]);
  // du prints one line per root; a later root leaves out inodes an earlier one counted.
  const duByRoot = Object.fromEntries(
    du.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'))
      .map(([bytes, root]) => [root, Number(bytes)]),
  );
  const duBytes = Object.values(duByRoot).reduce((a, b) => a + b, 0);
  // Files vanish under du while other containers come and go; its total is still usable.
  return { dfUsed, duBytes, duByRoot, duStatus: du.status };
}

async function waitInnerDocker(name, startedAt, timeoutMs) {
  for (;;) {
    await checkInterrupt();
    const r = run(docker, ['exec', name, 'docker', 'info'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status === 0) return nowMs() - startedAt;
    if (/is not running/.test(r.stderr)) {
      const logs = run(docker, ['logs', '--tail', '15', name]);
      throw new Error(`${name} stopped before its inner dockerd answered:\n${logs.stderr}`);
    }
    if (nowMs() - startedAt > timeoutMs) {
      throw new Error(`${name}: inner dockerd did not answer within ${timeoutMs / 1000} s`);
    }
    await sleep(pollMs);
  }
}

async function startInstance(mode, name, timeoutMs) {
  const startedAt = nowMs();
  const args = ['run', '-d', '--network', 'none', '--runtime', mode.runtime, '--name', name];
  const r = run(docker, [...args, image]);
  const runMs = nowMs() - startedAt;
  if (r.status !== 0) throw new Error(`docker run -d (${mode.runtime}): ${r.stderr.trim()}`);
  const readyMs = mode.innerDocker ? await waitInnerDocker(name, startedAt, timeoutMs) : undefined;
  return { runMs, readyMs };
}

function removeAll(names) {
  const rmMs = [];
  for (const name of names) {
    const t = nowMs();
    run(docker, ['rm', '-f', name]);
    rmMs.push(nowMs() - t);
  }
  return rmMs;
}

async function runMode(mode, trial, args, prefix) {
  const result = {
    trial,
    storeEntriesBefore: storeEntries(),
    otherContainers: otherContainerCount(),
  };
  Object.assign(result, { runMs: [], readyMs: [], rmMs: [], storage: {} });
  const names = [];
  result.storage.before = storage();
  try {
    for (let i = 1; i <= args.instances; i++) {
      await checkInterrupt();
      const name = `${prefix}${mode.key}-t${trial}-${i}`;
      names.push(name);
      const t = await startInstance(mode, name, args.timeout * 1000);
      result.runMs.push(t.runMs);
      if (t.readyMs !== undefined) result.readyMs.push(t.readyMs);
      const ready = t.readyMs === undefined ? '' : `, inner docker info ${t.readyMs.toFixed(0)} ms`;
      log(`  ${name}: docker run -d ${t.runMs.toFixed(0)} ms${ready}`);
    }
    result.storage.after = storage();
    result.storeEntriesAfter = storeEntries();
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    result.error = err.message;
    log(`  ${mode.name} failed: ${err.message}`);
  } finally {
    result.rmMs = removeAll(names);
  }
  // What stays after every container is gone: a leak, or a store kept for the next one.
  result.storage.afterRemove = storage();
  return result;
}

// --- summary ------------------------------------------------------------------------------

function firstAndLater(trials, key) {
  const ok = trials.filter((t) => !t.error && t[key].length > 0);
  if (ok.length === 0) return undefined;
  return {
    first: median(ok.map((t) => t[key][0])),
    later: median(ok.flatMap((t) => t[key].slice(1))),
  };
}

function summarize(results, instances) {
  return results.map(({ mode, trials }) => {
    const ok = trials.filter((t) => !t.error);
    const added = (k) => median(ok.map((t) => t.storage.after[k] - t.storage.before[k]));
    const kept = (k) => median(trials.map((t) => t.storage.afterRemove[k] - t.storage.before[k]));
    return {
      mode: mode.name,
      runtime: mode.runtime,
      error: trials.find((t) => t.error)?.error,
      run: firstAndLater(trials, 'runMs'),
      ready: mode.innerDocker ? firstAndLater(trials, 'readyMs') : undefined,
      rm: median(ok.flatMap((t) => t.rmMs)),
      dfAdded: ok.length ? added('dfUsed') : undefined,
      duAdded: ok.length ? added('duBytes') : undefined,
      duPerInstance: ok.length ? added('duBytes') / instances : undefined,
      duKeptAfterRemove: kept('duBytes'),
      storeEntriesBefore: trials.map((t) => t.storeEntriesBefore),
    };
  });
}

const ms = (x) => (x === undefined ? 'n/a' : x.toFixed(0));
const mb = (x) => (x === undefined ? 'n/a' : (x / 1e6).toFixed(1));
const ratio = (a, b) =>
  a === undefined || b === undefined || b <= 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;

function timeTable(summary, metric, runc, title, n) {
  const lines = [
    `### ${title}`,
    '',
    `| mode | instance 1 (ms) | median 2..${n} (ms) | instance 1 / median | ` +
      'instance 1 / runc | median / runc |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of summary) {
    if (metric === 'ready' && !s.ready && !s.error) continue;
    const v = s[metric];
    if (v === undefined) {
      lines.push(`| ${s.mode} | failed | | | | |`);
      continue;
    }
    lines.push(
      `| ${s.mode} | ${ms(v.first)} | ${ms(v.later)} | ${ratio(v.first, v.later)} | ` +
        `${ratio(v.first, runc?.first)} | ${ratio(v.later, runc?.later)} |`,
    );
  }
  return lines;
}

function storageTable(summary, n, innerBytes) {
  const lines = [
    `### Host storage added by ${n} instances (MB = 10^6 bytes)`,
    '',
    '| mode | used on the fs (statvfs) | du layers + store | du per instance | ' +
      'per instance / preloaded | du left after rm |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of summary) {
    lines.push(
      `| ${s.mode} | ${mb(s.dfAdded)} | ${mb(s.duAdded)} | ${mb(s.duPerInstance)} | ` +
        `${ratio(s.duPerInstance, innerBytes)} | ${mb(s.duKeptAfterRemove)} |`,
    );
  }
  return lines;
}

function markdown(report) {
  const { summary, args, machine, fixture: fx } = report;
  const n = args.instances;
  const runc = summary.find((s) => s.runtime === 'runc');
  const before = summary[0].storeEntriesBefore;
  const store = { store: before[0].store, entries: before.map((e) => e.entries).join(', ') };
  const lines = [
    `## Inner image sharing: ${n} containers of ${fx.image}, ${args.trials} trial(s)`,
    '',
    `Image ${fx.id.slice(7, 19)}, ${mb(fx.innerBytes)} MB of preloaded inner images. ` +
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB RAM, Linux ` +
      `${machine.kernel}; /var/lib/docker on ${machine.dockerFs}; ${machine.dockerServer}; ` +
      `sysbox ${machine.sysboxCommit}.`,
    '',
    'Instance 1 is the first container of the image in that mode; modes run in the order ' +
      `below, so sharing on starts from its store (${store.store ?? 'none yet'}) as the run ` +
      `found it (entries before instance 1: ${store.entries}) and the page cache is warm ` +
      'for the later modes. Containers start one after another, each once its inner dockerd ' +
      `answers. Inner \`docker info\` is polled every ${pollMs} ms, each poll one \`docker ` +
      'exec\`. runc cannot run the inner dockerd without privileges, so it has `docker run -d` ' +
      'only; in the readiness table its ratios compare with that.',
    '',
    ...timeTable(summary, 'run', runc?.run, '`docker run -d`', n),
    '',
    ...timeTable(
      summary,
      'ready',
      runc?.run,
      '`docker run -d` until inner `docker info` answers',
      n,
    ),
    '',
    ...storageTable(summary, n, fx.innerBytes),
    '',
    'Per instance / preloaded is 1× when every container copies the inner images and near 0× ' +
      'when they share them. Both storage columns see the whole disk and tree, other ' +
      'containers on this daemon included.',
    '',
    `\`docker rm -f\`, median per container (ms): ` +
      summary.map((s) => `${s.mode} ${ms(s.rm)}`).join(', ') +
      `. Other containers on this daemon during the run: ${report.otherContainers}.`,
  ];
  if (report.runtimeChanged) {
    lines.push('', '**sysbox-runc changed during the run**: the sysbox rows may mix versions.');
  }
  for (const s of summary.filter((x) => x.error)) {
    lines.push('', `**${s.mode} failed:** ${s.error.split('\n')[0]}`);
  }
  return lines.join('\n') + '\n';
}

// --- chart --------------------------------------------------------------------------------

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A step of 1, 2 or 5 times a power of ten that cuts 0..max into about five intervals. */
function niceStep(max) {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * One bar panel: `groups` are [{ label, bars: [{ value, color } | null] }], drawn in the
 * rectangle box = { x, y, w, h }, with a y axis in `unit` and `fmt` for the value labels.
 */
function panel(box, title, unit, groups, fmt) {
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.bars.filter(Boolean).map((b) => b.value)));
  const step = niceStep(max * 1.1);
  const top = Math.ceil((max * 1.1) / step) * step;
  const y = (v) => box.y + box.h - (v / top) * box.h;
  const out = [
    `<text x="${box.x}" y="${box.y - 28}" class="title">${esc(title)}</text>`,
    `<text x="${box.x}" y="${box.y - 10}" class="unit">${esc(unit)}</text>`,
  ];
  // Ticks share the step's decimals, so that 0, 0.5, 1.0 line up as one scale.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let k = 0; k * step <= top + step / 2; k++) {
    const yy = y(k * step).toFixed(1);
    const label = (k * step).toFixed(decimals);
    out.push(`<line x1="${box.x}" x2="${box.x + box.w}" y1="${yy}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${box.x - 6}" y="${yy}" class="tick" dy="4">${label}</text>`);
  }
  const gw = box.w / groups.length;
  groups.forEach((g, gi) => {
    const gx = box.x + gi * gw;
    const bw = Math.min(44, (gw * 0.8) / Math.max(1, g.bars.length));
    const x0 = gx + (gw - bw * g.bars.length) / 2;
    // "sysbox (sharing on)" is wider than a narrow group: the part in brackets goes below.
    g.label.split(/ (?=\()/).forEach((line, li) => {
      const ly = box.y + box.h + 18 + li * 15;
      out.push(`<text x="${gx + gw / 2}" y="${ly}" class="label">${esc(line)}</text>`);
    });
    if (g.failed) {
      out.push(`<text x="${gx + gw / 2}" y="${box.y + box.h - 8}" class="label">failed</text>`);
    }
    g.bars.forEach((b, bi) => {
      if (!b) return;
      const x = x0 + bi * bw;
      const yy = y(b.value);
      const h = box.y + box.h - yy;
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${yy.toFixed(1)}" width="${(bw - 2).toFixed(1)}" ` +
          `height="${h.toFixed(1)}" fill="${b.color}"/>`,
      );
      const lx = (x + bw / 2).toFixed(1);
      out.push(
        `<text x="${lx}" y="${(yy - 4).toFixed(1)}" class="value">${esc(fmt(b.value))}</text>`,
      );
    });
  });
  out.push(
    `<line x1="${box.x}" x2="${box.x + box.w}" y1="${box.y + box.h}" y2="${box.y + box.h}" ` +
      'class="axis"/>',
  );
  return out;
}

// Run -d in blue, readiness in orange; the first instance dark, the later ones light.
const colors = {
  runFirst: '#1f4e79',
  runLater: '#7fa7d1',
  readyFirst: '#b3541e',
  readyLater: '#eea676',
};

function svg(report) {
  const { summary, args } = report;
  const secs = (x) => (x === undefined ? null : x / 1000);
  const bar = (v, color) => (v === undefined || v === null ? null : { value: v, color });
  const startup = summary.map((s) => ({
    label: s.mode,
    failed: s.run === undefined,
    bars: [
      bar(secs(s.run?.first), colors.runFirst),
      bar(secs(s.run?.later), colors.runLater),
      ...(s.ready || s.runtime !== 'runc'
        ? [
            bar(secs(s.ready?.first), colors.readyFirst),
            bar(secs(s.ready?.later), colors.readyLater),
          ]
        : []),
    ],
  }));
  const store = summary.map((s) => ({
    label: s.mode,
    failed: s.duAdded === undefined,
    bars: [bar(s.duAdded === undefined ? undefined : s.duAdded / 1e6, '#4d7c3a')],
  }));
  const n = args.instances;
  const seconds = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2));
  const body = [
    `<text x="20" y="26" class="head">Inner image sharing: ${n} containers of ` +
      `${esc(report.fixture.image)} (${mb(report.fixture.innerBytes)} MB preloaded)</text>`,
    ...panel(
      { x: 70, y: 90, w: 540, h: 260 },
      'Startup',
      `seconds; later = median of 2..${n}`,
      startup,
      seconds,
    ),
    ...panel(
      { x: 720, y: 90, w: 330, h: 260 },
      'Host storage added',
      `MB (du, hard links once)`,
      store,
      (v) => v.toFixed(0),
    ),
  ];
  const legend = [
    ['docker run -d, instance 1', colors.runFirst],
    ['docker run -d, later', colors.runLater],
    ['until inner docker info, instance 1', colors.readyFirst],
    ['until inner docker info, later', colors.readyLater],
  ];
  legend.forEach(([text, color], i) => {
    const x = 70 + (i % 2) * 270;
    const y = 418 + Math.floor(i / 2) * 20;
    body.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${color}"/>`);
    body.push(`<text x="${x + 18}" y="${y}" class="legend">${esc(text)}</text>`);
  });
  body.push(
    `<text x="720" y="418" class="legend">${esc(report.machine.cpu)}, ${report.machine.cores} ` +
      `cores</text>`,
    `<text x="720" y="438" class="legend">${esc(report.stamp)}</text>`,
  );
  const style =
    'text{font-family:sans-serif;fill:#222}.head{font-size:16px;font-weight:bold}' +
    '.title{font-size:14px;font-weight:bold}.unit,.legend{font-size:12px}' +
    '.tick{font-size:11px;text-anchor:end}.label{font-size:12px;text-anchor:middle}' +
    '.value{font-size:10px;text-anchor:middle}.grid{stroke:#ddd}.axis{stroke:#444}';
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="460" viewBox="0 0 1100 460">\n' +
    `<style>${style}</style>\n<rect width="1100" height="460" fill="#fff"/>\n` +
    body.join('\n') +
    '\n</svg>\n'
  );
}

/**
 * Hashes of the runtime's launcher and the bundled CLI it runs: a rebuild during the run (the
 * runtime is under development on the same machine) would mix two versions in one result.
 */
function runtimeFingerprint() {
  const bin = fs.realpathSync('/usr/local/bin/sysbox-runc');
  const lib = path.join(path.dirname(bin), '..', '..', 'lib');
  const cli = fs.existsSync(lib)
    ? fs.readdirSync(lib).filter((f) => /^sysbox-runc.*\.js$/.test(f))
    : [];
  const hash = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  return Object.fromEntries(
    [bin, ...cli.map((f) => path.join(lib, f))].map((f) => [f, hash(f).slice(0, 16)]),
  );
}

// --- main ---------------------------------------------------------------------------------

function machineInfo() {
  const fsInfo = run('findmnt', ['-no', 'FSTYPE,SOURCE', '-T', '/var/lib/docker']).stdout.trim();
  const server = run(docker, ['version', '--format', '{{.Server.Version}}']).stdout.trim();
  const driver = run(docker, ['info', '--format', '{{.Driver}}']).stdout.trim();
  const git = run('git', ['-C', __dirname, 'describe', '--always', '--dirty']).stdout.trim();
  return {
    cpu: os.cpus()[0].model,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    dockerFs: fsInfo.replace(/\s+/, ' ') || 'unknown',
    dockerServer: `dockerd ${server} (${driver})`,
    sysboxCommit: git || 'unknown',
  };
}

function writeResults(report, md) {
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `sharing-${report.stamp}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, md);
  fs.writeFileSync(`${base}.svg`, svg(report));
  return base;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid() !== 0) throw new Error('run as root: du and df of /var/lib/docker need it');
  const runtimes = checkRuntimes();
  const fx = ensureFixture();
  // The pid keeps two runs (or a leftover of a killed one) from sharing names.
  const prefix = `sbbench-share-${process.pid}-`;
  for (const sig of ['SIGINT', 'SIGTERM']) {
    // A second signal is not needed: the run stops at its next step and removes its containers.
    process.on(sig, () => {
      interrupted = true;
      log(`${sig}: stopping after the current step, then removing this run's containers`);
    });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const results = modes.map((mode) => ({ mode, trials: [] }));
  const otherBefore = otherContainerCount();
  const fingerprint = runtimeFingerprint();
  try {
    for (let t = 1; t <= args.trials; t++) {
      for (const r of results) {
        log(`trial ${t}/${args.trials}: ${r.mode.name}, ${args.instances} instances`);
        r.trials.push(await runMode(r.mode, t, args, prefix));
      }
    }
  } finally {
    const left = ourContainers(prefix);
    if (left.length > 0) removeAll(left);
  }
  const otherContainers = `${otherBefore} at the start, ${otherContainerCount()} at the end`;
  const report = { stamp, args, fixture: fx, machine: machineInfo(), runtimes, otherContainers };
  report.runtimeFiles = fingerprint;
  report.runtimeChanged = JSON.stringify(fingerprint) !== JSON.stringify(runtimeFingerprint());
  if (report.runtimeChanged) log('WARNING: sysbox-runc was rebuilt during the run');
  report.summary = summarize(results, args.instances);
  report.results = results;
  const md = markdown(report);
  const base = writeResults(report, md);
  process.stdout.write(md);
  log(`results in ${base}.{json,md,svg}`);
}

// Exported so that a saved sharing-*.json can be drawn and tabled again without a rerun.
module.exports = { markdown, svg };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`sharing: ${err instanceof Interrupted ? 'interrupted' : err.message}\n`);
    process.exit(1);
  });
}
