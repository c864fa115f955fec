/* sysbox-init's entry point, the plan runner and the namespace steps.
 *
 * The runtime starts this program with the sync socket on fd 3, writes the plan followed by a
 * line `end`, and then talks to it in short lines: `pid N` and `ready` or `error MESSAGE` from
 * here, `go` from the runtime.  Standard input, output and error belong to the container.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/kernel.h"
#include "init.h"

#define SYNC_FD 3
#define MAX_PLAN (4 << 20)

static int sync_fd = -1;

void
set_sync_fd (int fd)
{
  sync_fd = fd;
}

static void
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= (size_t) n;
    }
}

static void
vreport (const char *prefix, const char *fmt, va_list ap, int err)
{
  char msg[4096];
  int n = vsnprintf (msg, sizeof msg, fmt, ap);

  if (n < 0)
    n = 0;
  if ((size_t) n >= sizeof msg)
    n = sizeof msg - 1;
  if (err)
    snprintf (msg + n, sizeof msg - (size_t) n, ": %s", strerror (err));

  /* One line per message: the runtime splits on newlines.  */
  for (char *p = msg; *p; p++)
    if (*p == '\n')
      *p = ' ';

  if (sync_fd >= 0)
    {
      char line[4200];
      int len = snprintf (line, sizeof line, "%s %s\n", prefix, msg);

      write_all (sync_fd, line, (size_t) len);
      return;
    }

  fprintf (stderr, "sysbox-init: %s\n", msg);
}

void
die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vreport ("error", fmt, ap, 0);
  va_end (ap);
  _exit (127);
}

void
die_errno (int err, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vreport ("error", fmt, ap, err);
  va_end (ap);
  _exit (127);
}

void
sync_send (const char *fmt, ...)
{
  char line[256];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n < 0 || (size_t) n > sizeof line - 2)
    n = (int) sizeof line - 2;
  line[n++] = '\n';
  write_all (sync_fd, line, (size_t) n);
}

/* The container's init as the runtime's PID namespace numbers it, sent with `go`, for the state
 * that hooks run from inside the container receive.  */
long runtime_pid;

void
sync_expect (const char *word)
{
  char line[64];
  size_t wlen = strlen (word);
  size_t len = 0;

  while (len < sizeof line - 1)
    {
      ssize_t n = read (sync_fd, line + len, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          sync_fd = -1;
          die ("the runtime closed the sync socket while this process waited for `%s`", word);
        }
      if (line[len] == '\n')
        break;
      len++;
    }

  line[len] = '\0';
  if (strncmp (line, word, wlen) == 0 && line[wlen] == ' ')
    {
      runtime_pid = parse_long (line + wlen + 1, "pid");
      return;
    }
  if (strcmp (line, word) != 0)
    die ("expected `%s` from the runtime, got `%s`", word, line);
}

long
parse_long (const char *s, const char *what)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || *s == '\0' || *end != '\0')
    die ("invalid %s `%s` in the plan", what, s);
  return v;
}

unsigned long long
parse_hex (const char *s, const char *what)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull (s, &end, 16);
  if (errno || *s == '\0' || *end != '\0')
    die ("invalid %s `%s` in the plan", what, s);
  return v;
}

void
write_proc_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t len = (ssize_t) strlen (data);

  if (fd < 0)
    die_errno (errno, "open `%s`", path);

  if (write (fd, data, (size_t) len) != len)
    die_errno (errno, "write `%s` to `%s`", data, path);

  close (fd);
}

static char *
read_plan (void)
{
  size_t cap = 65536, len = 0;
  char *buf = malloc (cap);

  if (buf == NULL)
    die ("out of memory reading the plan");

  for (;;)
    {
      ssize_t n;

      if (len >= 5 && memcmp (buf + len - 5, "\nend\n", 5) == 0)
        {
          buf[len - 4] = '\0';
          return buf;
        }

      if (len + 1 >= cap)
        {
          if (cap >= MAX_PLAN)
            die ("the plan is larger than %d bytes", MAX_PLAN);
          cap *= 2;
          buf = realloc (buf, cap);
          if (buf == NULL)
            die ("out of memory reading the plan");
        }

      n = read (sync_fd, buf + len, 1 < cap - len - 1 ? cap - len - 1 : 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          sync_fd = -1;
          die ("the runtime closed the sync socket before the plan ended");
        }
      len += (size_t) n;
    }
}

static const struct
{
  const char *name;
  int flag;
} ns_types[] = {
  { "user", CLONE_NEWUSER }, { "mount", CLONE_NEWNS },   { "pid", CLONE_NEWPID },
  { "network", CLONE_NEWNET }, { "uts", CLONE_NEWUTS },  { "ipc", CLONE_NEWIPC },
  { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int
ns_flag (const char *name)
{
  for (size_t i = 0; i < sizeof ns_types / sizeof ns_types[0]; i++)
    if (strcmp (ns_types[i].name, name) == 0)
      return ns_types[i].flag;
  die ("unknown namespace type `%s`", name);
}

/* join TYPE PATH [TYPE PATH]...: opens every namespace first, because joining a mount namespace
 * changes what later paths under /proc resolve to, then joins them in the order given.  */
static void
join_namespaces (struct step *s)
{
  int fds[16];
  int n = (s->argc - 1) / 2;

  if ((s->argc - 1) % 2 != 0 || n > 16)
    die ("malformed join step with %d fields", s->argc - 1);

  for (int i = 0; i < n; i++)
    {
      fds[i] = open (s->argv[2 + 2 * i], O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        die_errno (errno, "open the %s namespace `%s`", s->argv[1 + 2 * i], s->argv[2 + 2 * i]);
    }

  for (int i = 0; i < n; i++)
    {
      if (setns (fds[i], ns_flag (s->argv[1 + 2 * i])) < 0)
        die_errno (errno, "join the %s namespace `%s`", s->argv[1 + 2 * i], s->argv[2 + 2 * i]);
      close (fds[i]);
    }
}

/* Becomes root of the user namespace just joined: unmapped IDs would make every file this process
 * creates fail with EOVERFLOW on the ID-mapped mounts.  */
static void
become_root (void)
{
  if (setresgid (0, 0, 0) < 0)
    die_errno (errno, "setresgid to root in the container");

  if (setgroups (0, NULL) < 0)
    die_errno (errno, "clear supplementary groups");

  if (setresuid (0, 0, 0) < 0)
    die_errno (errno, "setresuid to root in the container");
}

static pid_t waited_child;

/* A caller that waits on `sysbox-runc exec` signals it, not the process in the container.  */
static void
forward_signal (int sig)
{
  if (waited_child > 0)
    kill (waited_child, sig);
}

/* Splits off the process that the plan's later steps shape.  Unsharing a PID namespace only
 * moves children into it, so this fork is what makes the container's first process PID 1.  The
 * parent reports the child's PID and either exits, so the child is re-parented to the caller's
 * subreaper, or (`fork wait`) waits for it and exits with its status.  */
static void
fork_step (struct step *s)
{
  int wait_child = s->argc > 1 && strcmp (s->argv[1], "wait") == 0;
  int status;
  pid_t pid;

  pid = fork ();
  if (pid < 0)
    die_errno (errno, "fork the container process");

  if (pid == 0)
    return;

  sync_send ("pid %d", pid);
  if (! wait_child)
    _exit (0);

  close (sync_fd);
  sync_fd = -1;
  waited_child = pid;
  for (int sig = 1; sig < 32; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
      signal (sig, forward_signal);

  while (waitpid (pid, &status, 0) < 0)
    {
      if (errno != EINTR)
        die_errno (errno, "wait for process %d", pid);
    }

  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WEXITSTATUS (status));
}

static void
run_core_step (struct step *s, struct init_state *st)
{
  const char *name = s->argv[0];

  if (strcmp (name, "cgroup") == 0 && s->argc == 2)
    write_proc_file (s->argv[1], "0");
  else if (strcmp (name, "oom-score-adj") == 0 && s->argc == 2)
    write_proc_file ("/proc/self/oom_score_adj", s->argv[1]);
  else if (strcmp (name, "join") == 0)
    join_namespaces (s);
  else if (strcmp (name, "userns-fd") == 0 && s->argc == 2)
    {
      int fd = (int) parse_long (s->argv[1], "fd");

      if (setns (fd, CLONE_NEWUSER) < 0)
        die_errno (errno, "join the container's user namespace");
      close (fd);
    }
  else if (strcmp (name, "become-root") == 0)
    become_root ();
  else if (strcmp (name, "unshare") == 0)
    {
      int flags = 0;

      for (int i = 1; i < s->argc; i++)
        flags |= ns_flag (s->argv[i]);
      if (unshare (flags) < 0)
        die_errno (errno, "unshare the container's namespaces");
    }
  else if (strcmp (name, "fork") == 0)
    fork_step (s);
  else if (strcmp (name, "await") == 0 && s->argc == 2)
    sync_expect (s->argv[1]);
  else if (strcmp (name, "ready") == 0)
    {
      sync_send ("ready");
      close (st->sync_fd);
      st->sync_fd = -1;
      sync_fd = -1;
    }
  else if (strcmp (name, "new-keyring") == 0)
    {
      /* A session keyring of its own, so that the container does not see or fill the caller's;
       * kernels built without keys are fine.  */
      if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
        die_errno (errno, "join a new session keyring");
    }
  else if (strcmp (name, "pdeathsig") == 0)
    {
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
        die_errno (errno, "set the parent-death signal");
    }
  else
    die ("unknown plan step `%s` with %d fields", name, s->argc - 1);
}

int
run_plan (struct plan *plan, struct init_state *st)
{
  for (size_t i = 0; i < plan->len; i++)
    {
      struct step *s = &plan->steps[i];

      if (step_is_rootfs (s->argv[0]))
        run_rootfs_step (s, st);
      else if (step_is_process (s->argv[0]))
        run_process_step (s, st);
      else
        run_core_step (s, st);
    }

  return 0;
}

int
main (int argc, char **argv)
{
  long passed = argc > 1 ? strtol (argv[1], NULL, 10) : 0;
  struct init_state st = {
    .sync_fd = SYNC_FD, .root_fd = -1, .console_fd = -1, .fifo_fd = -1, .fifo_path_fd = -1,
  };
  struct plan plan;
  char *text;

  if (fcntl (SYNC_FD, F_SETFD, FD_CLOEXEC) < 0)
    {
      fprintf (stderr, "sysbox-init: fd 3 is not open: this program is started by sysbox-runc\n");
      return 2;
    }

  /* Only the container's standard streams, the sync socket and the fds the runtime passed on
   * purpose (from 4) may reach the container; anything else the caller left open goes.  */
  if (passed >= 0 && sb_close_range (4 + (unsigned int) passed, ~0U, 0) < 0 && errno != ENOSYS)
    {
      fprintf (stderr, "sysbox-init: close inherited fds: %s\n", strerror (errno));
      return 2;
    }

  /* Not dumpable: between joining the container's user namespace and taking a user of it, this
   * process is still host root, and a process in that namespace (with CAP_SYS_PTRACE there)
   * could otherwise ptrace it.  execve resets the flag for the container's program.  */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    {
      fprintf (stderr, "sysbox-init: make the process non-dumpable: %s\n", strerror (errno));
      return 2;
    }

  set_sync_fd (SYNC_FD);
  text = read_plan ();
  if (parse_plan (text, &plan) < 0)
    die ("out of memory parsing the plan");

  run_plan (&plan, &st);
  die ("the plan ended without an exec step");
}
