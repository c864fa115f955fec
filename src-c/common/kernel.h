/* Thin wrappers for the kernel interfaces that glibc 2.36 does not expose cleanly.
 *
 * glibc 2.36 declares the new mount API in <sys/mount.h>, but that header clashes with
 * <linux/mount.h>, which holds the flag values; calling the syscalls directly keeps both
 * the addon and the container init independent of which glibc builds them.  */

#ifndef SYSBOX_KERNEL_H
#define SYSBOX_KERNEL_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

#define SB_OPEN_TREE_CLONE 1
#define SB_OPEN_TREE_CLOEXEC 02000000
#define SB_AT_RECURSIVE 0x8000
#define SB_AT_EMPTY_PATH 0x1000
#define SB_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define SB_MOUNT_ATTR_IDMAP 0x00100000
#define SB_MOUNT_ATTR_RDONLY 0x00000001
#define SB_MOUNT_ATTR_NODEV 0x00000004
#define SB_MS_PRIVATE (1 << 18)
#define SB_RESOLVE_NO_MAGICLINKS 0x02
#define SB_RESOLVE_NO_SYMLINKS 0x04
#define SB_RESOLVE_IN_ROOT 0x10
#define SB_CLOSE_RANGE_CLOEXEC (1U << 2)

struct sb_mount_attr
{
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

struct sb_open_how
{
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

static inline int
sb_open_tree (int dirfd, const char *path, unsigned int flags)
{
  return (int) syscall (SYS_open_tree, dirfd, path, flags);
}

static inline int
sb_move_mount (int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
               unsigned int flags)
{
  return (int) syscall (SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static inline int
sb_mount_setattr (int dirfd, const char *path, unsigned int flags, struct sb_mount_attr *attr)
{
  return (int) syscall (SYS_mount_setattr, dirfd, path, flags, attr, sizeof (*attr));
}

static inline int
sb_openat2 (int dirfd, const char *path, struct sb_open_how *how)
{
  return (int) syscall (SYS_openat2, dirfd, path, how, sizeof (*how));
}

static inline int
sb_close_range (unsigned int first, unsigned int last, unsigned int flags)
{
  return (int) syscall (SYS_close_range, first, last, flags);
}

#endif
