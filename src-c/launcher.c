/* sysbox-runc, the program Docker and containerd run: it starts Node with the runtime's bundled
 * command line, lib/sysbox-runc.js.
 *
 * Node takes some 30 ms to start on the machines this project runs on, and containerd's shim
 * runs the runtime four times per container.  Two of those calls need nothing Node offers, so
 * this program answers them itself:
 *
 *   - `delete --force ID` of a container that is not there, which the shim runs when it stops,
 *     after the real delete: it succeeds, as in runc;
 *   - `start ID` of a created container without poststart hooks: one byte into its exec fifo.
 *
 * Anything else, and any doubt (an unknown flag, no --root, a fifo nobody reads), goes to Node,
 * which does the full checks and reports errors.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Takes the global flags go-runc passes and one subcommand with its id; 0 when unsure.  */
static int
parse (int argc, char **argv, struct call *c)
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
              c->root = argv[i + 1];
            if (strcmp (valued[k], "--config") == 0)
              return 0;
            i++;
            known = 1;
          }
      if (! known)
        return 0;
    }

  if (i >= argc || c->root == NULL)
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

static void
run_node (int argc, char **argv)
{
  char self[PATH_MAX], script[PATH_MAX + 32];
  char **args = calloc ((size_t) argc + 2, sizeof (char *));
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *dir;

  if (args == NULL || n < 0)
    {
      perror ("sysbox-runc: find the runtime");
      exit (1);
    }
  self[n] = '\0';

  /* This program is <package>/build/Release/sysbox-runc.  */
  for (int up = 0; up < 3; up++)
    {
      dir = strrchr (self, '/');
      if (dir == NULL)
        break;
      *dir = '\0';
    }
  snprintf (script, sizeof script, "%s/lib/sysbox-runc.js", self);

  args[0] = (char *) SYSBOX_NODE;
  args[1] = script;
  for (int i = 1; i < argc; i++)
    args[i + 1] = argv[i];

  /* The runtime makes no TLS connection; parsing a certificate bundle would cost every call.  */
  unsetenv ("NODE_EXTRA_CA_CERTS");
  execv (SYSBOX_NODE, args);
  fprintf (stderr, "sysbox-runc: exec %s: %s\n", SYSBOX_NODE, strerror (errno));
  exit (1);
}

int
main (int argc, char **argv)
{
  struct call c = { 0 };

  if (parse (argc, argv, &c))
    {
      if (strcmp (c.command, "delete") == 0 && c.force && exists (c.root, c.id, NULL) == 0)
        return 0;
      if (strcmp (c.command, "start") == 0 && try_start (&c))
        return 0;
    }

  run_node (argc, argv);
  return 1;
}
