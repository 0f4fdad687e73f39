#define FUSE_USE_VERSION 312
#include "CFuseShims.h"
#include <fuse3/fuse_log.h>
#include <stdarg.h>
#include <stdio.h>

static sqb_fuse_log_fn sqb_log_handler;

static void sqb_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap) {
    char message[1024];
    vsnprintf(message, sizeof(message), fmt, ap);
    if (sqb_log_handler != NULL)
        sqb_log_handler((int)level, message);
}

void sqb_fuse_set_log_handler(sqb_fuse_log_fn handler) {
    sqb_log_handler = handler;
    fuse_set_log_func(handler != NULL ? sqb_fuse_log : NULL);
}
