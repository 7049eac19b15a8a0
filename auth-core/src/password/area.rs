//! argon2's work memory: areas mapped straight from the OS, kept in a small
//! pool while logins keep coming, and given back to the OS once hashing has
//! been idle for [`AREA_IDLE`].
//!
//! Through the allocator, a freed 19 MiB area stays in the process: glibc
//! serves large blocks from its arenas once it has seen one freed, and does
//! not trim them. A mapping of our own is returned whole when dropped, so a
//! server that hashed a password a minute ago is back to its base memory.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;

/// How long pooled areas outlive the last hash.
pub(super) const AREA_IDLE: Duration = Duration::from_secs(1);

/// One argon2 work area of a fixed number of blocks.
pub(super) struct Area(Memory);

enum Memory {
    /// An anonymous private mapping, unmapped on drop.
    #[cfg(target_os = "linux")]
    Mapped(mapped::Mapping),
    /// From the allocator: where mappings are not used or one failed.
    Heap(Vec<Block>),
}

impl Area {
    /// A zeroed area of `blocks` blocks.
    pub(super) fn new(blocks: usize) -> Self {
        #[cfg(target_os = "linux")]
        if let Some(mapping) = mapped::Mapping::new(blocks) {
            return Self(Memory::Mapped(mapping));
        }
        Self(Memory::Heap(vec![Block::default(); blocks]))
    }

    /// The area's blocks.
    pub(super) fn blocks(&mut self) -> &mut [Block] {
        match &mut self.0 {
            #[cfg(target_os = "linux")]
            Memory::Mapped(mapping) => mapping.blocks(),
            Memory::Heap(blocks) => blocks,
        }
    }

    /// How many blocks the area holds.
    pub(super) fn len(&self) -> usize {
        match &self.0 {
            #[cfg(target_os = "linux")]
            Memory::Mapped(mapping) => mapping.len(),
            Memory::Heap(blocks) => blocks.len(),
        }
    }
}

/// At most `keep` idle areas of the usual size, dropped once no area has
/// come back for [`AREA_IDLE`].
pub(super) struct AreaPool {
    keep: usize,
    idle: Mutex<Idle>,
}

struct Idle {
    areas: Vec<Area>,
    returned: Instant,
}

impl AreaPool {
    pub(super) fn new(keep: usize) -> Self {
        Self {
            keep,
            idle: Mutex::new(Idle {
                areas: Vec::new(),
                returned: Instant::now(),
            }),
        }
    }

    /// An area of at least `blocks` blocks: a pooled one if it is large
    /// enough, else a new one.
    pub(super) fn take(&self, blocks: usize) -> Area {
        let pooled = self.lock().areas.pop();
        match pooled {
            Some(area) if area.len() >= blocks => area,
            _ => Area::new(blocks),
        }
    }

    /// Keeps `area` if it is of the `usual` size and the pool has room;
    /// otherwise frees it.
    pub(super) fn give_back(&self, area: Area, usual: usize) {
        if area.len() != usual {
            return;
        }
        let mut idle = self.lock();
        idle.returned = Instant::now();
        if idle.areas.len() < self.keep {
            idle.areas.push(area);
        }
    }

    /// Frees the pooled areas if none has come back for [`AREA_IDLE`].
    pub(super) fn trim_if_idle(&self) {
        let trimmed = {
            let mut idle = self.lock();
            if idle.areas.is_empty() || idle.returned.elapsed() < AREA_IDLE {
                return;
            }
            std::mem::take(&mut idle.areas)
        };
        drop(trimmed);
    }

    /// How many areas are pooled, and their sizes.
    #[cfg(test)]
    pub(super) fn sizes(&self) -> Vec<usize> {
        self.lock().areas.iter().map(Area::len).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "the crate's only unsafe code: mapping argon2's work areas, each use with its SAFETY argument"
)]
mod mapped {
    use std::ptr::NonNull;

    use argon2::Block;
    use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous, munmap};

    /// `blocks` blocks in an anonymous private mapping of their own.
    pub(super) struct Mapping {
        start: NonNull<Block>,
        blocks: usize,
    }

    // SAFETY: the mapping is owned by this value alone (never shared or
    // aliased), so moving it to another thread moves sole access with it.
    unsafe impl Send for Mapping {}

    impl Mapping {
        /// `None` if the OS refuses the mapping.
        pub(super) fn new(blocks: usize) -> Option<Self> {
            let bytes = blocks.checked_mul(size_of::<Block>())?;
            if bytes == 0 {
                return None;
            }
            // SAFETY: a new anonymous mapping at an address the kernel
            // chooses aliases no existing memory.
            let start = unsafe {
                mmap_anonymous(
                    std::ptr::null_mut(),
                    bytes,
                    ProtFlags::READ | ProtFlags::WRITE,
                    MapFlags::PRIVATE,
                )
            }
            .ok()?;
            Some(Self {
                start: NonNull::new(start.cast())?,
                blocks,
            })
        }

        pub(super) fn blocks(&mut self) -> &mut [Block] {
            // SAFETY: the mapping is `blocks` × 1 KiB of readable, writable
            // memory, page-aligned (beyond `Block`'s 64 bytes) and zeroed by
            // the kernel; a `Block` is plain `u64`s, valid for any bytes.
            // `&mut self` makes the borrow exclusive, and the mapping lives
            // until `drop`.
            unsafe { std::slice::from_raw_parts_mut(self.start.as_ptr(), self.blocks) }
        }

        pub(super) fn len(&self) -> usize {
            self.blocks
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: exactly the range mapped in `new`, unmapped once; no
            // borrow of it can outlive `self`.
            let result =
                unsafe { munmap(self.start.as_ptr().cast(), self.blocks * size_of::<Block>()) };
            if let Err(e) = result {
                log::warn!("auth: could not unmap an argon2 work area: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_zeroed_writable_and_sized() {
        for blocks in [8, 256, 19 * 1024] {
            let mut area = Area::new(blocks);
            assert_eq!(area.len(), blocks);
            let slice = area.blocks();
            assert_eq!(slice.len(), blocks);
            assert!(slice.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)));
            slice[blocks - 1].as_mut()[127] = u64::MAX;
            assert_eq!(area.blocks()[blocks - 1].as_ref()[127], u64::MAX);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_areas_are_mappings_of_their_own() {
        let area = Area::new(19 * 1024);
        assert!(matches!(area.0, Memory::Mapped(_)));
    }

    #[test]
    fn the_pool_keeps_usual_areas_until_idle() {
        let pool = AreaPool::new(2);
        let (a, b, c) = (pool.take(64), pool.take(64), pool.take(64));
        pool.give_back(a, 64);
        pool.give_back(b, 64);
        pool.give_back(c, 64);
        assert_eq!(pool.sizes(), [64, 64], "at most `keep`");
        pool.give_back(Area::new(128), 64);
        assert_eq!(pool.sizes(), [64, 64], "an unusual size is not kept");
        assert_eq!(
            pool.take(32).len(),
            64,
            "a pooled area large enough is reused"
        );
        assert_eq!(pool.take(128).len(), 128, "a larger one is made");
        assert!(pool.sizes().is_empty());
        pool.give_back(Area::new(64), 64);
        pool.trim_if_idle();
        assert_eq!(pool.sizes(), [64], "just returned: kept");
        pool.lock().returned -= AREA_IDLE;
        pool.trim_if_idle();
        assert!(pool.sizes().is_empty(), "idle: freed");
    }
}
