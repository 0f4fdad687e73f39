#include "CSystemShims.h"
#include <malloc.h>

/* mallopt's parameter names are macros in <malloc.h>, which Swift's Glibc module leaves out. */
int sqb_malloc_keep_large_buffers(int mmap_threshold, int trim_threshold, int arena_max) {
    int ok = mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    ok &= mallopt(M_TRIM_THRESHOLD, trim_threshold);
    ok &= mallopt(M_ARENA_MAX, arena_max);
    return ok;
}
