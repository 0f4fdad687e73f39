#include "CCurlShims.h"
#include <pthread.h>
#include <stdlib.h>

/* A curl share handle whose lock callbacks are pthread mutexes, one per lock_data kind.
 * Written in C because the callbacks run on curl's worker threads and need no Swift state. */

struct sqb_share_locks {
    pthread_mutex_t mutexes[CURL_LOCK_DATA_LAST];
};

static void sqb_share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr) {
    (void)handle;
    (void)access;
    struct sqb_share_locks *locks = userptr;
    pthread_mutex_lock(&locks->mutexes[data]);
}

static void sqb_share_unlock(CURL *handle, curl_lock_data data, void *userptr) {
    (void)handle;
    struct sqb_share_locks *locks = userptr;
    pthread_mutex_unlock(&locks->mutexes[data]);
}

CURLSH *sqb_curl_share_new_locked(int share_connections, void **locks_out) {
    struct sqb_share_locks *locks = calloc(1, sizeof *locks);
    if (!locks) return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&locks->mutexes[i], NULL);
    CURLSH *share = curl_share_init();
    if (!share) {
        free(locks);
        return NULL;
    }
    curl_share_setopt(share, CURLSHOPT_USERDATA, locks);
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, sqb_share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, sqb_share_unlock);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (share_connections) curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    *locks_out = locks;
    return share;
}

void sqb_curl_share_free_locked(CURLSH *share, void *locks) {
    if (share) curl_share_cleanup(share);
    if (locks) {
        struct sqb_share_locks *typed = locks;
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&typed->mutexes[i]);
        free(typed);
    }
}
