/* The worker's side of a warm worker's socket (see common/warm.h), for src-ts/cli/warm.ts:
 * Node's net module speaks neither SOCK_SEQPACKET nor SCM_RIGHTS.  Waiting happens on the
 * thread pool; sending, which a packet's size keeps from blocking, on the JavaScript thread.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "addon.h"
#include "common/kernel.h"
#include "common/warm.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define MAX_FIELDS 4096

/* The nice value a worker waits at.  */
#define WORKER_NICE 10

static int
socket_address (napi_env env, napi_value value, struct sockaddr_un *addr)
{
  char *path = get_string (env, value, "path");

  if (path == NULL)
    return 0;
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (strlen (path) >= sizeof addr->sun_path)
    {
      throw_errno (env, ENAMETOOLONG, "socket path", path);
      free (path);
      return 0;
    }
  strcpy (addr->sun_path, path);
  free (path);
  return 1;
}

/* The one argument of a call as an fd; throws a TypeError naming `name` if it is not one.  */
static int
fd_argument (napi_env env, napi_callback_info info, const char *name, int32_t *fd)
{
  napi_value argv[1];
  size_t argc = 1;
  char msg[64];

  if (napi_get_cb_info (env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1
      && napi_get_value_int32 (env, argv[0], fd) == napi_ok && *fd >= 0)
    return 1;
  snprintf (msg, sizeof msg, "%s must be an open fd", name);
  napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

/* A new SOCK_SEQPACKET socket with `flags`, and the address of the call's `path` argument;
 * -1 after throwing.  */
static int
path_socket (napi_env env, napi_callback_info info, int flags, struct sockaddr_un *addr)
{
  napi_value argv[1];
  size_t argc = 1;
  int fd;

  if (napi_get_cb_info (env, info, &argc, argv, NULL, NULL) != napi_ok)
    {
      throw_last_napi_error (env);
      return -1;
    }
  if (! socket_address (env, argv[0], addr))
    return -1;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);
  if (fd < 0)
    throw_errno (env, errno, "make a socket", NULL);
  return fd;
}

/* Binds and listens on a new socket at `path`, which must not exist.  */
static napi_value
warm_listen (napi_env env, napi_callback_info info)
{
  napi_value result;
  struct sockaddr_un addr;
  int fd = path_socket (env, info, 0, &addr), err;

  if (fd < 0)
    return NULL;

  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 64) < 0)
    {
      err = errno;
      close (fd);
      return throw_errno (env, err, "listen on", addr.sun_path);
    }

  NAPI_CALL (env, napi_create_int32 (env, fd, &result));
  return result;
}

/* Whether something accepts connections at `path`.  */
static napi_value
warm_probe (napi_env env, napi_callback_info info)
{
  napi_value result;
  struct sockaddr_un addr;
  /* Not waiting: a full backlog also means something listens.  */
  int fd = path_socket (env, info, SOCK_NONBLOCK, &addr), ok;

  if (fd < 0)
    return NULL;
  ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0 || errno == EAGAIN;
  close (fd);

  NAPI_CALL (env, napi_get_boolean (env, ok, &result));
  return result;
}

struct recv_work
{
  napi_async_work work;
  napi_deferred deferred;
  int listener; /* -1 to read from `conn` */
  int conn;
  int uid;
  int pid;
  int pidfd;
  int count;
  int err;
  char *fields[MAX_FIELDS];
  struct warm_packet packet;
};

static void
recv_execute (napi_env env, void *data)
{
  struct recv_work *w = data;

  if (w->listener >= 0)
    {
      struct ucred cred;
      socklen_t len = sizeof cred;
      struct timeval limit = { .tv_sec = 1 };

      do
        w->conn = accept4 (w->listener, NULL, NULL, SOCK_CLOEXEC);
      while (w->conn < 0 && errno == EINTR);
      if (w->conn < 0)
        {
          w->err = errno;
          return;
        }
      if (getsockopt (w->conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        {
          socklen_t fdlen = sizeof w->pidfd;

          w->uid = (int) cred.uid;
          w->pid = (int) cred.pid;
          /* The peer's own pidfd, where the kernel gives one (6.5 on); else one taken by pid,
           * which the caller checks against what it read of the peer.  */
          if (getsockopt (w->conn, SOL_SOCKET, SO_PEERPIDFD, &w->pidfd, &fdlen) < 0)
            w->pidfd = (int) syscall (SYS_pidfd_open, cred.pid, 0);
        }
      /* A launcher sends its request as it connects; one that does not is not a launcher.  */
      setsockopt (w->conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }

  w->count = warm_recv (w->conn, &w->packet, w->fields, MAX_FIELDS);
  /* A connection that sent nothing in time has nothing to serve; the listener goes on.  */
  if (w->count < 0 && w->listener >= 0 && (errno == EAGAIN || errno == ECONNRESET))
    w->count = 0;
  else if (w->count < 0)
    w->err = errno;
  if (w->listener >= 0)
    {
      /* The rest of the conversation waits as long as the command runs.  */
      struct timeval forever = { .tv_sec = 0 };

      setsockopt (w->conn, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever);
    }
}

static napi_value
strings_array (napi_env env, char **items, int count)
{
  napi_value array, item;

  NAPI_CALL (env, napi_create_array_with_length (env, (size_t) count, &array));
  for (int i = 0; i < count; i++)
    {
      NAPI_CALL (env, napi_create_string_utf8 (env, items[i], NAPI_AUTO_LENGTH, &item));
      NAPI_CALL (env, napi_set_element (env, array, (uint32_t) i, item));
    }
  return array;
}

/* { conn, uid, pid, pidfd, fields, fds }, where fields is empty at end of stream.  */
static napi_value
packet_object (napi_env env, struct recv_work *w)
{
  napi_value object, value, fds;

  NAPI_CALL (env, napi_create_object (env, &object));
  NAPI_CALL (env, napi_create_int32 (env, w->conn, &value));
  NAPI_CALL (env, napi_set_named_property (env, object, "conn", value));
  NAPI_CALL (env, napi_create_int32 (env, w->uid, &value));
  NAPI_CALL (env, napi_set_named_property (env, object, "uid", value));
  NAPI_CALL (env, napi_create_int32 (env, w->pid, &value));
  NAPI_CALL (env, napi_set_named_property (env, object, "pid", value));
  NAPI_CALL (env, napi_create_int32 (env, w->pidfd, &value));
  NAPI_CALL (env, napi_set_named_property (env, object, "pidfd", value));
  value = strings_array (env, w->fields, w->count > 0 ? w->count : 0);
  if (value == NULL)
    return NULL;
  NAPI_CALL (env, napi_set_named_property (env, object, "fields", value));
  NAPI_CALL (env, napi_create_array_with_length (env, (size_t) w->packet.nfds, &fds));
  for (int i = 0; i < w->packet.nfds; i++)
    {
      NAPI_CALL (env, napi_create_int32 (env, w->packet.fds[i], &value));
      NAPI_CALL (env, napi_set_element (env, fds, (uint32_t) i, value));
    }
  NAPI_CALL (env, napi_set_named_property (env, object, "fds", fds));
  return object;
}

static void
recv_complete (napi_env env, napi_status status, void *data)
{
  struct recv_work *w = data;
  napi_value result = NULL;

  if (w->err == 0 && status == napi_ok)
    result = packet_object (env, w);
  if (result != NULL)
    napi_resolve_deferred (env, w->deferred, result);
  else
    {
      warm_close_fds (&w->packet);
      if (w->listener >= 0 && w->conn >= 0)
        close (w->conn);
      if (w->pidfd >= 0)
        close (w->pidfd);
      reject_errno (env, w->deferred, w->err, w->err ? strerror (w->err) : "receive cancelled");
    }

  napi_delete_async_work (env, w->work);
  free (w);
}

static napi_value
queue_recv (napi_env env, napi_callback_info info, int accepting)
{
  struct recv_work *w;
  int32_t fd;

  if (! fd_argument (env, info, "fd", &fd))
    return NULL;

  w = calloc (1, sizeof *w);
  if (w == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }
  w->listener = accepting ? fd : -1;
  w->conn = accepting ? -1 : fd;
  w->uid = -1;
  w->pidfd = -1;
  return queue_work (env, "sysbox-warm", recv_execute, recv_complete, w, &w->work,
                     &w->deferred);
}

/* Accepts one connection and reads its first packet.  */
static napi_value
warm_accept (napi_env env, napi_callback_info info)
{
  return queue_recv (env, info, 1);
}

/* Reads the next packet of a connection.  */
static napi_value
warm_receive (napi_env env, napi_callback_info info)
{
  return queue_recv (env, info, 0);
}

/* Copies a JavaScript array of strings (or of int32s, into `numbers`) into fields of `p`.  */
static int
take_array (napi_env env, napi_value array, struct warm_packet *p, int *numbers, int max)
{
  uint32_t n = 0;

  if (napi_get_array_length (env, array, &n) != napi_ok || n > (uint32_t) max)
    return 0;
  for (uint32_t i = 0; i < n; i++)
    {
      napi_value item;
      char *text;
      int32_t number;

      if (napi_get_element (env, array, i, &item) != napi_ok)
        return 0;
      if (numbers != NULL)
        {
          if (napi_get_value_int32 (env, item, &number) != napi_ok || number < 0)
            return 0;
          numbers[i] = number;
          continue;
        }
      text = get_string (env, item, "field");
      if (text == NULL || ! warm_add_field (p, text))
        {
          free (text);
          return 0;
        }
      free (text);
    }
  if (numbers != NULL)
    p->nfds = (int) n;
  return 1;
}

/* Sends one packet of `fields` carrying `fds`.  */
static napi_value
warm_send_packet (napi_env env, napi_callback_info info)
{
  napi_value argv[3];
  size_t argc = 3;
  struct warm_packet *p;
  int32_t conn;
  int ok;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  p = calloc (1, sizeof *p);
  if (p == NULL)
    {
      napi_throw_error (env, "ENOMEM", "out of memory");
      return NULL;
    }
  ok = argc == 3 && napi_get_value_int32 (env, argv[0], &conn) == napi_ok
       && take_array (env, argv[1], p, NULL, MAX_FIELDS)
       && take_array (env, argv[2], p, p->fds, WARM_MAX_FDS);
  if (! ok)
    {
      free (p);
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "a packet is (fd, strings, fds)");
      return NULL;
    }

  ok = warm_send (conn, p);
  free (p);
  if (! ok)
    return throw_errno (env, errno, "send to the launcher", NULL);
  return NULL;
}

/* A connected pair of stream sockets, both close-on-exec.  */
static napi_value
socket_pair (napi_env env, napi_callback_info info)
{
  napi_value result, value;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return throw_errno (env, errno, "make a socket pair", NULL);

  NAPI_CALL (env, napi_create_array_with_length (env, 2, &result));
  for (uint32_t i = 0; i < 2; i++)
    {
      NAPI_CALL (env, napi_create_int32 (env, fds[i], &value));
      NAPI_CALL (env, napi_set_element (env, result, i, value));
    }
  return result;
}

/* dup2: a worker makes its launcher's standard streams its own.  */
static napi_value
dup_to (napi_env env, napi_callback_info info)
{
  napi_value argv[2];
  size_t argc = 2;
  int32_t from, to;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32 (env, argv[0], &from) != napi_ok
      || napi_get_value_int32 (env, argv[1], &to) != napi_ok)
    {
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "dupTo takes two fds");
      return NULL;
    }
  if (dup2 (from, to) < 0)
    return throw_errno (env, errno, "duplicate a file descriptor", NULL);
  return NULL;
}

/* Points `out` at the strings of a JavaScript array, kept in `storage`; NULL-terminated.  */
static int
string_list (napi_env env, napi_value array, struct warm_packet *storage, char **out, int max)
{
  int n = 0;

  if (! take_array (env, array, storage, NULL, max - 1))
    return 0;
  for (size_t off = 0; off < storage->len; off += strlen (storage->data + off) + 1)
    out[n++] = storage->data + off;
  out[n] = NULL;
  return 1;
}

/* Starts `argv` in a session of its own, with this process's standard streams (in a worker
 * that has not served yet, /dev/null), `fd` as its fd 3 and a low priority.  It is not waited
 * for: it outlives the worker that starts it.  */
/* In the vfork child: a fresh process's signal state (it shares the parent's memory, so no
 * handler of Node's may run in it), its own session, a low priority (it starts while a command
 * runs and should not slow it, until run_normally), `fd` at 3 and nothing else open.  */
static void __attribute__ ((noreturn))
exec_worker (int fd, char **argp, char **envp, const sigset_t *mask)
{
  for (int sig = 1; sig < NSIG; sig++)
    signal (sig, SIG_DFL);
  sigprocmask (SIG_SETMASK, mask, NULL);
  if (setsid () < 0 || setpriority (PRIO_PROCESS, 0, WORKER_NICE) < 0 || dup2 (fd, 3) < 0
      || syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    _exit (127);
  execve (argp[0], argp, envp);
  _exit (127);
}

static napi_value
spawn_detached (napi_env env, napi_callback_info info)
{
  napi_value argv[3], result;
  size_t argc = 3;
  struct warm_packet *args, *vars;
  char *argp[64], *envp[64];
  sigset_t all, saved;
  int32_t fd;
  int err, moved;
  pid_t pid = -1;

  NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL));
  args = calloc (1, sizeof *args);
  vars = calloc (1, sizeof *vars);
  if (args == NULL || vars == NULL || argc < 3
      || ! string_list (env, argv[0], args, argp, 64) || argp[0] == NULL
      || ! string_list (env, argv[1], vars, envp, 64)
      || napi_get_value_int32 (env, argv[2], &fd) != napi_ok)
    {
      free (args);
      free (vars);
      napi_throw_type_error (env, "ERR_INVALID_ARG_TYPE", "spawnDetached(argv, env, fd)");
      return NULL;
    }

  /* Not dup2 onto itself, which would leave close-on-exec set.  */
  moved = fcntl (fd, F_DUPFD_CLOEXEC, 10);
  err = moved < 0 ? errno : 0;
  if (err == 0)
    {
      /* vfork: copying the page tables of a Node process would cost more than the rest.  */
      sigfillset (&all);
      pthread_sigmask (SIG_SETMASK, &all, &saved);
      pid = vfork ();
      if (pid == 0)
        exec_worker (moved, argp, envp, &saved);
      err = pid < 0 ? errno : 0;
      pthread_sigmask (SIG_SETMASK, &saved, NULL);
      close (moved);
    }

  if (err != 0)
    throw_errno (env, err, "start", argp[0]);
  free (args);
  free (vars);
  if (err != 0)
    return NULL;
  NAPI_CALL (env, napi_create_int32 (env, pid, &result));
  return result;
}

/* Whether the process behind `pidfd` has not exited.  */
static napi_value
pidfd_alive (napi_env env, napi_callback_info info)
{
  napi_value result;
  struct pollfd pfd = { .events = POLLIN };
  int32_t pidfd;
  int n;

  if (! fd_argument (env, info, "pidfd", &pidfd))
    return NULL;
  pfd.fd = pidfd;
  n = poll (&pfd, 1, 0);
  if (n < 0)
    return throw_errno (env, errno, "poll a pidfd", NULL);
  NAPI_CALL (env, napi_get_boolean (env, n == 0, &result));
  return result;
}

static void *
watch_launcher (void *arg)
{
  struct pollfd pfd = { .fd = (int) (intptr_t) arg, .events = POLLIN };

  while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
    ;
  kill (getpid (), SIGKILL);
  return NULL;
}

/* Ends this process when the process behind `pidfd` exits: a worker runs its launcher's
 * command, and a killed launcher's command must stop at once, as its own process would, even
 * while JavaScript waits for a hook.  */
static napi_value
die_with (napi_env env, napi_callback_info info)
{
  pthread_t thread;
  pthread_attr_t attr;
  int32_t pidfd;
  int err;

  if (! fd_argument (env, info, "pidfd", &pidfd))
    return NULL;

  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  err = pthread_create (&thread, &attr, watch_launcher, (void *) (intptr_t) pidfd);
  pthread_attr_destroy (&attr);
  if (err != 0)
    return throw_errno (env, err, "start a thread to watch the launcher", NULL);
  return NULL;
}

/* The file status flags of the standard streams a worker took over, which Node may change
 * (O_NONBLOCK) and which its own exit would put back; they are the caller's.  */
static int stdio_flags[3] = { -1, -1, -1 };

static napi_value
save_stdio (napi_env env, napi_callback_info info)
{
  for (int fd = 0; fd < 3; fd++)
    stdio_flags[fd] = fcntl (fd, F_GETFL);
  return NULL;
}

/* Ends the process now, with `status`: a worker that has reported its command's status must
 * be gone before its launcher exits, and Node's own exit waits for the thread that still reads
 * the launcher's socket.  Everything the command wrote went out synchronously.  */
static napi_value
exit_now (napi_env env, napi_callback_info info)
{
  napi_value argv[1];
  size_t argc = 1;
  int32_t status = 1;

  if (napi_get_cb_info (env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1
      || napi_get_value_int32 (env, argv[0], &status) != napi_ok)
    status = 1;
  for (int fd = 0; fd < 3; fd++)
    if (stdio_flags[fd] >= 0)
      fcntl (fd, F_SETFL, stdio_flags[fd]);
  _exit (status & 0xff);
}

/* Puts every thread of this process (nice values are per thread) back at the normal priority:
 * a worker started at a low one is about to serve a command.  */
static napi_value
run_normally (napi_env env, napi_callback_info info)
{
  DIR *tasks = opendir ("/proc/self/task");
  struct dirent *e;
  int err = 0;

  if (tasks == NULL)
    return throw_errno (env, errno, "list the threads of", "/proc/self/task");
  while ((e = readdir (tasks)) != NULL)
    {
      pid_t tid = (pid_t) atoi (e->d_name);

      if (tid > 0 && setpriority (PRIO_PROCESS, (id_t) tid, 0) < 0 && errno != ESRCH)
        err = errno;
    }
  closedir (tasks);
  if (err != 0)
    return throw_errno (env, err, "set the priority", NULL);
  return NULL;
}

napi_value
define_warm_functions (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    { "warmListen", NULL, warm_listen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "warmProbe", NULL, warm_probe, NULL, NULL, NULL, napi_enumerable, NULL },
    { "warmAccept", NULL, warm_accept, NULL, NULL, NULL, napi_enumerable, NULL },
    { "warmReceive", NULL, warm_receive, NULL, NULL, NULL, napi_enumerable, NULL },
    { "warmSend", NULL, warm_send_packet, NULL, NULL, NULL, napi_enumerable, NULL },
    { "socketPair", NULL, socket_pair, NULL, NULL, NULL, napi_enumerable, NULL },
    { "dupTo", NULL, dup_to, NULL, NULL, NULL, napi_enumerable, NULL },
    { "spawnDetached", NULL, spawn_detached, NULL, NULL, NULL, napi_enumerable, NULL },
    { "runNormally", NULL, run_normally, NULL, NULL, NULL, napi_enumerable, NULL },
    { "dieWith", NULL, die_with, NULL, NULL, NULL, napi_enumerable, NULL },
    { "exitNow", NULL, exit_now, NULL, NULL, NULL, napi_enumerable, NULL },
    { "saveStdio", NULL, save_stdio, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pidfdAlive", NULL, pidfd_alive, NULL, NULL, NULL, napi_enumerable, NULL },
  };

  NAPI_CALL (env, napi_define_properties (env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
