//! The process's open-files limit.

/// Raises the soft limit on open files to the hard limit (at most 1 Mi): a server allowed
/// 1,024 connections also holds files open for reads, uploads and replaced objects, and the
/// usual soft default of 1,024 would make accepts and opens fail first. Returns the limit in
/// force, if known; a failure only leaves the limit as it was.
pub fn raise_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        const CAP: u64 = 1 << 20;
        let limit = getrlimit(Resource::Nofile);
        let wanted = limit.maximum.unwrap_or(CAP).min(CAP);
        if limit.current.is_some_and(|now| now < wanted) {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                return Some(wanted);
            }
        }
        limit.current
    }
    #[cfg(not(unix))]
    None
}

#[cfg(all(test, unix))]
mod tests {
    use rustix::process::{getrlimit, Resource};

    #[test]
    fn the_soft_limit_reaches_the_hard_one_or_a_million() {
        let reported = super::raise_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(reported, now.current);
        let floor = now.maximum.unwrap_or(1 << 20).min(1 << 20);
        assert!(
            now.current.is_some_and(|current| current >= floor),
            "{now:?}"
        );
    }
}
