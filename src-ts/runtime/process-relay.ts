/**
 * Who forks the runtime's child processes. Normally this process; in a warm worker, the
 * launcher that handed it the command, because the container's processes must descend from the
 * caller: containerd's shim is their subreaper and learns of their exits by reaping them.
 */

/** A started process and its exit status (128 + signal when killed). */
export interface Spawned {
  pid: number;
  exited: Promise<number>;
}

export interface ProcessRelay {
  /**
   * Starts `argv` (an absolute path first) with an empty environment, the caller's standard
   * streams, and `fds` as fds 3, 4, ...
   */
  spawn(argv: string[], fds: number[]): Promise<Spawned>;
}

let relay: ProcessRelay | undefined;

/** Set once, by a warm worker as it takes its command. */
export function setProcessRelay(r: ProcessRelay): void {
  relay = r;
}

export function processRelay(): ProcessRelay | undefined {
  return relay;
}
