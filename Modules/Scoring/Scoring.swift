// The Scoring module: pure (no I/O, no clock), depends on Domain only.
// Its content arrives with its own issue; docs/architecture.md lists what each module holds today.
