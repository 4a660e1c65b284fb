/*
 * Preloaded into every process of a gVisor sandbox (through /etc/ld.so.preload).
 *
 * runsc 20221219 (Debian bookworm's gVisor) answers EINVAL to statx() and fstatat() calls
 * that pass AT_NO_AUTOMOUNT, and coreutils 9 passes it on every file it lists: `ls -l`,
 * `ls <path>` and `stat` fail with "Invalid argument". gVisor has no automount points, so
 * the flag means nothing there: these wrappers drop it and make the real system call.
 * Later gVisor releases accept the flag; this file then changes nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_NO_AUTOMOUNT
#define AT_NO_AUTOMOUNT 0x800
#endif

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  return syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}

int fstatat(int dirfd, const char *path, struct stat *buf, int flags) {
  return syscall(SYS_newfstatat, dirfd, path, buf, flags & ~AT_NO_AUTOMOUNT);
}

int fstatat64(int dirfd, const char *path, struct stat64 *buf, int flags) {
  return syscall(SYS_newfstatat, dirfd, path, buf, flags & ~AT_NO_AUTOMOUNT);
}
