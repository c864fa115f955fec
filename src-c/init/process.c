/* Steps that shape the process itself: its terminal, the wait for `start`, credentials,
 * capabilities, limits, the seccomp filter, and finally execve(2).  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/kernel.h"
#include "init.h"

static const char *const process_steps[] = {
  "console-connect", "console",  "fifo-open",    "fifo-listen",  "fifo-wait",    "setsid",
  "umask",           "rlimit",   "bounding",     "user",         "caps",         "nnp",
  "cwd",             "arg",      "env",          "lookup",       "exec",         "seccomp-init",
  "seccomp-arch",    "seccomp-rule", "seccomp-load", "close-fds", "hook",        "home",
  "mount-notify",
};

int
step_is_process (const char *name)
{
  for (size_t i = 0; i < sizeof process_steps / sizeof process_steps[0]; i++)
    if (strcmp (process_steps[i], name) == 0)
      return 1;
  return 0;
}

static void
console_connect (struct init_state *st, const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  if (strlen (path) >= sizeof addr.sun_path)
    die ("the console socket path `%s` is too long", path);
  strcpy (addr.sun_path, path);

  st->console_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (st->console_fd < 0)
    die_errno (errno, "create a socket for the console");

  if (connect (st->console_fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    die_errno (errno, "connect to the console socket `%s`", path);
}

/* Sends `fd` over the socket `sock` with `name` as the data; `what` names the fd in the
 * error.  */
static void
send_fd (int sock, int fd, const char *name, const char *what)
{
  char cbuf[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { .iov_base = (void *) name, .iov_len = strlen (name) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);

  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  if (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    die_errno (errno, "send %s", what);
}

/* mount-notify SOCK: makes the container's mount(2) calls wait for sysbox-fs, which mounts a
 * /proc for an inner container itself (with its own files over the kernel's) and lets every
 * other mount through.  The listener goes to the server over SOCK, and this process keeps no
 * copy: if the server dies, trapped calls fail (ENOSYS) instead of waiting for it.  */
static void
mount_notify (struct step *s)
{
  int sock = (int) parse_long (s->argv[1], "socket fd");
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int rc, fd;

  if (ctx == NULL)
    die_errno (ENOMEM, "make the mount filter");
  /* libseccomp would set no_new_privs, which the container's processes must not get from us:
   * this process has CAP_SYS_ADMIN in its user namespace, which is what the kernel asks.  */
  rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0)
    rc = seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mount), 0);
  if (rc == 0)
    rc = seccomp_load (ctx);
  if (rc < 0)
    die_errno (-rc, "load the mount filter");
  fd = seccomp_notify_fd (ctx);
  if (fd < 0)
    die_errno (-fd, "get the mount filter's listener");

  send_fd (sock, fd, "listener", "the mount filter's listener to sysbox-fs");
  close (fd);
  close (sock);
  seccomp_release (ctx);
}

/* console ROWS COLS BIND: makes a pseudo-terminal in the container's devpts, hands its master to
 * the caller and makes the slave this process's controlling terminal and standard streams.  */
static void
console_step (struct step *s, struct init_state *st)
{
  struct winsize ws = { .ws_row = (unsigned short) parse_long (s->argv[1], "rows"),
                        .ws_col = (unsigned short) parse_long (s->argv[2], "columns") };
  char name[64];
  int master, slave;

  if (st->console_fd < 0)
    die ("the plan asks for a console but no console socket was connected");

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    die_errno (errno, "open /dev/ptmx in the container");

  if (unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    die_errno (errno, "unlock the pseudo-terminal");

  if ((ws.ws_row || ws.ws_col) && ioctl (master, TIOCSWINSZ, &ws) < 0)
    die_errno (errno, "set the terminal size");

  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    die_errno (errno, "open the terminal `%s`", name);

  if (strcmp (s->argv[3], "bind") == 0)
    {
      int f = open ("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

      if (f >= 0)
        close (f);
      if (mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
        die_errno (errno, "bind `%s` on /dev/console", name);
    }

  send_fd (st->console_fd, master, name, "the terminal to the console socket");
  close (master);
  close (st->console_fd);
  st->console_fd = -1;

  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    die_errno (errno, "make `%s` the controlling terminal", name);

  for (int i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      die_errno (errno, "attach the terminal to fd %d", i);
  close (slave);
}

/* Opens the read end without blocking before the runtime is told the container is ready, so
 * that `start`, which may come at once, finds a reader; its non-blocking open would otherwise
 * fail with ENXIO.  */
static int
open_fifo_reader (int path_fd)
{
  char path[64];
  int fd;

  snprintf (path, sizeof path, "/proc/self/fd/%d", path_fd);
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    die_errno (errno, "open the exec fifo");
  return fd;
}

static void
fifo_listen (struct init_state *st)
{
  st->fifo_path_fd = st->fifo_fd;
  st->fifo_fd = open_fifo_reader (st->fifo_path_fd);
}

/* Waits for `start`.  poll reports the fifo readable once `start` has written it; before any
 * writer came, it neither reports data nor hang-up, so it waits.  A writer that went away
 * without writing (a `start` killed half-way) is not a start: the read end is opened anew, which
 * forgets that writer, and the wait goes on.  */
static void
fifo_wait (struct init_state *st)
{
  char byte;
  ssize_t n;

  for (;;)
    {
      struct pollfd pfd = { .fd = st->fifo_fd, .events = POLLIN };

      if (poll (&pfd, 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die_errno (errno, "wait on the exec fifo");
        }
      n = read (st->fifo_fd, &byte, 1);
      if (n == 1)
        break;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        die_errno (errno, "read the exec fifo");
      if (n == 0)
        {
          close (st->fifo_fd);
          st->fifo_fd = open_fifo_reader (st->fifo_path_fd);
        }
    }

  close (st->fifo_fd);
  close (st->fifo_path_fd);
  st->fifo_fd = -1;
  st->fifo_path_fd = -1;
}

static void
set_caps (struct step *s)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2];
  unsigned long long eff = parse_hex (s->argv[1], "effective caps");
  unsigned long long prm = parse_hex (s->argv[2], "permitted caps");
  unsigned long long inh = parse_hex (s->argv[3], "inheritable caps");
  unsigned long long amb = parse_hex (s->argv[4], "ambient caps");

  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (eff >> (32 * i));
      data[i].permitted = (uint32_t) (prm >> (32 * i));
      data[i].inheritable = (uint32_t) (inh >> (32 * i));
    }

  if (syscall (SYS_capset, &hdr, data) < 0)
    die_errno (errno, "set the process capabilities");

  /* The kernel raises an ambient capability only if it is permitted and inheritable; like runc,
   * the others are skipped rather than failing the container.  */
  for (int cap = 0; cap < 64; cap++)
    if (((amb & inh & prm) >> cap) & 1)
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        die_errno (errno, "raise ambient capability %d", cap);
}

static void
drop_bounding (const char *hex)
{
  unsigned long long keep = parse_hex (hex, "bounding caps");

  for (int cap = 0; cap < 64; cap++)
    {
      if ((keep >> cap) & 1)
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        die_errno (errno, "drop capability %d from the bounding set", cap);
    }
}

/* user UID GID GROUPS: GROUPS is a comma-separated list, possibly empty.  */
static void
set_user (struct step *s)
{
  uid_t uid = (uid_t) parse_long (s->argv[1], "uid");
  gid_t gid = (gid_t) parse_long (s->argv[2], "gid");
  gid_t groups[256];
  size_t n = 0;
  char *list = s->argv[3], *tok, *save = NULL;

  for (tok = strtok_r (list, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (n == sizeof groups / sizeof groups[0])
        die ("more than %zu additional groups", n);
      groups[n++] = (gid_t) parse_long (tok, "gid");
    }

  /* Keep the permitted set across the switch away from root; the caps step sets it next.  */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    die_errno (errno, "keep capabilities across setuid");

  if (setgroups (n, groups) < 0)
    die_errno (errno, "set the additional groups");

  if (setresgid (gid, gid, gid) < 0)
    die_errno (errno, "set gid %u", gid);

  if (setresuid (uid, uid, uid) < 0)
    die_errno (errno, "set uid %u", uid);

  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    die_errno (errno, "reset keep-capabilities");
}

static char *
env_lookup (struct init_state *st, const char *key)
{
  size_t len = strlen (key);

  for (size_t i = 0; i < st->nenv; i++)
    if (strncmp (st->env[i], key, len) == 0 && st->env[i][len] == '=')
      return st->env[i] + len + 1;
  return NULL;
}

static int
is_executable (const char *path)
{
  struct stat sb;

  return stat (path, &sb) == 0 && S_ISREG (sb.st_mode) && access (path, X_OK) == 0;
}

/* Finds the program as execvp(3) would, with the container's PATH, so that a missing program is
 * reported by `create` rather than after `start`.  */
static void
lookup_step (struct init_state *st)
{
  const char *name, *path;
  char *copy, *dir, *save = NULL;

  if (st->nargs == 0)
    die ("the process has no args");
  name = st->args[0];

  /* Worded as runc words them: Docker turns "no such file or directory" into exit status 127
   * and "permission denied" into 126.  */
  if (strchr (name, '/'))
    {
      struct stat sb;

      if (stat (name, &sb) < 0)
        die ("exec: \"%s\": stat %s: no such file or directory", name, name);
      if (! is_executable (name))
        die ("exec: \"%s\": permission denied", name);
      st->exec_path = strdup (name);
      return;
    }

  path = env_lookup (st, "PATH");
  copy = strdup (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char candidate[PATH_MAX];

      snprintf (candidate, sizeof candidate, "%s/%s", *dir ? dir : ".", name);
      if (is_executable (candidate))
        {
          st->exec_path = strdup (candidate);
          free (copy);
          return;
        }
    }

  free (copy);
  die ("exec: \"%s\": executable file not found in $PATH", name);
}

static void push (char ***list, size_t *n, const char *value);

/* home UID: sets HOME, when the config leaves it out, from the container's /etc/passwd, as runc
 * does; "/" for a user it does not list.  */
static void
home_step (struct init_state *st, const char *uid_str)
{
  long uid = parse_long (uid_str, "uid");
  char line[1024], *home = NULL;
  FILE *f;

  if (env_lookup (st, "HOME"))
    return;

  f = fopen ("/etc/passwd", "re");
  while (f && home == NULL && fgets (line, sizeof line, f))
    {
      char *fields[7], *p = line;
      int n = 0;

      line[strcspn (line, "\n")] = '\0';
      for (char *tok = strsep (&p, ":"); tok && n < 7; tok = strsep (&p, ":"))
        fields[n++] = tok;
      if (n == 7 && strtol (fields[2], NULL, 10) == uid && *fields[5])
        home = strdup (fields[5]);
    }
  if (f)
    fclose (f);

  char *entry;
  if (asprintf (&entry, "HOME=%s", home ? home : "/") < 0)
    die ("out of memory");
  push (&st->env, &st->nenv, entry);
  free (entry);
  free (home);
}

static void
push (char ***list, size_t *n, const char *value)
{
  char **grown = realloc (*list, (*n + 2) * sizeof (char *));

  if (grown == NULL)
    die ("out of memory");
  grown[*n] = strdup (value);
  grown[*n + 1] = NULL;
  *list = grown;
  (*n)++;
}

static uint32_t
seccomp_action (const char *name, const char *errno_str)
{
  if (strcmp (name, "allow") == 0)
    return SCMP_ACT_ALLOW;
  if (strcmp (name, "errno") == 0)
    return SCMP_ACT_ERRNO ((uint16_t) parse_long (errno_str, "errno"));
  if (strcmp (name, "kill") == 0)
    return SCMP_ACT_KILL_THREAD;
  if (strcmp (name, "kill-process") == 0)
    return SCMP_ACT_KILL_PROCESS;
  if (strcmp (name, "trap") == 0)
    return SCMP_ACT_TRAP;
  if (strcmp (name, "trace") == 0)
    return SCMP_ACT_TRACE ((uint16_t) parse_long (errno_str, "trace value"));
  if (strcmp (name, "log") == 0)
    return SCMP_ACT_LOG;
  die ("unknown seccomp action `%s`", name);
}

static enum scmp_compare
seccomp_op (const char *name)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = { { "ne", SCMP_CMP_NE }, { "lt", SCMP_CMP_LT }, { "le", SCMP_CMP_LE },
              { "eq", SCMP_CMP_EQ }, { "ge", SCMP_CMP_GE }, { "gt", SCMP_CMP_GT },
              { "me", SCMP_CMP_MASKED_EQ } };

  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp (ops[i].name, name) == 0)
      return ops[i].op;
  die ("unknown seccomp operator `%s`", name);
}

/* seccomp-rule ACTION ERRNO SYSCALL [INDEX,OP,VALUE,VALUE2]...; unknown syscalls are skipped
 * because profiles list calls that older kernels or other architectures lack.  */
static void
seccomp_rule (struct step *s, struct init_state *st)
{
  struct scmp_arg_cmp args[6];
  int nr = seccomp_syscall_resolve_name (s->argv[3]);
  unsigned int n = 0;
  int rc;

  if (nr == __NR_SCMP_ERROR)
    return;

  for (int i = 4; i < s->argc; i++)
    {
      char op[8];
      unsigned int index;
      unsigned long long v1, v2;

      if (n == 6 || sscanf (s->argv[i], "%u,%7[a-z],%llu,%llu", &index, op, &v1, &v2) != 4)
        die ("malformed seccomp argument `%s` for %s", s->argv[i], s->argv[3]);
      args[n++] = (struct scmp_arg_cmp) { index, seccomp_op (op), v1, v2 };
    }

  rc = seccomp_rule_add_array (st->seccomp, seccomp_action (s->argv[1], s->argv[2]), nr, n, args);
  if (rc < 0)
    die_errno (-rc, "add the seccomp rule for %s", s->argv[3]);
}

static void
seccomp_step (struct step *s, struct init_state *st)
{
  int rc;

  if (strcmp (s->argv[0], "seccomp-init") == 0 && s->argc == 3)
    {
      st->seccomp = seccomp_init (seccomp_action (s->argv[1], s->argv[2]));
      if (st->seccomp == NULL)
        die ("initialize the seccomp filter");
      /* The default action also applies to calls from architectures not listed.  */
      if (seccomp_attr_set (st->seccomp, SCMP_FLTATR_CTL_NNP, 0) < 0)
        die ("keep no_new_privs under the control of the config");
      return;
    }

  if (st->seccomp == NULL)
    die ("`%s` before seccomp-init", s->argv[0]);

  if (strcmp (s->argv[0], "seccomp-arch") == 0 && s->argc == 2)
    {
      uint32_t arch = seccomp_arch_resolve_name (s->argv[1]);

      if (arch == 0)
        die ("unknown seccomp architecture `%s`", s->argv[1]);
      rc = seccomp_arch_add (st->seccomp, arch);
      if (rc < 0 && rc != -EEXIST)
        die_errno (-rc, "add the seccomp architecture %s", s->argv[1]);
    }
  else if (strcmp (s->argv[0], "seccomp-rule") == 0 && s->argc >= 4)
    seccomp_rule (s, st);
  else if (strcmp (s->argv[0], "seccomp-load") == 0)
    {
      rc = seccomp_load (st->seccomp);
      if (rc < 0)
        die_errno (-rc, "load the seccomp filter");
      seccomp_release (st->seccomp);
      st->seccomp = NULL;
    }
  else
    die ("malformed plan step `%s`", s->argv[0]);
}

/* The runtime writes the state before it knows the init's PID; `@PID@` stands in for it.  */
static const char *
with_pid (const char *state)
{
  const char *at = strstr (state, "@PID@");
  char *out;

  if (at == NULL)
    return state;
  if (asprintf (&out, "%.*s%ld%s", (int) (at - state), state, runtime_pid, at + 5) < 0)
    die ("out of memory");
  return out;
}

/* hook TIMEOUT STATE PATH NARGS ARG... ENV...: runs an OCI hook from inside the container's
 * namespaces with the container's state on its standard input, as createContainer and
 * startContainer hooks run.  TIMEOUT is in seconds, 0 for none.  */
static void
hook_step (struct step *s)
{
  long timeout = parse_long (s->argv[1], "hook timeout");
  long nargs = parse_long (s->argv[4], "hook argument count");
  const char *state = s->argv[2];
  void (*old_pipe) (int);
  char **argv, **envp;
  int pipefd[2], status;
  time_t deadline;
  pid_t pid;

  if (nargs < 0 || 5 + nargs > s->argc)
    die ("malformed hook step for `%s`", s->argv[3]);

  argv = calloc ((size_t) nargs + 2, sizeof (char *));
  envp = calloc ((size_t) (s->argc - 5 - nargs) + 1, sizeof (char *));
  if (argv == NULL || envp == NULL)
    die ("out of memory");
  for (long i = 0; i < nargs; i++)
    argv[i] = s->argv[5 + i];
  if (nargs == 0)
    argv[0] = s->argv[3];
  for (int i = 5 + (int) nargs, j = 0; i < s->argc; i++, j++)
    envp[j] = s->argv[i];

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    die_errno (errno, "make a pipe for hook `%s`", s->argv[3]);

  pid = fork ();
  if (pid < 0)
    die_errno (errno, "fork hook `%s`", s->argv[3]);

  if (pid == 0)
    {
      dup2 (pipefd[0], 0);
      execve (s->argv[3], argv, envp);
      _exit (127);
    }

  /* Non-blocking: a hook that never reads its input must not hold this process past the hook's
   * timeout; what the pipe cannot take is dropped.  */
  close (pipefd[0]);
  state = with_pid (state);
  fcntl (pipefd[1], F_SETFL, O_NONBLOCK);
  old_pipe = signal (SIGPIPE, SIG_IGN);
  if (write (pipefd[1], state, strlen (state)) < 0 && errno != EPIPE && errno != EAGAIN)
    die_errno (errno, "write the state to hook `%s`", s->argv[3]);
  signal (SIGPIPE, old_pipe);
  close (pipefd[1]);

  deadline = time (NULL) + timeout;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, timeout > 0 ? WNOHANG : 0);

      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        die_errno (errno, "wait for hook `%s`", s->argv[3]);
      if (timeout > 0 && time (NULL) > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          die ("hook `%s` did not finish in %ld s", s->argv[3], timeout);
        }
      if (timeout > 0)
        usleep (10000);
    }

  if (! WIFEXITED (status) || WEXITSTATUS (status) != 0)
    die ("hook `%s` failed with status %d", s->argv[3],
         WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));

  free (argv);
  free (envp);
}

void
run_process_step (struct step *s, struct init_state *st)
{
  const char *name = s->argv[0];

  if (strncmp (name, "seccomp-", 8) == 0)
    seccomp_step (s, st);
  else if (strcmp (name, "console-connect") == 0 && s->argc == 2)
    console_connect (st, s->argv[1]);
  else if (strcmp (name, "console") == 0 && s->argc == 4)
    console_step (s, st);
  else if (strcmp (name, "fifo-open") == 0 && s->argc == 2)
    {
      st->fifo_fd = open (s->argv[1], O_PATH | O_CLOEXEC);
      if (st->fifo_fd < 0)
        die_errno (errno, "open the exec fifo `%s`", s->argv[1]);
    }
  else if (strcmp (name, "fifo-listen") == 0)
    fifo_listen (st);
  else if (strcmp (name, "mount-notify") == 0 && s->argc == 2)
    mount_notify (s);
  else if (strcmp (name, "fifo-wait") == 0)
    fifo_wait (st);
  else if (strcmp (name, "setsid") == 0)
    {
      if (setsid () < 0)
        die_errno (errno, "start a new session");
    }
  else if (strcmp (name, "umask") == 0 && s->argc == 2)
    umask ((mode_t) strtol (s->argv[1], NULL, 8));
  else if (strcmp (name, "rlimit") == 0 && s->argc == 4)
    {
      struct rlimit rl = { (rlim_t) strtoull (s->argv[2], NULL, 10),
                           (rlim_t) strtoull (s->argv[3], NULL, 10) };

      if (setrlimit ((int) parse_long (s->argv[1], "rlimit"), &rl) < 0)
        die_errno (errno, "set rlimit %s to %s:%s", s->argv[1], s->argv[2], s->argv[3]);
    }
  else if (strcmp (name, "bounding") == 0 && s->argc == 2)
    drop_bounding (s->argv[1]);
  else if (strcmp (name, "user") == 0 && s->argc == 4)
    set_user (s);
  else if (strcmp (name, "caps") == 0 && s->argc == 5)
    set_caps (s);
  else if (strcmp (name, "nnp") == 0)
    {
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die_errno (errno, "set no_new_privs");
    }
  else if (strcmp (name, "cwd") == 0 && s->argc == 2)
    {
      if (chdir (s->argv[1]) < 0)
        die_errno (errno, "chdir to `%s` in the container", s->argv[1]);
    }
  else if (strcmp (name, "arg") == 0 && s->argc == 2)
    push (&st->args, &st->nargs, s->argv[1]);
  else if (strcmp (name, "env") == 0 && s->argc == 2)
    push (&st->env, &st->nenv, s->argv[1]);
  else if (strcmp (name, "home") == 0 && s->argc == 2)
    home_step (st, s->argv[1]);
  else if (strcmp (name, "lookup") == 0)
    lookup_step (st);
  else if (strcmp (name, "hook") == 0 && s->argc >= 5)
    hook_step (s);
  else if (strcmp (name, "close-fds") == 0)
    {
      if (sb_close_range (3, ~0U, SB_CLOSE_RANGE_CLOEXEC) < 0)
        die_errno (errno, "mark inherited fds close-on-exec");
    }
  else if (strcmp (name, "exec") == 0)
    {
      if (st->exec_path == NULL)
        lookup_step (st);
      execve (st->exec_path, st->args, st->env ? st->env : (char *[]){ NULL });
      die_errno (errno, "exec `%s`", st->exec_path);
    }
  else
    die ("malformed plan step `%s` with %d fields", name, s->argc - 1);
}
