/**
 * sysbox as a library: the operations the sysbox-runc command runs, for programs to call.
 * `Runtime` and `Container` are the front; the functions below them are what they call.
 */
export { Runtime, Container, type RuntimeOptions, type ContainerInfo } from './library';
export { SysboxError, type SysboxErrorCode } from './errors';
export { Logger, silentLogger, type LogLevel, type LogFormat } from './log';
export { loadRuntimeConfig, defaultConfigFile, type RuntimeConfig } from './config';
export { createContainer, type CreateOptions } from './runtime/create';
export { execProcess, type ExecOptions } from './runtime/exec';
export {
  startContainer,
  killContainer,
  deleteContainer,
  containerState,
  containerPids,
  listContainers,
  parseSignal,
} from './runtime/lifecycle';
export {
  pauseContainer,
  resumeContainer,
  updateContainer,
  containerStats,
} from './runtime/control';
export { defaultSpec, features } from './runtime/describe';
export { defaultRoot, type ContainerState, type Status } from './runtime/state';
export type { Spec, Process, Resources } from './runtime/spec';
