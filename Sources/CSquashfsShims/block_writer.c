#include "CSquashfsShims.h"
#include <stdlib.h>
#include <sqfs/block_writer.h>
#include <sqfs/error.h>
#include <sqfs/block.h>

/* A block writer that hands every block it stores, with the location it got, to an observer
 * (the builder digests each block as stored). Everything else is the inner writer's. */
typedef struct {
    sqfs_block_writer_t base;
    sqfs_block_writer_t *inner;
    sqfs_file_t *file;
    void *ctx;
    sqb_block_written_fn observe;
} sqb_observed_writer_t;

static void sqb_observed_destroy(sqfs_object_t *obj) {
    sqb_observed_writer_t *writer = (sqb_observed_writer_t *)obj;
    sqfs_destroy(writer->inner);
    free(writer);
}

static int sqb_observed_write(sqfs_block_writer_t *base, void *user, sqfs_u32 size, sqfs_u32 checksum,
                              sqfs_u32 flags, const sqfs_u8 *data, sqfs_u64 *location) {
    sqb_observed_writer_t *writer = (sqb_observed_writer_t *)base;
    int ret = writer->inner->write_data_block(writer->inner, user, size, checksum, flags, data, location);
    /* Not *location: for a file's last block the library reports where the file starts. The
     * block was appended (the builder never lets the writer deduplicate), so it ends the file. */
    if (ret == 0 && size > 0 && !(flags & SQFS_BLK_IS_SPARSE))
        writer->observe(writer->ctx, writer->file->get_size(writer->file) - size, size, flags, data);
    return ret;
}

static sqfs_u64 sqb_observed_count(const sqfs_block_writer_t *base) {
    const sqb_observed_writer_t *writer = (const sqb_observed_writer_t *)base;
    return writer->inner->get_block_count(writer->inner);
}

sqfs_block_writer_t *sqb_block_writer_observed(sqfs_block_writer_t *inner, sqfs_file_t *file, void *ctx,
                                               sqb_block_written_fn observe) {
    if (inner == NULL || file == NULL || observe == NULL)
        return NULL;
    sqb_observed_writer_t *writer = calloc(1, sizeof(*writer));
    if (writer == NULL)
        return NULL;
    writer->inner = inner;
    writer->file = file;
    writer->ctx = ctx;
    writer->observe = observe;
    /* copy stays NULL: the observer's context cannot be duplicated. */
    writer->base.base.destroy = sqb_observed_destroy;
    writer->base.write_data_block = sqb_observed_write;
    writer->base.get_block_count = sqb_observed_count;
    return (sqfs_block_writer_t *)writer;
}
