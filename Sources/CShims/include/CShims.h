#ifndef SQBACKUP_CSHIMS_H
#define SQBACKUP_CSHIMS_H
/* What Swift cannot import directly: variadic curl calls, libsquashfs structs
 * that carry function pointers, and flexible array members. */
#include <stddef.h>
#include <stdint.h>
#include <sqfs/predef.h>
#include <sqfs/io.h>
#include <sqfs/inode.h>
#include <sqfs/dir.h>
#include <sqfs/xattr.h>
#include <curl/curl.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>

/* ---- libc macros ---- */
static inline dev_t sqb_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
static inline unsigned int sqb_major(dev_t dev) { return major(dev); }
static inline unsigned int sqb_minor(dev_t dev) { return minor(dev); }

/* ---- libsquashfs: a sqfs_file_t whose I/O is done by Swift callbacks ---- */

typedef int (*sqb_file_read_fn)(void *ctx, uint64_t offset, void *buffer, size_t size);
typedef int (*sqb_file_write_fn)(void *ctx, uint64_t offset, const void *buffer, size_t size);
typedef uint64_t (*sqb_file_size_fn)(void *ctx);
typedef int (*sqb_file_truncate_fn)(void *ctx, uint64_t size);
typedef void (*sqb_file_release_fn)(void *ctx);

typedef struct {
    sqb_file_read_fn read_at;         /* NULL: reads fail with SQFS_ERROR_IO */
    sqb_file_write_fn write_at;       /* NULL: writes fail with SQFS_ERROR_IO */
    sqb_file_size_fn get_size;        /* required */
    sqb_file_truncate_fn truncate;    /* NULL: truncation fails */
    sqb_file_release_fn release;      /* called once from sqfs_destroy; may be NULL */
} sqb_file_callbacks;

/* Returns a file object owned by the caller (free with sqfs_destroy), or NULL. */
sqfs_file_t *sqb_file_create(void *ctx, sqb_file_callbacks callbacks);

/* Destroys any libsquashfs object (sqfs_destroy is static inline). */
void sqb_destroy(void *object);

static inline const sqfs_u32 *sqb_inode_extra(const sqfs_inode_generic_t *inode) {
    return inode->extra;
}
static inline sqfs_u32 *sqb_inode_extra_mutable(sqfs_inode_generic_t *inode) {
    return inode->extra;
}
static inline const sqfs_u8 *sqb_dir_entry_name(const sqfs_dir_entry_t *entry) {
    return entry->name;
}
static inline sqfs_u8 *sqb_dir_entry_name_mutable(sqfs_dir_entry_t *entry) {
    return entry->name;
}
static inline const sqfs_u8 *sqb_xattr_entry_key(const sqfs_xattr_entry_t *entry) {
    return entry->key;
}
static inline const sqfs_u8 *sqb_xattr_value_bytes(const sqfs_xattr_value_t *value) {
    return value->value;
}

/* Wraps a compressor so that a compressed block is never as large as its input
 * (returns 0 instead, meaning "store uncompressed"). Takes ownership of inner;
 * returns NULL (and leaves inner alone) only on allocation failure. */
sqfs_compressor_t *sqb_compressor_no_grow(sqfs_compressor_t *inner);

/* ---- libcurl: typed wrappers for the variadic calls ---- */

CURLcode sqb_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sqb_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sqb_curl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode sqb_curl_easy_setopt_write_fn(CURL *handle, curl_write_callback fn);
CURLcode sqb_curl_easy_setopt_header_fn(CURL *handle, curl_write_callback fn);
CURLcode sqb_curl_easy_setopt_read_fn(CURL *handle, curl_read_callback fn);
CURLcode sqb_curl_easy_setopt_xferinfo_fn(CURL *handle, curl_xferinfo_callback fn);
CURLcode sqb_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *out);
CURLcode sqb_curl_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *out);
CURLcode sqb_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *out);
CURLcode sqb_curl_easy_getinfo_ptr(CURL *handle, CURLINFO info, void **out);
CURLMcode sqb_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);
CURLSHcode sqb_curl_share_setopt_long(CURLSH *handle, CURLSHoption option, long value);
CURLSHcode sqb_curl_share_setopt_ptr(CURLSH *handle, CURLSHoption option, const void *value);

/* A share handle (DNS, TLS sessions and, if asked, connections) with pthread-mutex lock
 * callbacks, usable from many threads. Free with sqb_curl_share_free_locked. */
CURLSH *sqb_curl_share_new_locked(int share_connections, void **locks_out);
void sqb_curl_share_free_locked(CURLSH *share, void *locks);

/* ---- libfuse: route fuse_log's printf-style messages to one Swift callback ---- */

typedef void (*sqb_fuse_log_fn)(int level, const char *message);
void sqb_fuse_set_log_handler(sqb_fuse_log_fn handler);

/* ---- memory ---- */

/* Sets malloc's mmap threshold, trim threshold and arena count (see LargeBufferMemory); 1 when all took. */
int sqb_malloc_keep_large_buffers(int mmap_threshold, int trim_threshold, int arena_max);

/* ---- processes ---- */

/* Starts `path` in a new session with `ready_fd` as its fd 3 and every other descriptor
 * above 2 closed. Returns 0 or an errno value. */
int sqb_spawn_detached(const char *path, char *const argv[], char *const envp[], int ready_fd, pid_t *pid);

#endif
