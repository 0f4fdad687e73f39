import CShims

/// The mount daemon's malloc policy. A streaming read allocates an 8 MiB body per range request;
/// by default glibc maps each one fresh and unmaps it when it is freed, so every page of every
/// body is faulted in again (a quarter of the daemon's CPU at 5 Gbit/s). Kept in a few arenas
/// instead, freed bodies are reused while still mapped. The memory cache's byte cap, not
/// malloc, bounds what stays resident.
enum DaemonMemory {
    static func keepLargeBuffers() {
        // 32 MiB: the largest mmap threshold glibc accepts (half its arena heap size), so bodies
        // come from arenas. 1 GiB: free memory at an arena's top stays mapped up to this much.
        // 4 arenas: bodies are allocated on fetch threads and freed on reader threads; with few
        // arenas a freed body is found by the next fetch instead of stranded in another's.
        _ = sqb_malloc_keep_large_buffers(32 << 20, 1 << 30, 4)
    }
}
