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

extern char **environ;

/* What the worker compares with the script it loaded: a rebuilt runtime makes workers that
 * loaded the old one step aside.  */
static int
identity (const char *script, char *out, size_t size)
{
  struct stat sb;

  if (stat (script, &sb) < 0)
    return 0;
  snprintf (out, size, "%llu:%llu:%llu:%lld", (unsigned long long) sb.st_dev,
            (unsigned long long) sb.st_ino,
            (unsigned long long) sb.st_mtim.tv_sec * 1000000000ULL
                + (unsigned long long) sb.st_mtim.tv_nsec,
            (long long) sb.st_size);
  return 1;
}

static int
build_request (struct warm_packet *p, const char *script, int argc, char **argv)
{
  char id[128], cwd[PATH_MAX];
  mode_t mask = umask (0);
  int envc = 0, ok;

  umask (mask);
  if (! identity (script, id, sizeof id) || getcwd (cwd, sizeof cwd) == NULL)
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

  for (int fd = 0; fd < 3; fd++)
    p->fds[p->nfds++] = fd;
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
      char *args[] = { (char *) node, (char *) script, (char *) "--warm-worker", NULL };
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
        dup2 (null, fd);
      syscall (SYS_close_range, 3U, ~0U, 0U);
      execve (node, args, env);
      _exit (1);
    }
  while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* In the child: the worker's fds go to 3, 4, ... and nothing else stays open.  */
static void
exec_child (struct warm_packet *p, char **fields, int count)
{
  char *args[WARM_MAX_FDS + 2];
  char *env[] = { NULL };
  int argc = count >= 3 ? atoi (fields[2]) : -1;
  int moved[WARM_MAX_FDS];

  if (argc < 1 || argc > WARM_MAX_FDS || 3 + argc != count)
    _exit (127);
  for (int i = 0; i < argc; i++)
    args[i] = fields[3 + i];
  args[argc] = NULL;

  /* Out of the way first, so that placing one does not overwrite another.  */
  for (int i = 0; i < p->nfds; i++)
    if ((moved[i] = fcntl (p->fds[i], F_DUPFD_CLOEXEC, 3 + WARM_MAX_FDS)) < 0)
      _exit (127);
  for (int i = 0; i < p->nfds; i++)
    if (dup2 (moved[i], 3 + i) < 0)
      _exit (127);
  syscall (SYS_close_range, 3U + (unsigned) p->nfds, ~0U, 0U);

  execve (fields[1], args, env);
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
  struct warm_packet *out = calloc (1, sizeof *out);
  pid_t pid = *nchildren < MAX_CHILDREN && count >= 3 ? fork () : -1;
  int err = errno;

  if (pid == 0)
    exec_child (p, fields, count);
  warm_close_fds (p);
  if (out == NULL)
    exit (1);
  if (pid > 0)
    {
      children[*nchildren].pid = pid;
      children[*nchildren].pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
      (*nchildren)++;
      warm_add_field (out, "pid");
      warm_add_number (out, pid);
    }
  else
    {
      warm_add_field (out, "failed");
      warm_add_field (out, *nchildren >= MAX_CHILDREN ? "too many children" : strerror (err));
    }
  warm_send (sock, out);
  free (out);
}

static void
reap (int sock, struct child *c)
{
  struct warm_packet out = { .len = 0 };
  int status = 0;

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
serve (int sock)
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

  /* The worker is gone without an exit status: it was killed, as this command now is.  */
  fprintf (stderr, "sysbox-runc: the runtime process serving this command died\n");
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

void
relay_to_worker (const char *node, const char *script, const char *command, int argc,
                 char **argv)
{
  static struct warm_packet p;
  struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = WARM_SOCKET };
  struct pollfd pfd;
  char *fields[4];
  int sock, count;

  if (! eligible (command))
    return;
  sock = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return;
  if (connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      if (errno == ENOENT || errno == ECONNREFUSED)
        start_worker (node, script);
      close (sock);
      return;
    }

  if (! build_request (&p, script, argc, argv) || ! warm_send (sock, &p))
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

  p = (struct warm_packet) { .len = 0 };
  if (! warm_add_field (&p, "go") || ! warm_send (sock, &p))
    goto fallback;
  serve (sock);

fallback:
  close (sock);
}
