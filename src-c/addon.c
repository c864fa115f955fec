/* The Node-API addon: the host-side kernel primitives that TypeScript cannot reach.
 *
 * Everything here runs on the JavaScript thread and returns quickly: making a user namespace
 * costs one short-lived child, and an ID-mapped mount is two syscalls.  Failures throw an Error
 * whose `code` is the errno name and whose message names the operation and the path.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addon.h"
#include "common/kernel.h"
#include "treehash.h"

void
throw_last_napi_error (napi_env env)
{
  const napi_extended_error_info *info = NULL;
  bool pending = false;

  napi_get_last_error_info (env, &info);
  napi_is_exception_pending (env, &pending);
  if (! pending)
    napi_throw_error (env, "ENAPI", info && info->error_message ? info->error_message
                                                              : "node-api call failed");
}

napi_value
throw_errno (napi_env env, int err, const char *what, const char *path)
{
  char msg[1024];
  const char *code = strerrorname_np (err);

  if (path)
    snprintf (msg, sizeof msg, "%s `%s`: %s", what, path, strerror (err));
  else
    snprintf (msg, sizeof msg, "%s: %s", what, strerror (err));
  napi_throw_error (env, code ? code : "EUNKNOWN", msg);
  return NULL;
}

/* Rejects an async call's promise the way throw_errno throws: code from errno, message given.  */
void
reject_errno (napi_env env, napi_deferred deferred, int err, const char *message)
{
  napi_value code, msg, error;
  const char *name = err > 0 ? strerrorname_np (err) : NULL;

  napi_create_string_utf8 (env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8 (env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error (env, code, msg, &error);
  napi_reject_deferred (env, deferred, error);
}

/* Makes the promise of an async call and queues its work on Node's thread pool.  */
napi_value
queue_work (napi_env env, const char *label, napi_async_execute_callback execute,
            napi_async_complete_callback complete, void *data, napi_async_work *work,
            napi_deferred *deferred)
{
  napi_value promise, name;

  NAPI_CALL (env, napi_create_promise (env, deferred, &promise));
  NAPI_CALL (env, napi_create_string_utf8 (env, label, NAPI_AUTO_LENGTH, &name));
  NAPI_CALL (env, napi_create_async_work (env, NULL, name, execute, complete, data, work));
  NAPI_CALL (env, napi_queue_async_work (env, *work));
  return promise;
}

/* Copies a JavaScript string argument into a malloc'd buffer; the caller frees it.  */
char *
get_string (napi_env env, napi_value value, const char *name)
{
  size_t len = 0;
  char *buf;
  char msg[128];

  if (napi_get_value_string_utf8 (env, value, NULL, 0, &len) != napi_ok || len > MAX_STRING)
    {
      snprintf (msg, sizeof msg, "%s must be a string of at most %d bytes", name, MAX_STRING);
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", msg);
      return NULL;
    }

  buf = malloc (len + 1);
  if (buf == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }

  napi_get_value_string_utf8 (env, value, buf, len + 1, &len);
  return buf;
}

static int
write_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t len = (ssize_t) strlen (data);
  int saved;

  if (fd < 0)
    return -1;

  if (write (fd, data, len) != len)
    {
      saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }

  return close (fd);
}

/* The child that holds a new user namespace while its maps are written: it shares this
 * process's memory (copying a Node process's page tables would cost more than the rest of the
 * work), so it makes only raw system calls and leaves the heap alone, and exits once the parent
 * closes the pipe.  A failed call would set the errno it shares with the parent's thread; its
 * close cannot fail and its read fails only with EINTR, with every signal blocked.  */
static int
hold_userns (void *arg)
{
  int *pipefd = arg;
  char byte;

  syscall (SYS_close, pipefd[1]);
  while (syscall (SYS_read, pipefd[0], &byte, 1) < 0)
    ;
  syscall (SYS_exit, 0);
  return 0;
}

/* Makes a user namespace with the given maps and returns an fd that keeps it alive.
 *
 * The namespace needs a process to exist in while its maps are written, so a child is cloned
 * straight into it.  */
static int
make_userns (const char *uid_map, const char *gid_map, const char **failed_step)
{
  char path[64];
  int pipefd[2];
  int nsfd = -1;
  int saved = 0;
  pid_t pid;
  /* The child's stack, in this frame, which outlives it; it reads one byte.  */
  char stack[16384] __attribute__ ((aligned (16)));
  sigset_t all, saved_mask;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      *failed_step = "pipe";
      return -1;
    }

  /* With every signal blocked, no handler of Node's can run on the child's borrowed memory.  */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &saved_mask);
  pid = clone (hold_userns, stack + sizeof stack, CLONE_VM | CLONE_NEWUSER | SIGCHLD, pipefd);
  saved = pid < 0 ? errno : 0;
  pthread_sigmask (SIG_SETMASK, &saved_mask, NULL);
  if (pid < 0)
    {
      *failed_step = "clone a user namespace";
      goto out;
    }

  snprintf (path, sizeof path, "/proc/%d/uid_map", pid);
  if (write_file (path, uid_map) < 0)
    {
      saved = errno;
      *failed_step = "write uid_map";
      goto out;
    }

  snprintf (path, sizeof path, "/proc/%d/gid_map", pid);
  if (write_file (path, gid_map) < 0)
    {
      saved = errno;
      *failed_step = "write gid_map";
      goto out;
    }

  snprintf (path, sizeof path, "/proc/%d/ns/user", pid);
  nsfd = open (path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    {
      saved = errno;
      *failed_step = "open the user namespace";
    }

out:
  close (pipefd[0]);
  close (pipefd[1]);
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
  errno = saved;
  return nsfd;
}

static napi_value
create_userns (napi_env env, napi_callback_info info)
{
  napi_value argv[2], result;
  size_t argc = 2;
  const char *failed_step = NULL;
  char *uid_map = NULL, *gid_map = NULL;
  int fd;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  uid_map = get_string (env, argv[0], "uidMap");
  if (uid_map == NULL)
    return NULL;

  gid_map = get_string (env, argv[1], "gidMap");
  if (gid_map == NULL)
    {
      free (uid_map);
      return NULL;
    }

  fd = make_userns (uid_map, gid_map, &failed_step);
  free (uid_map);
  free (gid_map);
  if (fd < 0)
    return throw_errno (env, errno, failed_step, NULL);

  NAPI_CALL (env, napi_create_int32 (env, fd, &result));
  return result;
}

/* Clones the mount at `path` into a detached mount, ID-mapped through the user namespace behind
 * `userns_fd` unless that is -1, and returns its fd.  The container attaches it with
 * move_mount(2); made here, as host root, the clone needs no permission on the path that the
 * container's root lacks.  */
static napi_value
open_idmapped_tree (napi_env env, napi_callback_info info)
{
  napi_value argv[4], result;
  size_t argc = 4;
  struct sb_mount_attr attr = { 0 };
  unsigned int flags = SB_OPEN_TREE_CLONE | SB_OPEN_TREE_CLOEXEC;
  bool readonly = false;
  int32_t userns_fd;
  bool recursive = false;
  char *path;
  int fd, saved;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;

  if (napi_get_value_int32 (env, argv[1], &userns_fd) != napi_ok
      || napi_get_value_bool (env, argv[2], &recursive) != napi_ok
      || (argc > 3 && napi_get_value_bool (env, argv[3], &readonly) != napi_ok))
    {
      free (path);
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE",
                             "usernsFd and recursive are required, readonly is a boolean");
      return NULL;
    }

  if (recursive)
    flags |= SB_AT_RECURSIVE;

  fd = sb_open_tree (AT_FDCWD, path, flags);
  if (fd < 0)
    {
      saved = errno;
      throw_errno (env, saved, "open_tree", path);
      free (path);
      return NULL;
    }

  /* nodev: an image or a bind source may hold device nodes, and only the devices the config
   * lists, bound in /dev, are the container's to open.  private: a clone of a shared host mount
   * would otherwise carry the container's mounts back to the host.  */
  attr.attr_set = SB_MOUNT_ATTR_NODEV | (userns_fd >= 0 ? SB_MOUNT_ATTR_IDMAP : 0)
                  | (readonly ? SB_MOUNT_ATTR_RDONLY : 0);
  attr.propagation = SB_MS_PRIVATE;
  attr.userns_fd = userns_fd >= 0 ? (uint64_t) userns_fd : 0;
  if (sb_mount_setattr (fd, "", SB_AT_EMPTY_PATH | (recursive ? SB_AT_RECURSIVE : 0), &attr) < 0)
    {
      saved = errno;
      close (fd);
      throw_errno (env, saved, userns_fd >= 0 ? "id-map the mount of" : "set up the mount of",
                   path);
      free (path);
      return NULL;
    }

  free (path);
  NAPI_CALL (env, napi_create_int32 (env, fd, &result));
  return result;
}

/* Makes the fifo that a created container's first process waits on, owned by that container's
 * root so that it can still open it after leaving the host's user namespace.  */
static napi_value
make_fifo (napi_env env, napi_callback_info info)
{
  napi_value argv[3];
  size_t argc = 3;
  int32_t uid, gid;
  char *path;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;

  if (napi_get_value_int32 (env, argv[1], &uid) != napi_ok
      || napi_get_value_int32 (env, argv[2], &gid) != napi_ok)
    {
      free (path);
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "uid and gid must be integers");
      return NULL;
    }

  if (mkfifo (path, 0600) < 0 || chown (path, (uid_t) uid, (gid_t) gid) < 0)
    {
      throw_errno (env, errno, "create the fifo", path);
      free (path);
      return NULL;
    }

  free (path);
  return NULL;
}

/* Detaches the mount at `path`, if there is one, as `umount --lazy`: what still uses it keeps
 * it until done.  Not following a final symlink: the path is the runtime's own.  */
static napi_value
unmount_lazy (napi_env env, napi_callback_info info)
{
  napi_value argv[1];
  size_t argc = 1;
  char *path;
  int err = 0;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;
  if (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
    err = errno;
  if (err != 0)
    throw_errno (env, err, "unmount", path);
  free (path);
  return NULL;
}

/* Makes this process the reaper of orphaned descendants, so that `run` can wait for a
 * container's init after the process that forked it has exited.  */
static napi_value
set_child_subreaper (napi_env env, napi_callback_info info)
{
  if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return throw_errno (env, errno, "become a child subreaper", NULL);
  return NULL;
}

struct wait_work
{
  napi_async_work work;
  napi_deferred deferred;
  pid_t pid;
  int status;
  int err;
};

/* Runs on a worker thread: waitpid blocks, and the JavaScript thread must not.  */
static void
wait_execute (napi_env env, void *data)
{
  struct wait_work *w = data;

  while (waitpid (w->pid, &w->status, 0) < 0)
    if (errno != EINTR)
      {
        w->err = errno;
        return;
      }
}

static void
wait_complete (napi_env env, napi_status status, void *data)
{
  struct wait_work *w = data;
  napi_value result;
  int exit_code;

  if (w->err != 0 || status != napi_ok)
    reject_errno (env, w->deferred, w->err, w->err ? strerror (w->err) : "wait cancelled");
  else
    {
      exit_code = WIFSIGNALED (w->status) ? 128 + WTERMSIG (w->status) : WEXITSTATUS (w->status);
      napi_create_int32 (env, exit_code, &result);
      napi_resolve_deferred (env, w->deferred, result);
    }

  napi_delete_async_work (env, w->work);
  free (w);
}

/* Resolves with the exit status of a child (128 + signal if killed), as a shell reports it.  */
static napi_value
wait_pid (napi_env env, napi_callback_info info)
{
  napi_value argv[1];
  size_t argc = 1;
  struct wait_work *w;
  int32_t pid;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32 (env, argv[0], &pid) != napi_ok || pid <= 0)
    {
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "pid must be a positive integer");
      return NULL;
    }

  w = calloc (1, sizeof *w);
  if (w == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }

  w->pid = pid;
  return queue_work (env, "sysbox-wait", wait_execute, wait_complete, w, &w->work, &w->deferred);
}

/* Opens (making it if needed) and exclusively locks a file; closing the fd releases the lock.
 * Waits for another holder: the critical sections it guards are a few file operations.  */
static napi_value
lock_file (napi_env env, napi_callback_info info)
{
  napi_value argv[1], result;
  size_t argc = 1;
  char *path;
  int fd, saved;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;

  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      throw_errno (env, errno, "open the lock file", path);
      free (path);
      return NULL;
    }

  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        saved = errno;
        close (fd);
        throw_errno (env, saved, "lock", path);
        free (path);
        return NULL;
      }

  free (path);
  NAPI_CALL (env, napi_create_int32 (env, fd, &result));
  return result;
}

struct lock_work
{
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  int fd;
  int err;
  const char *what;
};

static void
lock_execute (napi_env env, void *data)
{
  struct lock_work *w = data;

  w->fd = open (w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w->fd < 0)
    {
      w->err = errno;
      w->what = "open the lock file";
      return;
    }
  while (flock (w->fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        w->err = errno;
        w->what = "lock";
        close (w->fd);
        w->fd = -1;
        return;
      }
}

static void
lock_complete (napi_env env, napi_status status, void *data)
{
  struct lock_work *w = data;
  napi_value result;

  if (w->fd >= 0 && status == napi_ok)
    {
      napi_create_int32 (env, w->fd, &result);
      napi_resolve_deferred (env, w->deferred, result);
    }
  else
    {
      char text[PATH_MAX + 128];

      if (w->fd >= 0)
        close (w->fd);
      snprintf (text, sizeof text, "%s `%s`: %s", w->what ? w->what : "lock", w->path,
                strerror (w->err));
      reject_errno (env, w->deferred, w->err, text);
    }

  napi_delete_async_work (env, w->work);
  free (w->path);
  free (w);
}

/* As lockFile, but waits on a worker thread: a process that builds several things at once must
 * not stop them all while another process holds the lock of one.  */
static napi_value
lock_file_async (napi_env env, napi_callback_info info)
{
  napi_value argv[1];
  size_t argc = 1;
  struct lock_work *w;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  w = calloc (1, sizeof *w);
  if (w == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }
  w->path = get_string (env, argv[0], "path");
  if (w->path == NULL)
    {
      free (w);
      return NULL;
    }

  return queue_work (env, "sysbox-lock", lock_execute, lock_complete, w, &w->work, &w->deferred);
}

/* Extended attributes of a path, not following a final symlink: Node has no API for them, and
 * the commit capture must carry them (and translate overlay's markers).  */
static napi_value
list_xattrs (napi_env env, napi_callback_info info)
{
  napi_value argv[1], result, name;
  size_t argc = 1;
  ssize_t len;
  char *path, *buf = NULL;
  uint32_t n = 0;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;

  len = llistxattr (path, NULL, 0);
  if (len > 0)
    {
      buf = malloc ((size_t) len);
      if (buf != NULL)
        len = llistxattr (path, buf, (size_t) len);
    }
  if (len < 0 || (len > 0 && buf == NULL))
    {
      throw_errno (env, buf == NULL && len > 0 ? ENOMEM : errno, "list the xattrs of", path);
      free (buf);
      free (path);
      return NULL;
    }

  NAPI_CALL (env, napi_create_array (env, &result));
  for (ssize_t i = 0; i < len; i += (ssize_t) strlen (buf + i) + 1)
    {
      napi_create_string_utf8 (env, buf + i, NAPI_AUTO_LENGTH, &name);
      napi_set_element (env, result, n++, name);
    }

  free (buf);
  free (path);
  return result;
}

static napi_value
get_xattr (napi_env env, napi_callback_info info)
{
  napi_value argv[2], result;
  size_t argc = 2;
  char *path, *name, buf[65536];
  void *data;
  ssize_t len;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;
  name = get_string (env, argv[1], "name");
  if (name == NULL)
    {
      free (path);
      return NULL;
    }

  len = lgetxattr (path, name, buf, sizeof buf);
  if (len < 0)
    {
      throw_errno (env, errno, name, path);
      free (path);
      free (name);
      return NULL;
    }

  free (path);
  free (name);
  NAPI_CALL (env, napi_create_buffer_copy (env, (size_t) len, buf, &data, &result));
  return result;
}

static napi_value
set_xattr (napi_env env, napi_callback_info info)
{
  napi_value argv[3];
  size_t argc = 3, len = 0;
  void *data = NULL;
  char *path, *name;
  bool is_buffer = false;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  if (napi_is_buffer (env, argv[2], &is_buffer) != napi_ok || ! is_buffer)
    {
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "value must be a Buffer");
      return NULL;
    }
  NAPI_CALL (env, napi_get_buffer_info (env, argv[2], &data, &len));
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;
  name = get_string (env, argv[1], "name");
  if (name == NULL)
    {
      free (path);
      return NULL;
    }

  if (lsetxattr (path, name, data, len, 0) < 0)
    throw_errno (env, errno, name, path);

  free (path);
  free (name);
  return NULL;
}

/* mknod for the nodes Node cannot make: overlay whiteouts (0:0 character devices) and sockets,
 * which the commit capture records and a later first start restores.  */
static napi_value
make_node (napi_env env, napi_callback_info info)
{
  napi_value argv[3];
  size_t argc = 3;
  uint32_t mode, dev;
  char *path;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  if (napi_get_value_uint32 (env, argv[1], &mode) != napi_ok
      || napi_get_value_uint32 (env, argv[2], &dev) != napi_ok)
    {
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "mode and dev must be integers");
      return NULL;
    }
  path = get_string (env, argv[0], "path");
  if (path == NULL)
    return NULL;

  if (mknod (path, (mode_t) mode, (dev_t) dev) < 0)
    throw_errno (env, errno, "make the node", path);

  free (path);
  return NULL;
}

struct hash_work
{
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  unsigned char digest[TREE_HASH_SIZE];
  int rc;
  char err[512];
};

static void
hash_execute (napi_env env, void *data)
{
  struct hash_work *w = data;

  w->rc = tree_hash (w->path, w->digest, w->err, sizeof w->err);
}

static void
hash_complete (napi_env env, napi_status status, void *data)
{
  struct hash_work *w = data;
  napi_value result;

  if (w->rc < 0 || status != napi_ok)
    reject_errno (env, w->deferred, -w->rc, w->rc < 0 ? w->err : "hash cancelled");
  else
    {
      char hex[2 * TREE_HASH_SIZE + 1];

      for (int i = 0; i < TREE_HASH_SIZE; i++)
        snprintf (hex + 2 * i, 3, "%02x", w->digest[i]);
      napi_create_string_utf8 (env, hex, NAPI_AUTO_LENGTH, &result);
      napi_resolve_deferred (env, w->deferred, result);
    }

  napi_delete_async_work (env, w->work);
  free (w->path);
  free (w);
}

/* Resolves with the hex SHA-256 of a directory tree (see treehash.c), computed on a worker
 * thread: a tree of preloaded inner images holds hundreds of megabytes.  */
static napi_value
hash_tree (napi_env env, napi_callback_info info)
{
  napi_value argv[1];
  size_t argc = 1;
  struct hash_work *w;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  w = calloc (1, sizeof *w);
  if (w == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }
  w->path = get_string (env, argv[0], "path");
  if (w->path == NULL)
    {
      free (w);
      return NULL;
    }

  return queue_work (env, "sysbox-hash", hash_execute, hash_complete, w, &w->work, &w->deferred);
}

static napi_value
init (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    { "makeNode", NULL, make_node, NULL, NULL, NULL, napi_enumerable, NULL },
    { "listXattrs", NULL, list_xattrs, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getXattr", NULL, get_xattr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setXattr", NULL, set_xattr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lockFile", NULL, lock_file, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lockFileAsync", NULL, lock_file_async, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL },
    { "waitPid", NULL, wait_pid, NULL, NULL, NULL, napi_enumerable, NULL },
    { "makeFifo", NULL, make_fifo, NULL, NULL, NULL, napi_enumerable, NULL },
    { "createUserns", NULL, create_userns, NULL, NULL, NULL, napi_enumerable, NULL },
    { "openIdmappedTree", NULL, open_idmapped_tree, NULL, NULL, NULL, napi_enumerable, NULL },
    { "hashTree", NULL, hash_tree, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unmountLazy", NULL, unmount_lazy, NULL, NULL, NULL, napi_enumerable, NULL },
  };

  NAPI_CALL (env, napi_define_properties (env, exports, sizeof props / sizeof props[0], props));
  return define_warm_functions (env, exports);
}

NAPI_MODULE_INIT () { return init (env, exports); }
