#ifndef SQBACKUP_CFUSE3_SHIM_H
#define SQBACKUP_CFUSE3_SHIM_H
/* 3.12 API: fuse_session_loop_mt and fuse_loop_cfg_* import as real functions. */
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#endif
