#ifndef CALOR_CMALLOC_SHIM_H
#define CALOR_CMALLOC_SHIM_H

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

/// Hands the free memory glibc's allocator holds back to the system (`malloc_trim`). Batches of work allocated on
/// one thread and freed on another leave it spread over per-thread arenas, where it counts as the process's memory.
static inline void calor_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

#endif
