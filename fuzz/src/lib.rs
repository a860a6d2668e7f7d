//! What every fuzz target shares.

/// Stack size of the thread each input runs on: tokio's worker threads have 2 MiB, so a
/// decoder that needs more would abort a real service; here it aborts the fuzzer instead.
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Runs `check` on `data` on a thread with a [`WORKER_STACK`]-sized stack, passing a panic on
/// to libFuzzer as the crash it is.
pub fn on_worker_stack(data: &[u8], check: impl FnOnce(&[u8]) + Send) {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || check(data))
            .expect("spawning the fuzz worker thread");
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    });
}
