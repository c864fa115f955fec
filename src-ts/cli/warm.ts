/**
 * A warm worker: a Node process of the runtime that starts before a command comes, waits on a
 * socket, and runs one command for the launcher that connects (src-c/relay.c has the other
 * side, src-c/common/warm.h the conversation). Starting Node and loading the runtime is most of
 * what a create costs; the worker has paid it already.
 *
 * Each worker serves a single command, as the process the launcher would have started: it takes
 * the launcher's standard streams, directory, umask, environment and arguments, and the
 * processes the command starts are forked by the launcher. As it takes a command it starts its
 * successor, handing on the listening socket, so one worker is always waiting and none lives
 * longer than its command. A worker nobody calls for ten minutes exits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  dieWith,
  dupTo,
  exitNow,
  lockFile,
  runNormally,
  spawnDetached,
  warmAccept,
  warmListen,
  warmProbe,
  warmReceive,
  warmSend,
  type WarmPacket,
} from '../native';
import { setProcessRelay, type Spawned } from '../runtime/process-relay';

const warmDir = '/run/sysbox-runc-warm';
const idleMs = 10 * 60 * 1000;

interface Request {
  identity: string;
  cwd: string;
  umask: number;
  args: string[];
  env: string[];
  stdio: number[];
}

/**
 * What decides what a process may do and what it sees: its credentials, capabilities, seccomp
 * and no_new_privs state, namespaces, root directory and security label. A worker serves only a
 * launcher that has exactly its own: one confined more tightly (a root with fewer
 * capabilities, another mount namespace) runs its command in Node of its own.
 */
function standing(pid: number | 'self'): string {
  const proc = `/proc/${pid}`;
  const status = fs
    .readFileSync(`${proc}/status`, 'utf8')
    .split('\n')
    .filter((l) => /^(Uid|Gid|Groups|Cap\w+|NoNewPrivs|Seccomp):/.test(l));
  const namespaces = ['mnt', 'pid', 'net', 'user', 'cgroup', 'ipc', 'uts'].map((ns) =>
    fs.readlinkSync(`${proc}/ns/${ns}`),
  );
  const root = fs.statSync(`${proc}/root`);
  let label = '';
  try {
    label = fs.readFileSync(`${proc}/attr/current`, 'utf8');
  } catch {
    // No security module that labels processes.
  }
  return JSON.stringify([status, namespaces, `${root.dev}:${root.ino}`, label]);
}

/** What the launcher computes from the script it would run; see identity() in relay.c. */
function identityOf(script: string): string {
  const s = fs.statSync(script, { bigint: true });
  return `${s.dev}:${s.ino}:${s.mtimeNs}:${s.size}`;
}

function parseRequest(p: WarmPacket): Request | undefined {
  const f = p.fields;
  if (f[0] !== 'request' || f.length < 6 || p.fds.length !== 3) return undefined;
  const argc = Number(f[4]);
  const envc = Number(f[5 + argc]);
  if (!Number.isInteger(argc) || !Number.isInteger(envc) || 6 + argc + envc !== f.length) {
    return undefined;
  }
  return {
    identity: f[1],
    cwd: f[2],
    umask: Number(f[3]),
    args: f.slice(5, 5 + argc),
    env: f.slice(6 + argc),
    stdio: p.fds,
  };
}

function closeAll(fds: number[]): void {
  for (const fd of fds) fs.closeSync(fd);
}

/**
 * The listening socket, made under a lock so that workers started together make one; undefined
 * when another worker already listens.
 */
function listen(): number | undefined {
  fs.mkdirSync(warmDir, { recursive: true, mode: 0o700 });
  const dir = fs.lstatSync(warmDir);
  if (!dir.isDirectory() || dir.uid !== 0 || (dir.mode & 0o077) !== 0) {
    throw new Error(`${warmDir} must be a directory only root can enter`);
  }
  const lock = lockFile(path.join(warmDir, 'lock'));
  try {
    const socket = path.join(warmDir, 'socket');
    if (warmProbe(socket)) return undefined;
    fs.rmSync(socket, { force: true });
    return warmListen(socket);
  } finally {
    fs.closeSync(lock);
  }
}

function peerStanding(pid: number): string | undefined {
  try {
    return standing(pid);
  } catch {
    return undefined;
  }
}

/** Waits for a launcher like this worker that asks for a command. */
async function nextRequest(
  listener: number,
): Promise<{ conn: number; pidfd: number; request: Request }> {
  const own = standing('self');
  for (;;) {
    const p = await warmAccept(listener);
    const request = p.uid === 0 && p.pidfd >= 0 ? parseRequest(p) : undefined;
    if (request && peerStanding(p.pid) === own) return { conn: p.conn, pidfd: p.pidfd, request };
    // A probe, a hung-up launcher, a stranger, or a launcher confined otherwise than this
    // worker: it runs its command itself.
    if (request) warmSend(p.conn, ['elsewhere']);
    closeAll(p.pidfd >= 0 ? [...p.fds, p.pidfd] : p.fds);
    fs.closeSync(p.conn);
  }
}

/** The launcher forks for this worker, and reports when its children exit. */
function relayThrough(conn: number): void {
  const started: { resolve: (s: Spawned) => void; reject: (e: Error) => void }[] = [];
  const exits = new Map<number, (status: number) => void>();
  const read = async (): Promise<void> => {
    for (;;) {
      const p = await warmReceive(conn).catch(() => undefined);
      closeAll(p?.fds ?? []);
      const [kind, a, b] = p?.fields ?? [];
      if (kind === undefined) {
        // The launcher is gone, killed with its caller: so is the command it asked for.
        process.kill(process.pid, 'SIGKILL');
      } else if (kind === 'pid') {
        const pid = Number(a);
        const exited = new Promise<number>((resolve) => exits.set(pid, resolve));
        started.shift()?.resolve({ pid, exited });
      } else if (kind === 'failed') {
        started.shift()?.reject(new Error(`the launcher could not start a process: ${a}`));
      } else if (kind === 'exited') {
        exits.get(Number(a))?.(Number(b));
        exits.delete(Number(a));
      }
    }
  };
  void read();
  setProcessRelay({
    spawn(argv, fds) {
      return new Promise((resolve, reject) => {
        started.push({ resolve, reject });
        warmSend(conn, ['spawn', argv[0], String(argv.length), ...argv], fds);
      });
    },
  });
}

/** Becomes the process the launcher would have started, and reports its exit status. */
function becomeCaller(conn: number, r: Request, script: string): void {
  runNormally();
  r.stdio.forEach((fd, i) => {
    dupTo(fd, i);
    if (fd !== i) fs.closeSync(fd);
  });
  process.chdir(r.cwd);
  process.umask(r.umask);
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const entry of r.env) {
    const eq = entry.indexOf('=');
    if (eq > 0) process.env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  process.argv = [process.execPath, script, ...r.args];

  // Every way the command ends goes through process.exit (run.ts calls it with the status).
  process.exit = (code?: number | string | null): never => {
    const status = typeof code === 'number' ? code : Number(process.exitCode ?? 0);
    try {
      warmSend(conn, ['exit', String(status)]);
    } finally {
      exitNow(status);
    }
  };
  relayThrough(conn);
}

/**
 * Serves one command with `run`, then exits. `inherited` is the listening socket a previous
 * worker handed on, if any.
 */
export async function serveWarm(
  script: string,
  inherited: number | undefined,
  run: (argv: string[]) => Promise<number>,
): Promise<number> {
  const identity = identityOf(script);
  const listener = inherited ?? listen();
  if (listener === undefined) return 0;
  const idle = setTimeout(() => process.exit(0), idleMs);

  const { conn, pidfd, request } = await nextRequest(listener);
  clearTimeout(idle);
  if (request.identity !== identity) {
    // Built anew since this worker loaded it: step aside, and let the launcher start a new one.
    fs.closeSync(listener);
    warmSend(conn, ['stale']);
    return 0;
  }

  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  try {
    spawnDetached([process.execPath, '--no-lazy', script, '--warm-worker=3'], env, listener);
  } catch {
    // Then the next launcher finds no worker and starts one.
  }
  fs.closeSync(listener);
  warmSend(conn, ['ready']);
  const go = await warmReceive(conn).catch(() => undefined);
  if (go?.fields[0] !== 'go') return 0;

  dieWith(pidfd);
  becomeCaller(conn, request, script);
  return run(process.argv);
}
