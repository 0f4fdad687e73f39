#ifndef SQBACKUP_CSYSTEMSHIMS_H
#define SQBACKUP_CSYSTEMSHIMS_H
/* What Swift's Glibc module leaves out: the xattr calls, the device-number macros,
 * mallopt's parameters and a posix_spawn with file actions it cannot express. */
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>

static inline dev_t sqb_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
static inline unsigned int sqb_major(dev_t dev) { return major(dev); }
static inline unsigned int sqb_minor(dev_t dev) { return minor(dev); }

/* Sets malloc's mmap threshold, trim threshold and arena count (see LargeBufferMemory); 1 when all took. */
int sqb_malloc_keep_large_buffers(int mmap_threshold, int trim_threshold, int arena_max);

/* Starts `path` in a new session with `ready_fd` as its fd 3 and every other descriptor
 * above 2 closed. Returns 0 or an errno value. */
int sqb_spawn_detached(const char *path, char *const argv[], char *const envp[], int ready_fd, pid_t *pid);

#endif
