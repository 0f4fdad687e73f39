#ifndef SQBACKUP_CXXHASH_SHIM_H
#define SQBACKUP_CXXHASH_SHIM_H
#include <xxhash.h>
#endif
