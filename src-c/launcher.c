/* sysbox-runc, the program Docker and containerd run: it starts Node with the runtime's bundled
 * command line, lib/sysbox-runc.js.
 *
 * Node takes some 25 ms to start on the machines this project runs on, and containerd's shim
 * runs the runtime four times per container.  Three of those calls usually need nothing Node
 * offers, so this program answers them itself:
 *
 *   - `delete --force ID` of a container that is not there, which the shim runs when it stops,
 *     after the real delete: it succeeds, as in runc;
 *   - `start ID` of a created container without poststart hooks: one byte into its exec fifo;
 *   - `delete ID` of a container whose init has exited (or, with --force, whose processes it
 *     kills) and that left a `teardown` file (written by create when deleting means no more
 *     than copying overlay's opaque marks and removing its cgroups, its ID range, the mount of
 *     its /proc server and its state): the shim runs it as soon as the container stops.
 *
 * Anything else, and any doubt (an unknown flag, no --root, a fifo nobody reads), goes to Node,
 * which does the full checks and reports errors: to a warm worker, a Node that started before
 * the call came (relay.c), for the shim's calls, or else to a Node started now.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "relay.h"

#ifndef SYSBOX_NODE
#define SYSBOX_NODE "/usr/bin/node"
#endif

struct call
{
  const char *root;
  const char *command;
  const char *id;
  int force;
};

static int
valid_id (const char *id)
{
  if (id == NULL || *id == '\0' || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return 0;
  for (const char *p = id; *p; p++)
    if (! ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
           || strchr ("_+-.", *p)))
      return 0;
  return strlen (id) <= 1024;
}

/* Skips the global flags go-runc passes; returns the index of the subcommand, or -1 at a flag
 * this does not know.  Sets `root` from --root, and `config` when --config is given.  */
static int
command_index (int argc, char **argv, const char **root, int *config)
{
  static const char *const valued[] = { "--root", "--log", "--log-format", "--config", "--criu" };
  static const char *const switches[] = { "--debug", "--systemd-cgroup" };
  int i = 1;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      int known = 0;

      for (size_t k = 0; k < sizeof switches / sizeof switches[0]; k++)
        known |= strcmp (argv[i], switches[k]) == 0;
      /* Docker passes runtimeArgs as given; this one only matters to create.  */
      known |= strncmp (argv[i], "--inner-docker-image-sharing=", 29) == 0;
      for (size_t k = 0; ! known && k < sizeof valued / sizeof valued[0]; k++)
        if (strcmp (argv[i], valued[k]) == 0 && i + 1 < argc)
          {
            if (strcmp (valued[k], "--root") == 0)
              *root = argv[i + 1];
            if (strcmp (valued[k], "--config") == 0)
              *config = 1;
            i++;
            known = 1;
          }
      if (! known)
        return -1;
    }
  return i < argc ? i : -1;
}

/* Takes one subcommand the launcher may answer itself, with its id; 0 when unsure.  */
static int
parse (int argc, char **argv, struct call *c)
{
  int config = 0;
  int i = command_index (argc, argv, &c->root, &config);

  if (i < 0 || config || c->root == NULL)
    return 0;
  c->command = argv[i++];
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (c->command, "delete") == 0
          && (strcmp (argv[i], "--force") == 0 || strcmp (argv[i], "-f") == 0))
        c->force = 1;
      else
        return 0;
    }

  if (i + 1 != argc || ! valid_id (argv[i]))
    return 0;
  c->id = argv[i];
  return 1;
}

static int
exists (const char *root, const char *id, const char *name)
{
  char path[PATH_MAX];
  struct stat sb;

  if (snprintf (path, sizeof path, "%s/%s%s%s", root, id, name ? "/" : "", name ? name : "")
      >= (int) sizeof path)
    return -1;
  return lstat (path, &sb) == 0 ? 1 : (errno == ENOENT ? 0 : -1);
}

/* Returns 1 when the container started, 0 to leave the call to Node.  */
static int
try_start (const struct call *c)
{
  char path[PATH_MAX];
  int fd;

  if (exists (c->root, c->id, "poststart-hooks") != 0)
    return 0;
  if (snprintf (path, sizeof path, "%s/%s/exec.fifo", c->root, c->id) >= (int) sizeof path)
    return 0;

  /* Without a reader waiting, this fails at once (ENXIO) and Node explains why.  */
  fd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return 0;

  if (write (fd, "0", 1) != 1)
    {
      close (fd);
      return 0;
    }

  close (fd);
  unlink (path);
  return 1;
}

#define MAX_CGROUPS 32

struct teardown
{
  long pid;
  unsigned long long start_time;
  char *cgroups[MAX_CGROUPS];
  int ncgroups;
  char *range_file;
  char *range_owner;
  char *upper;
  char *fuse;
};

static void
free_teardown (struct teardown *td)
{
  for (int i = 0; i < td->ncgroups; i++)
    free (td->cgroups[i]);
  free (td->range_file);
  free (td->range_owner);
  free (td->upper);
  free (td->fuse);
}

/* Reads the tab-separated teardown file; 0 when it is missing or not as create writes it.  */
static int
read_teardown (const char *file, struct teardown *td)
{
  FILE *f = fopen (file, "re");
  char *line = NULL, *save = NULL;
  size_t cap = 0;
  int ok = 1;

  if (f == NULL)
    return 0;
  while (ok && getline (&line, &cap, f) > 0)
    {
      char *kind = strtok_r (line, "\t\n", &save);
      char *a = strtok_r (NULL, "\t\n", &save);
      char *b = strtok_r (NULL, "\t\n", &save);

      if (kind == NULL || a == NULL)
        ok = 0;
      else if (strcmp (kind, "pid") == 0 && b != NULL)
        {
          td->pid = strtol (a, NULL, 10);
          td->start_time = strtoull (b, NULL, 10);
        }
      else if (strcmp (kind, "cgroup") == 0 && td->ncgroups < MAX_CGROUPS && a[0] == '/')
        td->cgroups[td->ncgroups++] = strdup (a);
      else if (strcmp (kind, "opaque") == 0 && td->upper == NULL && a[0] == '/')
        td->upper = strdup (a);
      else if (strcmp (kind, "fuse") == 0 && td->fuse == NULL && a[0] == '/')
        td->fuse = strdup (a);
      else if (strcmp (kind, "range") == 0 && b != NULL && td->range_file == NULL)
        {
          td->range_file = strdup (a);
          td->range_owner = strdup (b);
        }
      else
        ok = 0;
    }
  free (line);
  fclose (f);
  return ok && td->pid > 0;
}

/* Whether `pid` is still the process that was the container's init (and not a zombie).  */
static int
init_alive (long pid, unsigned long long start_time)
{
  char path[64], buf[1024], *p;
  unsigned long long start = 0;
  char state = 0;
  ssize_t n;
  int fd;

  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 1;
  buf[n] = '\0';
  p = strrchr (buf, ')');
  /* After the name: state, then 18 fields up to starttime.  */
  if (p == NULL || sscanf (p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                                   "%*s %*s %*s %*s %llu", &state, &start) != 2)
    return 1;
  return start == start_time && state != 'Z' && state != 'X';
}

/* Whether the cgroup directory holds no process (or is gone).  */
static int
cgroup_empty (const char *dir)
{
  char path[PATH_MAX], c;
  ssize_t n;
  int fd;

  if (snprintf (path, sizeof path, "%s/cgroup.procs", dir) >= (int) sizeof path)
    return 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT;
  n = read (fd, &c, 1);
  close (fd);
  return n == 0;
}

/* Whether the freezer cgroup among `td`'s, if any, is thawed: a frozen task does not die.  */
static int
thawed (const struct teardown *td)
{
  for (int i = 0; i < td->ncgroups; i++)
    {
      char path[PATH_MAX], state[16] = "";
      const char *dir = td->cgroups[i];
      ssize_t n;
      int fd;

      if (strstr (dir, "/freezer/") == NULL
          || snprintf (path, sizeof path, "%s/freezer.state", dir) >= (int) sizeof path)
        continue;
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      n = read (fd, state, sizeof state - 1);
      close (fd);
      if (n <= 0 || strncmp (state, "THAWED", 6) != 0)
        return 0;
    }
  return 1;
}

/* `delete --force` of a running container: SIGKILL to every process in its cgroups until they
 * are empty, as runc does; 0 if they do not empty within a second.  */
static int
kill_all (const struct teardown *td)
{
  for (int round = 0; round < 1000; round++)
    {
      int left = 0;

      for (int i = 0; i < td->ncgroups; i++)
        {
          char path[PATH_MAX], buf[4096];
          ssize_t n;
          int fd;

          if (snprintf (path, sizeof path, "%s/cgroup.procs", td->cgroups[i]) >= (int) sizeof path)
            return 0;
          fd = open (path, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            continue;
          while ((n = read (fd, buf, sizeof buf - 1)) > 0)
            {
              buf[n] = '\0';
              for (char *p = buf, *end; *p; p = end)
                {
                  long pid = strtol (p, &end, 10);

                  if (end == p)
                    break;
                  if (pid > 0 && kill ((pid_t) pid, SIGKILL) == 0)
                    left = 1;
                }
            }
          close (fd);
        }
      if (! left)
        return 1;
      usleep (1000);
    }
  return 0;
}

/* Copies overlay's opaque mark from the spelling the container's overlay writes (user.*, it
 * runs with userxattr) to the one Docker's reads (trusted.*), for every directory below `fd`,
 * so that a commit of the stopped container keeps a directory it replaced as replaced.  The
 * tree is the container's: nothing is followed, and the container has no process left.  */
static int
translate_opaque (int fd)
{
  DIR *dir = fdopendir (fd);
  struct dirent *e;
  int ok = 1;

  if (dir == NULL)
    {
      close (fd);
      return 0;
    }
  while (ok && (e = readdir (dir)) != NULL)
    {
      char mark[64];
      ssize_t n;
      int sub;

      if (e->d_type != DT_DIR || strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      sub = openat (dirfd (dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        {
          ok = 0;
          break;
        }
      n = fgetxattr (sub, "user.overlay.opaque", mark, sizeof mark);
      if (n > 0 && fsetxattr (sub, "trusted.overlay.opaque", mark, (size_t) n, 0) < 0)
        ok = 0;
      if (n < 0 && errno != ENODATA && errno != ENOTSUP)
        ok = 0;
      if (ok)
        ok = translate_opaque (sub);
      else
        close (sub);
    }
  closedir (dir);
  return ok;
}

/* Removes what `dirfd` holds, then the directory `name` in `parent`; the state directory is
 * the runtime's own, so nothing in it is followed.  */
static int
remove_tree (int parent, const char *name)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *dir;
  struct dirent *e;
  int ok = 1;

  if (fd < 0)
    return errno == ENOENT;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return 0;
    }
  while (ok && (e = readdir (dir)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (e->d_type == DT_DIR)
        ok = remove_tree (dirfd (dir), e->d_name);
      else if (unlinkat (dirfd (dir), e->d_name, 0) < 0 && errno != ENOENT)
        ok = 0;
    }
  closedir (dir);
  return ok && (unlinkat (parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT);
}

/* Returns 1 when the stopped container is gone, 0 to leave the call to Node, which also finishes
 * anything this began: each step here is one that Node's delete takes in the same order.  */
static int
try_delete (const struct call *c)
{
  struct teardown td = { 0 };
  char path[PATH_MAX], owner[PATH_MAX];
  int done = 0, rootfd;

  if (snprintf (path, sizeof path, "%s/%s/teardown", c->root, c->id) >= (int) sizeof path
      || ! read_teardown (path, &td))
    goto out;
  if (init_alive (td.pid, td.start_time) && ! (c->force && thawed (&td) && kill_all (&td)))
    goto out;
  for (int i = 0; i < td.ncgroups; i++)
    if (! cgroup_empty (td.cgroups[i]))
      goto out;
  if (td.upper != NULL)
    {
      int fd = open (td.upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || ! translate_opaque (fd))
        goto out;
    }
  for (int i = 0; i < td.ncgroups; i++)
    if (rmdir (td.cgroups[i]) < 0 && errno != ENOENT)
      goto out;

  if (td.range_file != NULL)
    {
      int fd = open (td.range_file, O_RDONLY | O_CLOEXEC);
      ssize_t n = fd >= 0 ? read (fd, owner, sizeof owner - 1) : -1;

      if (fd >= 0)
        close (fd);
      if (n > 0)
        {
          owner[n] = '\0';
          if (strcmp (owner, td.range_owner) == 0 && unlink (td.range_file) < 0 && errno != ENOENT)
            goto out;
        }
    }

  /* The mount of the container's /proc server, which exits with the container but leaves its
   * mount behind if it was killed first.  */
  if (td.fuse != NULL && umount2 (td.fuse, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL
      && errno != ENOENT)
    goto out;

  rootfd = open (c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    goto out;
  done = remove_tree (rootfd, c->id);
  close (rootfd);

out:
  free_teardown (&td);
  return done;
}

/* The bundled command line, <package>/lib/sysbox-runc.js, found from this program's own path,
 * <package>/build/Release/sysbox-runc.  */
static void
find_script (char *script, size_t size)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *dir;

  if (n < 0)
    {
      perror ("sysbox-runc: find the runtime");
      exit (1);
    }
  self[n] = '\0';

  for (int up = 0; up < 3; up++)
    {
      dir = strrchr (self, '/');
      if (dir == NULL)
        break;
      *dir = '\0';
    }
  snprintf (script, size, "%s/lib/sysbox-runc.js", self);
}

static void
run_node (int argc, char **argv, char *script)
{
  char **args = calloc ((size_t) argc + 2, sizeof (char *));

  if (args == NULL)
    {
      perror ("sysbox-runc: run the runtime");
      exit (1);
    }
  args[0] = (char *) SYSBOX_NODE;
  args[1] = script;
  for (int i = 1; i < argc; i++)
    args[i + 1] = argv[i];

  /* The runtime makes no TLS connection; parsing a certificate bundle would cost every call.
   * And it runs with its own Node settings: options its caller set for its own Node (a test
   * runner's loader, say, which dockerd passes on to every shim) must not change or break it.  */
  unsetenv ("NODE_EXTRA_CA_CERTS");
  unsetenv ("NODE_OPTIONS");
  execv (SYSBOX_NODE, args);
  fprintf (stderr, "sysbox-runc: exec %s: %s\n", SYSBOX_NODE, strerror (errno));
  exit (1);
}

int
main (int argc, char **argv)
{
  struct call c = { 0 };
  char script[PATH_MAX + 32];
  const char *root = NULL;
  int config = 0, at;

  if (parse (argc, argv, &c))
    {
      if (strcmp (c.command, "delete") == 0 && c.force && exists (c.root, c.id, NULL) == 0)
        return 0;
      if (strcmp (c.command, "delete") == 0 && try_delete (&c))
        return 0;
      if (strcmp (c.command, "start") == 0 && try_start (&c))
        return 0;
    }

  find_script (script, sizeof script);
  at = command_index (argc, argv, &root, &config);
  relay_to_worker (SYSBOX_NODE, script, at >= 0 ? argv[at] : NULL, argc, argv);
  run_node (argc, argv, script);
  return 1;
}
