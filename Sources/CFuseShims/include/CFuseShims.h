#ifndef SQBACKUP_CFUSESHIMS_H
#define SQBACKUP_CFUSESHIMS_H
/* libfuse logs through a printf-style callback with a va_list, which Swift cannot implement:
 * this formats each message in C and hands the finished string to one Swift callback. */

typedef void (*sqb_fuse_log_fn)(int level, const char *message);
void sqb_fuse_set_log_handler(sqb_fuse_log_fn handler);

#endif
