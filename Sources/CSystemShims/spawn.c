#define _GNU_SOURCE
#include "CSystemShims.h"
#include <spawn.h>
#include <errno.h>

int sqb_spawn_detached(const char *path, char *const argv[], char *const envp[], int ready_fd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int status = posix_spawn_file_actions_init(&actions);
    if (status != 0)
        return status;
    status = posix_spawnattr_init(&attributes);
    if (status != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return status;
    }
    /* fd 3 is the readiness pipe; nothing else leaks into the daemon, so callers waiting on
     * their own pipes or sockets (e.g. a parent's exit-detection socket) see them close. */
    if (ready_fd == 3) {
        /* dup2 onto itself would keep close-on-exec; clear it through a copy instead. */
        status = posix_spawn_file_actions_adddup2(&actions, ready_fd, 4);
        if (status == 0) status = posix_spawn_file_actions_adddup2(&actions, 4, 3);
    } else {
        status = posix_spawn_file_actions_adddup2(&actions, ready_fd, 3);
    }
    if (status == 0)
        status = posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    if (status == 0)
        status = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    if (status == 0)
        status = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return status;
}
