#include "CSquashfsShims.h"
#include <stdlib.h>
#include <sqfs/error.h>

typedef struct {
    sqfs_file_t base;
    void *ctx;
    sqb_file_callbacks cb;
} sqb_file_t;

static void sqb_file_destroy(sqfs_object_t *obj) {
    sqb_file_t *file = (sqb_file_t *)obj;
    if (file->cb.release != NULL)
        file->cb.release(file->ctx);
    free(file);
}

static int sqb_file_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer, size_t size) {
    sqb_file_t *file = (sqb_file_t *)base;
    if (file->cb.read_at == NULL)
        return SQFS_ERROR_IO;
    return file->cb.read_at(file->ctx, offset, buffer, size);
}

static int sqb_file_write_at(sqfs_file_t *base, sqfs_u64 offset, const void *buffer, size_t size) {
    sqb_file_t *file = (sqb_file_t *)base;
    if (file->cb.write_at == NULL)
        return SQFS_ERROR_IO;
    return file->cb.write_at(file->ctx, offset, buffer, size);
}

static sqfs_u64 sqb_file_get_size(const sqfs_file_t *base) {
    const sqb_file_t *file = (const sqb_file_t *)base;
    return file->cb.get_size(file->ctx);
}

static int sqb_file_truncate(sqfs_file_t *base, sqfs_u64 size) {
    sqb_file_t *file = (sqb_file_t *)base;
    if (file->cb.truncate == NULL)
        return SQFS_ERROR_IO;
    return file->cb.truncate(file->ctx, size);
}

sqfs_file_t *sqb_file_create(void *ctx, sqb_file_callbacks callbacks) {
    if (callbacks.get_size == NULL)
        return NULL;
    sqb_file_t *file = calloc(1, sizeof(*file));
    if (file == NULL)
        return NULL;
    file->ctx = ctx;
    file->cb = callbacks;
    /* copy stays NULL: a file tied to a Swift context cannot be duplicated. */
    file->base.base.destroy = sqb_file_destroy;
    file->base.read_at = sqb_file_read_at;
    file->base.write_at = sqb_file_write_at;
    file->base.get_size = sqb_file_get_size;
    file->base.truncate = sqb_file_truncate;
    return (sqfs_file_t *)file;
}

void sqb_destroy(void *object) {
    sqfs_destroy(object);
}
