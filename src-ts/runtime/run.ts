/**
 * `run`: create and start in one command. Without --detach it waits for the container's first
 * process and deletes the container when it exits. That process is forked by sysbox-init, not by
 * this one, so this command makes itself the subreaper that inherits it.
 */
import { setChildSubreaper, waitPid } from '../native';
import { createContainer, type CreateOptions } from './create';
import { deleteContainer, startContainer } from './lifecycle';

export interface RunOptions extends CreateOptions {
  detach: boolean;
}

/** Returns the exit status to leave with: 0 when detached, else the container's. */
export async function runContainer(o: RunOptions): Promise<number> {
  if (!o.detach) setChildSubreaper();
  const state = await createContainer(o);
  try {
    startContainer(o.root, o.id, o.log);
  } catch (err) {
    await deleteContainer(o.root, o.id, true, o.log);
    throw err;
  }
  if (o.detach) return 0;
  const status = await waitPid(state.pid);
  await deleteContainer(o.root, o.id, true, o.log);
  return status;
}
