#include "CSquashfsShims.h"
#include <stdlib.h>
#include <sqfs/compressor.h>
#include <sqfs/error.h>

/* A compressor that never returns a result at least as large as its input.
 * Some backends (LZ4 in libsquashfs 1.2) hand back expanded output; data and
 * metadata blocks then grow past their limits and unsquashfs rejects the image.
 * Returning 0 tells the block processor and meta writer to store the block
 * uncompressed, which is what the format intends.
 *
 * Optionally it reports each block's stored form (the output when compressed,
 * else the input) to an observer, on the thread that compressed it: the block
 * processor's workers, which run in parallel, so the builder digests blocks
 * there rather than on the one thread that stores them. */
typedef struct {
    sqfs_compressor_t base;
    sqfs_compressor_t *inner;
    void *ctx;
    sqb_block_compressed_fn observe;
} sqb_no_grow_t;

static void sqb_no_grow_destroy(sqfs_object_t *obj) {
    sqb_no_grow_t *wrapper = (sqb_no_grow_t *)obj;
    sqfs_destroy(wrapper->inner);
    free(wrapper);
}

static sqfs_object_t *sqb_no_grow_copy(const sqfs_object_t *obj);

static void sqb_no_grow_get_configuration(const sqfs_compressor_t *cmp, sqfs_compressor_config_t *cfg) {
    const sqb_no_grow_t *wrapper = (const sqb_no_grow_t *)cmp;
    wrapper->inner->get_configuration(wrapper->inner, cfg);
}

static int sqb_no_grow_write_options(sqfs_compressor_t *cmp, sqfs_file_t *file) {
    sqb_no_grow_t *wrapper = (sqb_no_grow_t *)cmp;
    return wrapper->inner->write_options(wrapper->inner, file);
}

static int sqb_no_grow_read_options(sqfs_compressor_t *cmp, sqfs_file_t *file) {
    sqb_no_grow_t *wrapper = (sqb_no_grow_t *)cmp;
    return wrapper->inner->read_options(wrapper->inner, file);
}

static sqfs_s32 sqb_no_grow_do_block(sqfs_compressor_t *cmp, const sqfs_u8 *in, sqfs_u32 size, sqfs_u8 *out,
                                     sqfs_u32 outsize) {
    sqb_no_grow_t *wrapper = (sqb_no_grow_t *)cmp;
    sqfs_s32 ret = wrapper->inner->do_block(wrapper->inner, in, size, out, outsize);
    if (ret > 0 && (sqfs_u32)ret >= size)
        ret = 0;
    /* The block processor copies a compressed result over the input buffer and hands that
     * buffer to the block writer: `in` names the block there. */
    if (wrapper->observe != NULL && ret >= 0 && size > 0)
        wrapper->observe(wrapper->ctx, in, ret > 0 ? out : in, ret > 0 ? (uint32_t)ret : size);
    return ret;
}

static sqfs_compressor_t *sqb_no_grow_make(sqfs_compressor_t *inner, void *ctx, sqb_block_compressed_fn observe) {
    sqb_no_grow_t *wrapper = calloc(1, sizeof(*wrapper));
    if (wrapper == NULL)
        return NULL;
    wrapper->inner = inner;
    wrapper->ctx = ctx;
    wrapper->observe = observe;
    wrapper->base.base.destroy = sqb_no_grow_destroy;
    wrapper->base.base.copy = sqb_no_grow_copy;
    wrapper->base.get_configuration = sqb_no_grow_get_configuration;
    wrapper->base.write_options = sqb_no_grow_write_options;
    wrapper->base.read_options = sqb_no_grow_read_options;
    wrapper->base.do_block = sqb_no_grow_do_block;
    return (sqfs_compressor_t *)wrapper;
}

/* The block processor gives each worker a copy: the copy reports to the same observer. */
static sqfs_object_t *sqb_no_grow_copy(const sqfs_object_t *obj) {
    const sqb_no_grow_t *wrapper = (const sqb_no_grow_t *)obj;
    sqfs_compressor_t *inner = (sqfs_compressor_t *)sqfs_copy(wrapper->inner);
    if (inner == NULL)
        return NULL;
    sqfs_compressor_t *copy = sqb_no_grow_make(inner, wrapper->ctx, wrapper->observe);
    if (copy == NULL)
        sqfs_destroy(inner);
    return (sqfs_object_t *)copy;
}

sqfs_compressor_t *sqb_compressor_no_grow(sqfs_compressor_t *inner) {
    if (inner == NULL)
        return NULL;
    return sqb_no_grow_make(inner, NULL, NULL);
}

sqfs_compressor_t *sqb_compressor_no_grow_observed(sqfs_compressor_t *inner, void *ctx,
                                                   sqb_block_compressed_fn observe) {
    if (inner == NULL || observe == NULL)
        return NULL;
    return sqb_no_grow_make(inner, ctx, observe);
}
