import CMalloc

/// The process's memory.
public enum Memory {
    /// Gives the free memory the allocator keeps back to the system: after a batch of a long bulk job (a rescore),
    /// so that its resident memory stays that of one batch.
    public static func releaseFree() {
        calor_release_free_memory()
    }
}
