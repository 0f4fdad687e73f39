import CSystemShims

/// The malloc policy of the commands that stream image data (the mount daemon, restore,
/// hydration). Range reads arrive in 8 MiB bodies; by default glibc maps each one fresh and
/// unmaps it when it is freed, so every page of every body is faulted in again: page faults
/// were ~28% of the mount daemon's CPU streaming at 5 Gbit/s, and half of a restore's minor
/// faults. Kept in a few arenas instead, freed bodies are reused while still mapped. The price:
/// the process stays at its peak footprint (memory cache, bodies in flight, bodies the disk
/// writer holds) instead of shrinking after a burst.
enum LargeBufferMemory {
    static func keep() {
        // 32 MiB: above the 8 MiB bodies, and accepted by every glibc (older ones cap the
        // threshold at half their 64 MiB arena heaps). 1 GiB: free memory at an arena's top stays
        // mapped up to this much. 4 arenas: bodies are allocated on fetch threads and freed on
        // reader threads; with few arenas a freed body is found by the next fetch instead of
        // stranded in another's. A refused setting only leaves glibc's default.
        _ = sqb_malloc_keep_large_buffers(32 << 20, 1 << 30, 4)
    }
}
