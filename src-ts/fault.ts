/**
 * Fault injection for the reliability tests: with SYSBOX_TEST_KILL_AT naming a step, the
 * command kills itself with SIGKILL when it reaches that step, as a crash or an OOM kill
 * would, so that tests can check what the next command finds and cleans up.
 */
export function faultPoint(step: string): void {
  if (process.env.SYSBOX_TEST_KILL_AT === step) process.kill(process.pid, 'SIGKILL');
}
