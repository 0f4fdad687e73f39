#ifndef SQBACKUP_CSQUASHFSSHIMS_H
#define SQBACKUP_CSQUASHFSSHIMS_H
/* What Swift cannot import from libsquashfs: structs that carry function pointers,
 * flexible array members, and sqfs_destroy (static inline). */
#include <stddef.h>
#include <stdint.h>
#include <sqfs/predef.h>
#include <sqfs/io.h>
#include <sqfs/inode.h>
#include <sqfs/dir.h>
#include <sqfs/xattr.h>
#include <sqfs/block_writer.h>

/* ---- a sqfs_file_t whose I/O is done by Swift callbacks ---- */

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

/* ---- flexible array members ---- */

static inline const sqfs_u32 *sqb_inode_extra(const sqfs_inode_generic_t *inode) {
    return inode->extra;
}
static inline sqfs_u32 *sqb_inode_extra_mutable(sqfs_inode_generic_t *inode) {
    return inode->extra;
}
static inline const sqfs_u8 *sqb_dir_entry_name(const sqfs_dir_entry_t *entry) {
    return entry->name;
}
static inline const sqfs_u8 *sqb_xattr_entry_key(const sqfs_xattr_entry_t *entry) {
    return entry->key;
}
static inline const sqfs_u8 *sqb_xattr_value_bytes(const sqfs_xattr_value_t *value) {
    return value->value;
}

/* ---- a compressor that never grows a block ---- */

/* Wraps a compressor so that a compressed block is never as large as its input
 * (returns 0 instead, meaning "store uncompressed"). Takes ownership of inner;
 * returns NULL (and leaves inner alone) only on allocation failure. */
sqfs_compressor_t *sqb_compressor_no_grow(sqfs_compressor_t *inner);

/* Called with each block a compressor made, on the thread that compressed it: `block` is the
 * input buffer, `stored` the `size` bytes that will be stored (the compressed output, or the
 * input itself when compressing did not shrink it). */
typedef void (*sqb_block_compressed_fn)(void *ctx, const uint8_t *block, const uint8_t *stored, uint32_t size);

/* sqb_compressor_no_grow that also reports every block it compresses to `observe`; copies (the
 * block processor gives each worker one) report to the same observer. `ctx` must outlive every
 * copy. Takes ownership of inner; returns NULL (and leaves inner alone) on allocation failure. */
sqfs_compressor_t *sqb_compressor_no_grow_observed(sqfs_compressor_t *inner, void *ctx,
                                                   sqb_block_compressed_fn observe);

/* ---- a block writer that reports each block it stores ---- */

typedef void (*sqb_block_written_fn)(void *ctx, uint64_t location, uint32_t size, uint32_t flags,
                                     const uint8_t *data);

/* Wraps a block writer that appends to `file` (one that never deduplicates) so that `observe` sees
 * every stored block with its offset and flags (SQFS_BLK_FRAGMENT_BLOCK marks fragment blocks).
 * Takes ownership of inner; returns NULL (and leaves inner alone) on allocation failure. `ctx`
 * and `file` must outlive the writer. */
sqfs_block_writer_t *sqb_block_writer_observed(sqfs_block_writer_t *inner, sqfs_file_t *file, void *ctx,
                                               sqb_block_written_fn observe);

#endif
