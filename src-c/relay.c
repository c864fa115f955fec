/* The launcher's side of a warm worker (see common/warm.h): hand the command to a Node process
 * that has already started, then fork the processes it asks for and report their exits.
 *
 * Starting Node and loading the runtime costs some 30 ms, which is most of a create; a worker
 * pays it before the call comes.  Each worker serves one command and, as it takes it, starts
 * the next one, so no state outlives a command.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/kernel.h"
#include "common/warm.h"
#include "relay.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* How long a launcher waits for a worker to take its command before running it itself: long
 * enough for a worker that is still starting (the one a previous command started), short
 * enough that a burst of commands does not queue behind one worker.  */
#define READY_TIMEOUT_MS 25

/* How long the worker may take to exit after it reported the command's status.  */
#define FINISH_TIMEOUT_MS 2000

#define MAX_CHILDREN 16
#define MAX_ARGS 64

extern char **environ;

/* Appends the identity of one file (device, inode, change time, size) to `out`.  */
static int
file_identity (const char *path, char *out, size_t size)
{
  size_t used = strlen (out);
  struct stat sb;

  if (stat (path, &sb) < 0)
    return 0;
  return snprintf (out + used, size - used, "%s%llu:%llu:%llu:%lld", used ? "/" : "",
                   (unsigned long long) sb.st_dev, (unsigned long long) sb.st_ino,
                   (unsigned long long) sb.st_ctim.tv_sec * 1000000000ULL
                       + (unsigned long long) sb.st_ctim.tv_nsec,
                   (long long) sb.st_size)
         < (int) (size - used);
}

/* What the worker compares with what it loaded (the Node binary, the bundled command line and
 * the addon beside it, <package>/build/Release/sysbox.node): a rebuilt runtime makes workers
 * that loaded the old one step aside.  */
static int
identity (const char *node, const char *script, char *out, size_t size)
{
  char addon[PATH_MAX];
  const char *lib = strrchr (script, '/');

  if (lib == NULL
      || snprintf (addon, sizeof addon, "%.*s/../build/Release/sysbox.node", (int) (lib - script),
                   script)
             >= (int) sizeof addon)
    return 0;
  out[0] = '\0';
  return file_identity (node, out, size) && file_identity (script, out, size)
         && file_identity (addon, out, size);
}

static int
build_request (struct warm_packet *p, const char *node, const char *script, int argc,
               char **argv)
{
  char id[512], cwd[PATH_MAX];
  mode_t mask = umask (0);
  int envc = 0, ok;

  umask (mask);
  if (! identity (node, script, id, sizeof id) || getcwd (cwd, sizeof cwd) == NULL)
    return 0;

  ok = warm_add_field (p, "request") && warm_add_field (p, id) && warm_add_field (p, cwd)
       && warm_add_number (p, mask) && warm_add_number (p, argc - 1);
  for (int i = 1; ok && i < argc; i++)
    ok = warm_add_field (p, argv[i]);
  for (char **e = environ; *e; e++)
    envc++;
  ok = ok && warm_add_number (p, envc);
  for (char **e = environ; ok && *e; e++)
    ok = warm_add_field (p, *e);
  return ok;
}

/* Starts a worker that makes the socket itself, detached from this process: a grandchild in a
 * session of its own, so that neither this launcher nor the Node it may become waits for it. */
void
start_worker (const char *node, const char *script)
{
  pid_t child = fork ();

  if (child < 0)
    return;
  if (child == 0)
    {
      /* As src-ts/cli/warm.ts starts the workers that follow.  */
      char *args[] = { (char *) node, (char *) "--no-lazy", (char *) script,
                       (char *) "--warm-worker", NULL };
      char *env[] = { (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      (char *) "UV_THREADPOOL_SIZE=6", NULL };
      int null;

      /* In / so that it holds no caller's directory, and no mount, busy; at a low priority
       * until it serves, as the workers that follow it (see spawnDetached).  */
      if (setsid () < 0 || chdir ("/") < 0 || setpriority (PRIO_PROCESS, 0, 10) < 0
          || fork () != 0)
        _exit (0);
      null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (null < 0)
        _exit (1);
      for (int fd = 0; fd < 3; fd++)
        if (dup2 (null, fd) < 0)
          _exit (1);
      if (syscall (SYS_close_range, 3U, ~0U, 0U) < 0)
        _exit (1);
      execve (node, args, env);
      _exit (1);
    }
  while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* Whether a `spawn` packet is well formed: spawn PATH ARGC ARGV..., an absolute path.  */
static int
spawn_args (char **fields, int count, char **args)
{
  int argc = count >= 3 ? atoi (fields[2]) : -1;

  if (argc < 1 || argc > MAX_ARGS || 3 + argc != count || fields[1][0] != '/')
    return 0;
  for (int i = 0; i < argc; i++)
    args[i] = fields[3 + i];
  args[argc] = NULL;
  return 1;
}

/* In the child: the signal state a fresh process has, the worker's fds at 3, 4, ... and
 * nothing else open; then the program.  */
static void __attribute__ ((noreturn))
exec_child (struct warm_packet *p, const char *path, char **args)
{
  char *env[] = { NULL };
  int moved[WARM_MAX_FDS];
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);

  /* Out of the way first, so that placing one does not overwrite another.  */
  for (int i = 0; i < p->nfds; i++)
    if ((moved[i] = fcntl (p->fds[i], F_DUPFD_CLOEXEC, 3 + WARM_MAX_FDS)) < 0)
      _exit (127);
  for (int i = 0; i < p->nfds; i++)
    if (dup2 (moved[i], 3 + i) < 0)
      _exit (127);
  if (syscall (SYS_close_range, 3U + (unsigned) p->nfds, ~0U, 0U) < 0)
    _exit (127);

  execve (path, args, env);
  _exit (127);
}

struct child
{
  pid_t pid;
  int pidfd;
};

static void
reply_spawn (int sock, struct warm_packet *p, char **fields, int count, struct child *children,
             int *nchildren)
{
  static struct warm_packet out;
  char *args[MAX_ARGS + 1];
  const char *failure = NULL;
  pid_t pid = -1;
  int pidfd = -1;

  if (*nchildren >= MAX_CHILDREN)
    failure = "too many processes at once";
  else if (! spawn_args (fields, count, args))
    failure = "a malformed spawn request";
  else if ((pid = fork ()) < 0)
    failure = strerror (errno);
  else if (pid == 0)
    exec_child (p, fields[1], args);
  else if ((pidfd = (int) syscall (SYS_pidfd_open, pid, 0)) < 0)
    {
      /* Without a pidfd its exit would go unreported: it must not run.  */
      failure = strerror (errno);
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  warm_close_fds (p);

  out = (struct warm_packet) { .len = 0 };
  if (failure == NULL)
    {
      children[*nchildren] = (struct child) { .pid = pid, .pidfd = pidfd };
      (*nchildren)++;
      warm_add_field (&out, "pid");
      warm_add_number (&out, pid);
    }
  else
    {
      warm_add_field (&out, "failed");
      warm_add_field (&out, failure);
    }
  warm_send (sock, &out);
}

static void
reap (int sock, struct child *c)
{
  static struct warm_packet out;
  int status = 0;

  out = (struct warm_packet) { .len = 0 };

  while (waitpid (c->pid, &status, 0) < 0 && errno == EINTR)
    ;
  warm_add_field (&out, "exited");
  warm_add_number (&out, c->pid);
  warm_add_number (&out, WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status));
  warm_send (sock, &out);
  close (c->pidfd);
}

/* Exits with the command's status once the worker has exited too (its end of the socket
 * closes with it), as a command's own process is gone when its caller learns its status:
 * whoever looks next must not find the command still running.  */
static void __attribute__ ((noreturn))
finish (int sock, int status)
{
  struct pollfd pfd = { .fd = sock, .events = POLLIN };
  char byte;

  while (poll (&pfd, 1, FINISH_TIMEOUT_MS) > 0 && recv (sock, &byte, 1, 0) > 0)
    ;
  exit (status);
}

/* After `go`: fork what the worker asks for until it reports the command's exit status.  */
static void __attribute__ ((noreturn))
serve (int sock, pid_t worker)
{
  static struct warm_packet in;
  struct child children[MAX_CHILDREN];
  int nchildren = 0;

  for (;;)
    {
      struct pollfd pfds[MAX_CHILDREN + 1];
      char *fields[WARM_MAX_FDS + 3];
      int count;

      pfds[0] = (struct pollfd) { .fd = sock, .events = POLLIN };
      for (int i = 0; i < nchildren; i++)
        pfds[i + 1] = (struct pollfd) { .fd = children[i].pidfd, .events = POLLIN };
      if (poll (pfds, (nfds_t) nchildren + 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }

      for (int i = nchildren - 1; i >= 0; i--)
        if (pfds[i + 1].revents)
          {
            reap (sock, &children[i]);
            children[i] = children[--nchildren];
          }
      if (! pfds[0].revents)
        continue;

      count = warm_recv (sock, &in, fields, WARM_MAX_FDS + 3);
      if (count >= 2 && strcmp (fields[0], "exit") == 0)
        finish (sock, atoi (fields[1]));
      if (count >= 1 && strcmp (fields[0], "spawn") == 0)
        reply_spawn (sock, &in, fields, count, children, &nchildren);
      else if (count <= 0)
        break;
      else
        warm_close_fds (&in);
    }

  /* The worker is gone without an exit status: it was killed, and so is this command.  */
  fprintf (stderr,
           "sysbox-runc: the runtime process serving this command (warm worker %d) died before "
           "it finished\n",
           (int) worker);
  exit (1);
}

/* Whether this command may go to a worker: the calls containerd's shim makes per container,
 * unless SYSBOX_WARM_WORKER=0 turns workers off.  */
static int
eligible (const char *command)
{
  static const char *const commands[] = { "create", "start", "state", "kill", "delete" };
  const char *off = getenv ("SYSBOX_WARM_WORKER");

  if (command == NULL || (off != NULL && strcmp (off, "0") == 0))
    return 0;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (command, commands[i]) == 0)
      return 1;
  return 0;
}

/* Connects without waiting: a full backlog means the worker is busy or stuck, and then the
 * launcher runs the command itself.  Returns the socket and the server's pid, which must be
 * root's; -1 with errno set otherwise.  */
static int
connect_worker (pid_t *server)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = WARM_SOCKET };
  struct ucred cred;
  socklen_t len = sizeof cred;
  int sock = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (sock < 0)
    return -1;
  if (connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0
      || getsockopt (sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0
      || fcntl (sock, F_SETFL, 0) < 0)
    {
      int err = errno;

      close (sock);
      errno = err;
      return -1;
    }
  *server = cred.pid;
  return sock;
}

void
relay_to_worker (const char *node, const char *script, const char *command, int argc,
                 char **argv)
{
  static struct warm_packet p;
  struct pollfd pfd;
  char *fields[4];
  pid_t worker;
  int sock, count;

  if (! eligible (command))
    return;
  sock = connect_worker (&worker);
  if (sock < 0)
    {
      if (errno == ENOENT || errno == ECONNREFUSED)
        start_worker (node, script);
      return;
    }

  if (! build_request (&p, node, script, argc, argv) || ! warm_send (sock, &p))
    goto fallback;
  pfd = (struct pollfd) { .fd = sock, .events = POLLIN };
  if (poll (&pfd, 1, READY_TIMEOUT_MS) != 1)
    goto fallback;
  count = warm_recv (sock, &p, fields, 4);
  warm_close_fds (&p);
  if (count >= 1 && strcmp (fields[0], "stale") == 0)
    {
      close (sock);
      start_worker (node, script);
      return;
    }
  if (count < 1 || strcmp (fields[0], "ready") != 0)
    goto fallback;

  /* The standard streams go only with `go`: a launcher that gave up leaves none behind.  */
  p = (struct warm_packet) { .len = 0 };
  for (int fd = 0; fd < 3; fd++)
    p.fds[p.nfds++] = fd;
  if (! warm_add_field (&p, "go") || ! warm_send (sock, &p))
    goto fallback;
  serve (sock, worker);

fallback:
  close (sock);
}
