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
  pidfdAlive,
  saveStdio,
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
}

/** A command this worker has taken: nothing of it has run yet. */
interface Taken {
  conn: number;
  /** The launcher's: this worker dies when it exits. */
  pidfd: number;
  request: Request;
  /** The launcher's standard streams. */
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
    .filter((l) => /^(Uid|Gid|Groups|Cap\w+|NoNewPrivs|Seccomp|Seccomp_filters):/.test(l));
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

function fileIdentity(file: string): string {
  const s = fs.statSync(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.ctimeNs}:${s.size}`;
}

/**
 * What this worker loaded: the Node binary it runs (through /proc/self/exe, which stays the
 * file that was started even if another replaced it), the bundled command line and the addon.
 * See identity() in src-c/relay.c, which computes the same for what it would start.
 */
function identityOf(script: string): string {
  const addon = path.join(path.dirname(script), '..', 'build', 'Release', 'sysbox.node');
  return ['/proc/self/exe', script, addon].map(fileIdentity).join('/');
}

function parseRequest(p: WarmPacket): Request | undefined {
  const f = p.fields;
  if (f[0] !== 'request' || f.length < 6 || p.fds.length !== 0) return undefined;
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
  };
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

function closeQuietly(fds: number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch {
      // Closed already.
    }
  }
}

/**
 * Looks at one connection: a launcher like this worker (see standing) asking for a command of
 * this build gets `ready`, and the command is taken when its `go` comes. Anything else is
 * answered if it can be and closed; `stale` tells the caller to step aside.
 */
async function consider(
  p: WarmPacket,
  own: string,
  identity: string,
): Promise<Taken | 'stale' | undefined> {
  const close = (): undefined => {
    closeQuietly([p.conn, ...p.fds, ...(p.pidfd >= 0 ? [p.pidfd] : [])]);
    return undefined;
  };
  try {
    const request = p.uid === 0 && p.pidfd >= 0 ? parseRequest(p) : undefined;
    // A probe, a hung-up launcher or a stranger.
    if (!request) return close();
    // What was read of the peer is the launcher's only if it is still there: its pid is
    // then not another process's.
    if (peerStanding(p.pid) !== own || !pidfdAlive(p.pidfd)) {
      warmSend(p.conn, ['elsewhere']);
      return close();
    }
    if (request.identity !== identity) return 'stale';
    warmSend(p.conn, ['ready']);
    const go = await warmReceive(p.conn);
    if (go.fields[0] !== 'go' || go.fds.length !== 3) {
      closeQuietly(go.fds);
      return close();
    }
    return { conn: p.conn, pidfd: p.pidfd, request, stdio: go.fds };
  } catch {
    return close();
  }
}

/** The launcher forks for this worker, and reports when its children exit. */
function relayThrough(conn: number): void {
  const started: { resolve: (s: Spawned) => void; reject: (e: Error) => void }[] = [];
  const exits = new Map<number, (status: number) => void>();
  const read = async (): Promise<void> => {
    for (;;) {
      const p = await warmReceive(conn).catch(() => undefined);
      closeQuietly(p?.fds ?? []);
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
        warmSend(conn, ['spawn', argv[0], String(argv.length), ...argv], fds);
        started.push({ resolve, reject });
      });
    },
  });
}

/** Becomes the process the launcher would have started, and reports its exit status. */
function becomeCaller(taken: Taken, script: string): void {
  const { conn, request: r } = taken;
  runNormally();
  taken.stdio.forEach((fd, i) => {
    dupTo(fd, i);
    if (fd !== i) fs.closeSync(fd);
  });
  saveStdio();
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
  // Node's own ending of an uncaught error would wait for the thread that reads the launcher's
  // socket; this one reports, as Node does, and exits with Node's status for it.
  const fatal = (err: unknown): void => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
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
  const own = standing('self');
  // Node's exit would wait for the thread blocked in accept.
  const idle = setTimeout(() => exitNow(0), idleMs);

  let taken: Taken | 'stale' | undefined;
  while (taken === undefined) {
    const p = await warmAccept(listener).catch(() => undefined);
    // Out of fds, say: wait rather than spin, and keep the socket for better times.
    if (p === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    else taken = await consider(p, own, identity);
  }
  clearTimeout(idle);
  if (taken === 'stale') {
    // Built anew since this worker loaded it: step aside, and let the launcher start a new one.
    fs.closeSync(listener);
    exitNow(0);
  }

  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  try {
    spawnDetached([process.execPath, '--no-lazy', script, '--warm-worker=3'], env, listener);
  } catch {
    // Then the next launcher finds no worker and starts one.
  }
  fs.closeSync(listener);
  dieWith(taken.pidfd);
  becomeCaller(taken, script);
  return run(process.argv);
}
