/* Steps that assemble the container's root: the staging area, the ID-mapped layers and the
 * overlay over them, the config's mounts, masks, and the switch to the new root.
 *
 * Every path inside the container is resolved with openat2(RESOLVE_IN_ROOT) against the new root,
 * so a symlink in the image can never send a mount to a place on the host.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../common/kernel.h"
#include "init.h"

#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

static const char *const rootfs_steps[] = {
  "propagation", "stage",     "stage-open", "root-overlay", "root-fd",  "mount",
  "mount-fd",    "symlink",   "mask",       "readonly",     "pivot",    "move-root",
  "hostname",    "domainname", "sysctl",    "root-readonly", "pin-ns",  "pin",
  "mount-pin",   "graft",
};

int
step_is_rootfs (const char *name)
{
  for (size_t i = 0; i < sizeof rootfs_steps / sizeof rootfs_steps[0]; i++)
    if (strcmp (rootfs_steps[i], name) == 0)
      return 1;
  return 0;
}

static char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *out;

  va_start (ap, fmt);
  if (vasprintf (&out, fmt, ap) < 0)
    die ("out of memory");
  va_end (ap);
  return out;
}

static char *
fd_path (int fd)
{
  return xasprintf ("/proc/self/fd/%d", fd);
}

static int
open_in_root (int root_fd, const char *path, int flags)
{
  struct sb_open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? 0644 : 0,
    .resolve = SB_RESOLVE_IN_ROOT | SB_RESOLVE_NO_MAGICLINKS,
  };

  while (*path == '/')
    path++;
  return sb_openat2 (root_fd, *path ? path : ".", &how);
}

/* Opens `path` inside the new root, first creating it (and its parents) as a directory or, with
 * `kind` "f", as an empty file, as runc does for mount targets.  */
static int
ensure_in_root (int root_fd, const char *path, char kind)
{
  char *copy, *slash;
  int fd;

  fd = open_in_root (root_fd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT)
    return fd;

  copy = strdup (path);
  if (copy == NULL)
    die ("out of memory");

  for (slash = strchr (copy + 1, '/');; slash = strchr (slash + 1, '/'))
    {
      int is_last = slash == NULL;
      char *name;
      int parent;

      if (! is_last)
        *slash = '\0';

      name = strrchr (copy, '/');
      *name = '\0';
      parent = open_in_root (root_fd, copy, O_PATH | O_DIRECTORY);
      *name = '/';
      if (parent < 0)
        die_errno (errno, "open the parent of `%s` in the container", copy);

      if (is_last && kind == 'f')
        {
          /* Resolved in the root too: a symlink in the image must not make this create a file
           * on the host.  */
          int f = open_in_root (root_fd, copy, O_CREAT | O_WRONLY);

          if (f < 0)
            die_errno (errno, "create the mount target `%s` in the container", copy);
          close (f);
        }
      else if (mkdirat (parent, name + 1, 0755) < 0 && errno != EEXIST)
        die_errno (errno, "create the directory `%s` in the container", copy);

      close (parent);
      if (is_last)
        break;
      *slash = '/';
    }

  free (copy);
  return open_in_root (root_fd, path, O_PATH);
}

static unsigned long
current_flags (const char *path)
{
  struct statvfs sv;
  unsigned long flags = 0;

  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY)
    flags |= MS_RDONLY;
  return flags;
}

/* Adds per-mount flags to a bind mount.  A bind inherits the flags of its source, and a user
 * namespace may not clear the ones a more privileged namespace set, so they are kept.  */
static void
remount_bind (const char *path, unsigned long flags, const char *shown)
{
  unsigned long base = MS_BIND | MS_REMOUNT;

  /* A remount sets the per-mount flags as given; the ones the mount has (nodev on every mount
   * made from host storage) are added, so that making a mount read-only never loses them.  */
  if (mount (NULL, path, NULL, base | flags | current_flags (path), NULL) < 0)
    die_errno (errno, "remount `%s` with its options", shown);
}

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define PER_MOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME \
                         | MS_RELATIME | MS_STRICTATIME)

/* mount SOURCE TARGET FSTYPE FLAGS DATA KIND  */
static void
mount_step (struct step *s, struct init_state *st)
{
  unsigned long flags = (unsigned long) parse_long (s->argv[4], "mount flags");
  const char *data = *s->argv[5] ? s->argv[5] : NULL;
  unsigned long first = flags & ~PROPAGATION_FLAGS;
  char *target;
  int fd;

  fd = ensure_in_root (st->root_fd, s->argv[2], s->argv[6][0]);
  if (fd < 0)
    die_errno (errno, "open the mount target `%s` in the container", s->argv[2]);

  target = fd_path (fd);
  if (flags & MS_BIND)
    first &= ~PER_MOUNT_FLAGS;

  if (mount (s->argv[1], target, s->argv[3], first, data) < 0)
    die_errno (errno, "mount `%s` (%s) on `%s`", s->argv[1], s->argv[3], s->argv[2]);

  /* The fd still names the directory under the new mount; later changes must reach the mount.  */
  close (fd);
  free (target);
  fd = open_in_root (st->root_fd, s->argv[2], O_PATH);
  if (fd < 0)
    die_errno (errno, "reopen the mount target `%s`", s->argv[2]);
  target = fd_path (fd);

  if ((flags & MS_BIND) && (flags & PER_MOUNT_FLAGS))
    remount_bind (target, flags & PER_MOUNT_FLAGS, s->argv[2]);

  if (flags & PROPAGATION_FLAGS)
    {
      unsigned long propagation = flags & (PROPAGATION_FLAGS | MS_REC);

      if (mount (NULL, target, NULL, propagation, NULL) < 0)
        die_errno (errno, "set the propagation of `%s`", s->argv[2]);
    }

  free (target);
  close (fd);
}

/* mount-fd FD TARGET KIND FLAGS: attaches a detached (ID-mapped) mount made by the runtime.  */
static void
mount_fd_step (struct step *s, struct init_state *st)
{
  int mfd = (int) parse_long (s->argv[1], "fd");
  unsigned long flags = (unsigned long) parse_long (s->argv[4], "mount flags");
  char *target;
  int fd;

  fd = ensure_in_root (st->root_fd, s->argv[2], s->argv[3][0]);
  if (fd < 0)
    die_errno (errno, "open the mount target `%s` in the container", s->argv[2]);

  if (sb_move_mount (mfd, "", fd, "", SB_MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno (errno, "attach the id-mapped mount on `%s`", s->argv[2]);

  close (mfd);
  close (fd);
  if (flags & PER_MOUNT_FLAGS)
    {
      fd = open_in_root (st->root_fd, s->argv[2], O_PATH);
      if (fd < 0)
        die_errno (errno, "reopen `%s` in the container", s->argv[2]);
      target = fd_path (fd);
      remount_bind (target, flags & PER_MOUNT_FLAGS, s->argv[2]);
      free (target);
      close (fd);
    }
}

#define MAX_GRAFTED 256

/* graft DIR: puts a tmpfs over DIR that holds what DIR held, each entry a bind mount of the
 * original (a symlink, a copy), so that files the kernel lacks can be added there without
 * hiding the rest: a DMI product UUID on a machine without DMI, in the container's sysfs.  */
static void
graft_step (struct step *s, struct init_state *st)
{
  struct
  {
    char name[256];
    char link[PATH_MAX];
    int tree;
  } *kept = calloc (MAX_GRAFTED, sizeof *kept);
  int dirfd, n = 0;
  struct dirent *e;
  char *target;
  DIR *dir;

  dirfd = open_in_root (st->root_fd, s->argv[1], O_RDONLY | O_DIRECTORY);
  if (kept == NULL || dirfd < 0 || (dir = fdopendir (dup (dirfd))) == NULL)
    die_errno (errno, "open `%s` to graft", s->argv[1]);

  while ((e = readdir (dir)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (n == MAX_GRAFTED || strlen (e->d_name) >= sizeof kept[n].name)
        die_errno (E2BIG, "graft `%s`: too many or too long entries", s->argv[1]);
      strcpy (kept[n].name, e->d_name);
      kept[n].tree = -1;
      if (e->d_type == DT_LNK)
        {
          ssize_t len = readlinkat (dirfd, e->d_name, kept[n].link, sizeof kept[n].link - 1);

          if (len < 0)
            die_errno (errno, "read the link `%s` in `%s`", e->d_name, s->argv[1]);
          kept[n].link[len] = '\0';
        }
      else
        {
          kept[n].tree = sb_open_tree (dirfd, e->d_name,
                                       SB_OPEN_TREE_CLONE | SB_OPEN_TREE_CLOEXEC | SB_AT_RECURSIVE);
          if (kept[n].tree < 0)
            die_errno (errno, "clone `%s` in `%s`", e->d_name, s->argv[1]);
        }
      n++;
    }
  closedir (dir);

  target = fd_path (dirfd);
  if (mount ("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    die_errno (errno, "mount a tmpfs over `%s`", s->argv[1]);
  close (dirfd);
  free (target);
  dirfd = open_in_root (st->root_fd, s->argv[1], O_RDONLY | O_DIRECTORY);
  if (dirfd < 0)
    die_errno (errno, "reopen `%s`", s->argv[1]);

  for (int i = 0; i < n; i++)
    {
      if (kept[i].tree < 0)
        {
          if (symlinkat (kept[i].link, dirfd, kept[i].name) < 0)
            die_errno (errno, "link `%s` in `%s`", kept[i].name, s->argv[1]);
          continue;
        }
      if (mkdirat (dirfd, kept[i].name, 0755) < 0
          || sb_move_mount (kept[i].tree, "", dirfd, kept[i].name, SB_MOVE_MOUNT_F_EMPTY_PATH)
                 < 0)
        die_errno (errno, "put `%s` back in `%s`", kept[i].name, s->argv[1]);
      close (kept[i].tree);
    }
  close (dirfd);
  free (kept);
}

/* pin-ns: a mount namespace of the host's user namespace, private to this process, where `pin`
 * steps attach the shared store's read-only layers before the container's namespaces exist.
 * When the container's mount namespace is then copied from this one into the container's user
 * namespace, the kernel locks those mounts read-only: root in the container cannot remount them
 * read-write, nor any bind mount made of them, so no container can change what others share.  */
static void
pin_ns_step (void)
{
  if (unshare (CLONE_NEWNS) < 0)
    die_errno (errno, "unshare a mount namespace for the shared layers");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die_errno (errno, "make the shared layers' mount namespace private");
}

/* pin FD DIR: attaches a detached read-only mount at DIR (relative to the staging directory).  */
static void
pin_step (struct step *s)
{
  int fd = (int) parse_long (s->argv[1], "fd");

  if (sb_move_mount (fd, "", AT_FDCWD, s->argv[2], SB_MOVE_MOUNT_F_EMPTY_PATH) < 0)
    die_errno (errno, "attach the shared layer on `%s`", s->argv[2]);
  close (fd);
}

/* mount-pin DIR TARGET: binds a pinned layer, which stays locked read-only, onto TARGET in the
 * new root.  DIR is relative to the staging directory, whose tmpfs is the current directory.  */
static void
mount_pin_step (struct step *s, struct init_state *st)
{
  char *from = xasprintf ("../%s", s->argv[1]);
  int mfd, fd;

  mfd = sb_open_tree (AT_FDCWD, from, SB_OPEN_TREE_CLONE | SB_OPEN_TREE_CLOEXEC);
  if (mfd < 0)
    die_errno (errno, "clone the shared layer at `%s`", s->argv[1]);
  fd = ensure_in_root (st->root_fd, s->argv[2], 'd');
  if (fd < 0)
    die_errno (errno, "open the mount target `%s` in the container", s->argv[2]);
  if (sb_move_mount (mfd, "", fd, "", SB_MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno (errno, "mount the shared layer on `%s`", s->argv[2]);
  close (mfd);
  close (fd);
  free (from);
}

/* stage-open DIR: enters the staging directory while still host root, because the container's
 * root may not search the runtime's state directories (containerd's are 0700).  The working
 * directory follows the process into the mount namespace it unshares later.  */
static void
stage_open_step (struct step *s)
{
  if (chdir (s->argv[1]) < 0)
    die_errno (errno, "enter the staging directory `%s`", s->argv[1]);
}

/* stage: mounts a private tmpfs on `mnt` in the staging directory and moves into it, which also
 * keeps the overlay's layer paths short and relative.  */
static void
stage_step (struct init_state *st)
{
  if (mount ("tmpfs", "mnt", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    die_errno (errno, "mount the staging tmpfs");

  if (chdir ("mnt") < 0)
    die_errno (errno, "enter the staging tmpfs");

  st->root_path = strdup ("root");
  if (mkdir (st->root_path, 0755) < 0)
    die_errno (errno, "create the staging root");
}

static char *
attach_layer (struct init_state *st, const char *fdstr, const char *name)
{
  int fd = (int) parse_long (fdstr, "fd");
  char *path = strdup (name);

  if (mkdir (path, 0755) < 0)
    die_errno (errno, "create `%s`", path);

  if (sb_move_mount (fd, "", AT_FDCWD, path, SB_MOVE_MOUNT_F_EMPTY_PATH) < 0)
    die_errno (errno, "attach layer %s of the rootfs", name);

  close (fd);
  return path;
}

static void
open_root (struct init_state *st)
{
  st->root_fd = open (st->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (st->root_fd < 0)
    die_errno (errno, "open the new root `%s`", st->root_path);
}

/* root-overlay UPPERFD UPPER WORK OPTIONS LOWERFD...: rebuilds the image's overlay from inside the
 * container's user namespace, over ID-mapped copies of its layers, so that files the image owns
 * as root appear owned by the container's root and writes land in the same upper directory.  */
static void
root_overlay_step (struct step *s, struct init_state *st)
{
  char *upper_mnt = attach_layer (st, s->argv[1], "u");
  size_t cap = 4096, len = 0;
  char *data = malloc (cap);

  if (data == NULL)
    die ("out of memory");

  len += (size_t) snprintf (data, cap, "lowerdir=");
  for (int i = 5; i < s->argc; i++)
    {
      char name[32];
      char *lower;

      snprintf (name, sizeof name, "%d", i - 5);
      lower = attach_layer (st, s->argv[i], name);
      len += (size_t) snprintf (data + len, cap - len, "%s%s", i > 5 ? ":" : "", lower);
      free (lower);
      if (len >= cap)
        die ("the overlay options for %d layers exceed a page", s->argc - 5);
    }

  len += (size_t) snprintf (data + len, cap - len, ",upperdir=%s/%s,workdir=%s/%s%s%s", upper_mnt,
                            s->argv[2], upper_mnt, s->argv[3], *s->argv[4] ? "," : "", s->argv[4]);
  if (len >= cap)
    die ("the overlay options exceed a page");

  if (mount ("overlay", st->root_path, "overlay", 0, data) < 0)
    die_errno (errno, "mount the container's overlay rootfs (%s)", data);

  /* The overlay holds its own references to the layers; the attached copies, writable and
   * ID-mapped, must not stay reachable from inside the container.  */
  for (int i = 5; i <= s->argc; i++)
    {
      char name[32];

      snprintf (name, sizeof name, i == s->argc ? "u" : "%d", i - 5);
      if (umount2 (name, MNT_DETACH) < 0)
        die_errno (errno, "detach layer %s of the rootfs", name);
    }

  free (data);
  free (upper_mnt);
  open_root (st);
}

static void
root_fd_step (struct step *s, struct init_state *st)
{
  int fd = (int) parse_long (s->argv[1], "fd");

  if (sb_move_mount (fd, "", AT_FDCWD, st->root_path, SB_MOVE_MOUNT_F_EMPTY_PATH) < 0)
    die_errno (errno, "attach the id-mapped rootfs");

  close (fd);
  open_root (st);
}

/* mask PATH: hides a file behind /dev/null or a directory behind an empty read-only tmpfs.  */
static void
mask_step (struct step *s, struct init_state *st)
{
  struct stat sb;
  char *target;
  int fd = open_in_root (st->root_fd, s->argv[1], O_PATH);

  if (fd < 0 && errno == ENOENT)
    return;
  if (fd < 0)
    die_errno (errno, "open the masked path `%s`", s->argv[1]);

  if (fstat (fd, &sb) < 0)
    die_errno (errno, "stat the masked path `%s`", s->argv[1]);

  target = fd_path (fd);
  if (S_ISDIR (sb.st_mode))
    {
      if (mount ("tmpfs", target, "tmpfs", MS_RDONLY, "size=0") < 0)
        die_errno (errno, "mask the directory `%s`", s->argv[1]);
    }
  else if (mount ("/dev/null", target, NULL, MS_BIND, NULL) < 0)
    die_errno (errno, "mask the file `%s`", s->argv[1]);

  free (target);
  close (fd);
}

static void
readonly_step (struct step *s, struct init_state *st)
{
  char *target;
  int fd = open_in_root (st->root_fd, s->argv[1], O_PATH);

  if (fd < 0 && errno == ENOENT)
    return;
  if (fd < 0)
    die_errno (errno, "open the read-only path `%s`", s->argv[1]);

  target = fd_path (fd);
  if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    die_errno (errno, "bind `%s` onto itself", s->argv[1]);

  close (fd);
  free (target);

  /* Reopen: the fd above points below the new bind mount.  */
  fd = open_in_root (st->root_fd, s->argv[1], O_PATH);
  if (fd < 0)
    die_errno (errno, "reopen `%s`", s->argv[1]);
  target = fd_path (fd);
  remount_bind (target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, s->argv[1]);
  free (target);
  close (fd);
}

static void
symlink_step (struct step *s, struct init_state *st)
{
  char *copy = strdup (s->argv[2]);
  char *name = strrchr (copy, '/');
  int parent;

  if (name == NULL)
    die ("symlink path `%s` is not absolute", s->argv[2]);
  *name = '\0';
  parent = open_in_root (st->root_fd, *copy ? copy : "/", O_PATH | O_DIRECTORY);
  if (parent < 0)
    die_errno (errno, "open the parent of `%s`", s->argv[2]);

  if (symlinkat (s->argv[1], parent, name + 1) < 0 && errno != EEXIST)
    die_errno (errno, "create the symlink `%s`", s->argv[2]);

  close (parent);
  free (copy);
}

/* After the switch, paths are still resolved in the root so that masks and read-only paths,
 * applied after the sysctls that need them writable, cannot be redirected by symlinks.  */
static void
reopen_root (struct init_state *st)
{
  close (st->root_fd);
  st->root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (st->root_fd < 0)
    die_errno (errno, "open the new root");
}

/* Switches to the new root.  pivot_root(".", ".") stacks the old root under the new one, and the
 * lazy unmount then drops the host's whole tree from this mount namespace.  */
static void
pivot_step (struct init_state *st)
{
  if (fchdir (st->root_fd) < 0)
    die_errno (errno, "chdir to the new root");

  if (syscall (SYS_pivot_root, ".", ".") < 0)
    die_errno (errno, "pivot_root");

  if (umount2 (".", MNT_DETACH) < 0)
    die_errno (errno, "detach the old root");

  if (chdir ("/") < 0)
    die_errno (errno, "chdir to /");

  reopen_root (st);
}

/* For --no-pivot: moves the new root over / and chroots, leaving the host tree underneath.  */
static void
move_root_step (struct init_state *st)
{
  if (fchdir (st->root_fd) < 0)
    die_errno (errno, "chdir to the new root");

  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    die_errno (errno, "move the new root onto /");

  if (chroot (".") < 0)
    die_errno (errno, "chroot into the new root");

  if (chdir ("/") < 0)
    die_errno (errno, "chdir to /");

  reopen_root (st);
}

static void
sysctl_step (struct step *s)
{
  char *path = xasprintf ("/proc/sys/%s", s->argv[1]);

  for (char *p = path + strlen ("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  write_proc_file (path, s->argv[2]);
  free (path);
}

void
run_rootfs_step (struct step *s, struct init_state *st)
{
  const char *name = s->argv[0];

  if (strcmp (name, "propagation") == 0 && s->argc == 2)
    {
      if (mount (NULL, "/", NULL, (unsigned long) parse_long (s->argv[1], "flags"), NULL) < 0)
        die_errno (errno, "set the propagation of the container's mounts");
    }
  else if (strcmp (name, "stage-open") == 0 && s->argc == 2)
    stage_open_step (s);
  else if (strcmp (name, "stage") == 0)
    stage_step (st);
  else if (strcmp (name, "pin-ns") == 0)
    pin_ns_step ();
  else if (strcmp (name, "pin") == 0 && s->argc == 3)
    pin_step (s);
  else if (strcmp (name, "mount-pin") == 0 && s->argc == 3)
    mount_pin_step (s, st);
  else if (strcmp (name, "root-overlay") == 0 && s->argc >= 6)
    root_overlay_step (s, st);
  else if (strcmp (name, "root-fd") == 0 && s->argc == 2)
    root_fd_step (s, st);
  else if (strcmp (name, "mount") == 0 && s->argc == 7)
    mount_step (s, st);
  else if (strcmp (name, "graft") == 0 && s->argc == 2)
    graft_step (s, st);
  else if (strcmp (name, "mount-fd") == 0 && s->argc == 5)
    mount_fd_step (s, st);
  else if (strcmp (name, "symlink") == 0 && s->argc == 3)
    symlink_step (s, st);
  else if (strcmp (name, "mask") == 0 && s->argc == 2)
    mask_step (s, st);
  else if (strcmp (name, "readonly") == 0 && s->argc == 2)
    readonly_step (s, st);
  else if (strcmp (name, "pivot") == 0)
    pivot_step (st);
  else if (strcmp (name, "move-root") == 0)
    move_root_step (st);
  else if (strcmp (name, "hostname") == 0 && s->argc == 2)
    {
      if (sethostname (s->argv[1], strlen (s->argv[1])) < 0)
        die_errno (errno, "set the hostname `%s`", s->argv[1]);
    }
  else if (strcmp (name, "domainname") == 0 && s->argc == 2)
    {
      if (setdomainname (s->argv[1], strlen (s->argv[1])) < 0)
        die_errno (errno, "set the domain name `%s`", s->argv[1]);
    }
  else if (strcmp (name, "sysctl") == 0 && s->argc == 3)
    sysctl_step (s);
  else if (strcmp (name, "root-readonly") == 0)
    remount_bind ("/", MS_RDONLY, "/");
  else
    die ("malformed plan step `%s` with %d fields", name, s->argc - 1);
}
