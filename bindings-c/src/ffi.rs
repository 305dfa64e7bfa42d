//! The only place raw C pointers become Rust values: input slices, text,
//! arrays of strings and pairs, output buffers, and the panic boundary.

use crate::status::koosign_status;
use core::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result of the translation layer: the error is the status to return.
pub(crate) type Res<T> = Result<T, koosign_status>;

/// A borrowed string: `len` bytes of UTF-8 at `data`, not NUL-terminated
/// (a NUL byte inside is an ordinary character). `data` may be NULL only
/// when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_str {
    /// First byte, or NULL for the empty string.
    pub data: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

/// A name and a value (a query parameter, a header, or an `(ak, sk)`
/// credential).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_pair {
    /// The name (parameter name, header name, access key ID).
    pub name: koosign_str,
    /// The value (parameter value, header value, secret key).
    pub value: koosign_str,
}

/// A freshness policy: the caller's clock and the accepted distance from
/// it. Passed by pointer, never NULL (KOOSIGN_NULL_PARAMETER): a window
/// left out is named, `window_ms` = KOOSIGN_WINDOW_UNCHECKED (or
/// koosign_freshness_unchecked()).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_freshness {
    /// The caller's clock, Unix time in milliseconds.
    pub now_ms: u64,
    /// Accepted |now − timestamp| in milliseconds, inclusive:
    /// KOOSIGN_DEFAULT_WINDOW_MS (60 000) is what the V2 guide requires,
    /// KOOSIGN_V1_DEFAULT_WINDOW_MS (300 000) the V1 default,
    /// KOOSIGN_APIG_DEFAULT_WINDOW_MS (900 000) the S6 default;
    /// KOOSIGN_WINDOW_UNCHECKED checks no window (by name: tests over
    /// captured traffic), `now_ms` then unused.
    pub window_ms: u64,
}

impl koosign_freshness {
    pub(crate) fn to_core(self) -> ks::Freshness {
        if self.window_ms == crate::merchant::KOOSIGN_WINDOW_UNCHECKED {
            ks::Freshness::Unchecked
        } else {
            ks::Freshness::with_window(self.now_ms, self.window_ms)
        }
    }
}

static UNCHECKED_FRESHNESS: koosign_freshness = koosign_freshness {
    now_ms: 0,
    window_ms: crate::merchant::KOOSIGN_WINDOW_UNCHECKED,
};

/// The freshness policy that checks no window, by name: a pointer to a
/// static `{0, KOOSIGN_WINDOW_UNCHECKED}`, valid for the life of the
/// program, for the `freshness` argument of the one-shot verifiers
/// (koosign_verify_v1, koosign_verify_v1_json, koosign_verify_v2,
/// koosign_verify_v2_query, koosign_verify_licence, koosign_verify_apig).
/// Only the window is skipped; a replay cache still needs its own
/// KOOSIGN_REPLAY_STORE / KOOSIGN_REPLAY_UNCHECKED.
#[no_mangle]
pub extern "C" fn koosign_freshness_unchecked() -> *const koosign_freshness {
    &UNCHECKED_FRESHNESS
}

/// Runs `f` inside the panic boundary: a panic becomes `KOOSIGN_PANIC`
/// instead of unwinding into C (which is undefined behaviour).
pub(crate) fn boundary(f: impl FnOnce() -> Res<()>) -> koosign_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => koosign_status::KOOSIGN_OK,
        Ok(Err(status)) => status,
        Err(_) => koosign_status::KOOSIGN_PANIC,
    }
}

/// `len` bytes at `ptr`; NULL is allowed only with `len` 0.
///
/// # Safety
/// Unless NULL, `ptr` must point to `len` readable bytes that stay valid
/// and unmodified for `'a` (the duration of the exported call).
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Res<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(koosign_status::KOOSIGN_NULL_PARAMETER)
        };
    }
    if len > isize::MAX as usize {
        return Err(koosign_status::KOOSIGN_INPUT_TOO_LARGE);
    }
    // SAFETY: non-NULL, len ≤ isize::MAX, and the caller guarantees `len`
    // readable bytes for the duration of the call (the C contract).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` bytes of UTF-8 at `ptr`; NULL is allowed only with `len` 0.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize) -> Res<&'a str> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(ptr.cast::<u8>(), len) }?;
    utf8(b)
}

/// The UTF-8 check of every text argument: `simdutf8`'s validator (the
/// same acceptance as `core::str::from_utf8`, vectorised: the check is part
/// of each call's cost over the native Rust call, which gets a `&str`).
pub(crate) fn utf8(b: &[u8]) -> Res<&str> {
    simdutf8::basic::from_utf8(b).map_err(|_| koosign_status::KOOSIGN_INVALID_UTF8)
}

impl koosign_str {
    /// # Safety
    /// As [`bytes`] for `data`/`len`.
    pub(crate) unsafe fn as_str<'a>(&self) -> Res<&'a str> {
        // SAFETY: forwarded contract.
        unsafe { text(self.data, self.len) }
    }
}

/// `n` elements at `ptr`; NULL is allowed only with `n` 0.
///
/// # Safety
/// Unless NULL, `ptr` must point to `n` initialised, properly aligned `T`
/// valid for the duration of the call.
pub(crate) unsafe fn array<'a, T>(ptr: *const T, n: usize) -> Res<&'a [T]> {
    if ptr.is_null() {
        return if n == 0 {
            Ok(&[])
        } else {
            Err(koosign_status::KOOSIGN_NULL_PARAMETER)
        };
    }
    if n > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        return Err(koosign_status::KOOSIGN_INPUT_TOO_LARGE);
    }
    // SAFETY: non-NULL, total size ≤ isize::MAX, caller guarantees `n`
    // valid elements for the duration of the call.
    Ok(unsafe { core::slice::from_raw_parts(ptr, n) })
}

/// The strings of a `koosign_str` array (the access keys of a verifier):
/// up to 8 are kept on the stack, more on the heap.
pub(crate) enum Strs<'a> {
    Stack([&'a str; 8], usize),
    Heap(Vec<&'a str>),
}

impl<'a> core::ops::Deref for Strs<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        match self {
            Strs::Stack(a, n) => &a[..*n],
            Strs::Heap(v) => v,
        }
    }
}

/// Converts a `koosign_str` array; NULL is allowed only with `n` 0.
///
/// # Safety
/// As [`array`], and each element as [`koosign_str::as_str`].
pub(crate) unsafe fn strs<'a>(ptr: *const koosign_str, n: usize) -> Res<Strs<'a>> {
    // SAFETY: forwarded contract.
    let arr = unsafe { array(ptr, n) }?;
    if arr.len() <= 8 {
        let mut buf = [""; 8];
        for (slot, s) in buf.iter_mut().zip(arr) {
            // SAFETY: forwarded contract for each element.
            *slot = unsafe { s.as_str() }?;
        }
        Ok(Strs::Stack(buf, arr.len()))
    } else {
        // SAFETY: forwarded contract for each element.
        arr.iter()
            .map(|s| unsafe { s.as_str() })
            .collect::<Res<Vec<&str>>>()
            .map(Strs::Heap)
    }
}

/// The `(name, value)` strings of a `koosign_pair` array.
///
/// # Safety
/// As [`array`], and each string as [`koosign_str::as_str`].
pub(crate) unsafe fn pairs<'a>(ptr: *const koosign_pair, n: usize) -> Res<Vec<(&'a str, &'a str)>> {
    // SAFETY: forwarded contract.
    let arr = unsafe { array(ptr, n) }?;
    // SAFETY: forwarded contract for each element.
    arr.iter()
        .map(|p| Ok((unsafe { p.name.as_str() }?, unsafe { p.value.as_str() }?)))
        .collect()
}

/// A required `koosign_freshness`: NULL is KOOSIGN_NULL_PARAMETER (a
/// window is left out only by name, KOOSIGN_WINDOW_UNCHECKED).
///
/// # Safety
/// Unless NULL, `ptr` points to a valid `koosign_freshness`.
pub(crate) unsafe fn freshness_of(ptr: *const koosign_freshness) -> Res<ks::Freshness> {
    // SAFETY: NULL or valid, per the contract.
    unsafe { ptr.as_ref() }
        .map(|f| f.to_core())
        .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)
}

/// An optional `size_t` out-pointer (the index of the key that matched).
pub(crate) struct IndexOut(*mut usize);

impl IndexOut {
    /// # Safety
    /// `ptr` NULL or valid for a `size_t` write for the duration of the call.
    pub(crate) unsafe fn new(ptr: *mut usize) -> IndexOut {
        IndexOut(ptr)
    }

    /// Writes `index` unless the pointer is NULL.
    pub(crate) fn set(&self, index: usize) {
        if !self.0.is_null() {
            // SAFETY: non-NULL and writable per `new`'s contract.
            unsafe { self.0.write(index) };
        }
    }
}

/// An optional out-flag (`int *`): written with 0 or 1 on success only.
pub(crate) struct FlagOut(*mut core::ffi::c_int);

impl FlagOut {
    /// # Safety
    /// `ptr` NULL or valid for an `int` write for the duration of the call.
    pub(crate) unsafe fn new(ptr: *mut core::ffi::c_int) -> FlagOut {
        FlagOut(ptr)
    }

    /// Writes `flag` as 0 or 1 unless the pointer is NULL.
    pub(crate) fn set(&self, flag: bool) {
        if !self.0.is_null() {
            // SAFETY: non-NULL and writable per `new`'s contract.
            unsafe { self.0.write(core::ffi::c_int::from(flag)) };
        }
    }
}

/// A caller's output buffer: `cap` bytes at `ptr` and the out-length.
///
/// Creating it sets `*out_len = 0`; [`OutBuf::write`] either copies
/// everything and sets `*out_len` to the length written, or copies nothing
/// and sets `*out_len` to the length needed (`KOOSIGN_BUFFER_TOO_SMALL`).
pub(crate) struct OutBuf {
    ptr: *mut u8,
    cap: usize,
    len: *mut usize,
}

impl OutBuf {
    /// # Safety
    /// `out_len` must be NULL or valid for writes of a `size_t`; `ptr` must
    /// be NULL or valid for writes of `cap` bytes, not overlapping any
    /// input of the call, for the duration of the call.
    pub(crate) unsafe fn new(ptr: *mut u8, cap: usize, out_len: *mut usize) -> Res<OutBuf> {
        if out_len.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out_len.write(0) };
        if ptr.is_null() && cap != 0 {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        Ok(OutBuf {
            ptr,
            cap,
            len: out_len,
        })
    }

    /// Reports `needed` bytes without writing anything.
    pub(crate) fn too_small(&self, needed: usize) -> koosign_status {
        // SAFETY: `len` was checked non-NULL and writable in `new`.
        unsafe { self.len.write(needed) };
        koosign_status::KOOSIGN_BUFFER_TOO_SMALL
    }

    /// Copies `src` if it fits, else writes nothing (see the type's doc).
    pub(crate) fn write(&self, src: &[u8]) -> Res<()> {
        self.write_parts(&[src])
    }

    /// Copies the concatenation of `parts` if it fits, else writes nothing.
    pub(crate) fn write_parts(&self, parts: &[&[u8]]) -> Res<()> {
        let needed: usize = parts.iter().map(|p| p.len()).sum();
        if needed > self.cap {
            return Err(self.too_small(needed));
        }
        let mut at = 0;
        for p in parts {
            if !p.is_empty() {
                // SAFETY: `ptr` is non-NULL (cap ≥ needed > 0) and valid
                // for `cap` bytes of writes (`new`'s contract); `at + len`
                // ≤ needed ≤ cap; `p` is this crate's own memory or an
                // input, which the caller promises does not overlap outputs.
                unsafe { core::ptr::copy_nonoverlapping(p.as_ptr(), self.ptr.add(at), p.len()) };
            }
            at += p.len();
        }
        // SAFETY: as in `too_small`.
        unsafe { self.len.write(needed) };
        Ok(())
    }

    /// The buffer's capacity in bytes.
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Base address of the buffer (for results that point into it).
    pub(crate) fn base(&self) -> *const u8 {
        self.ptr
    }
}

/// The scratch of [`with_scratch`] for inputs up to this many bytes is the
/// thread's own (else the heap).
const SCRATCH: usize = 512;

thread_local! {
    /// Initialised (zeroed) once per thread, then reused: no zeroing per call.
    static THREAD_SCRATCH: core::cell::RefCell<[u8; SCRATCH]> = const { core::cell::RefCell::new([0u8; SCRATCH]) };
}

/// Calls `f` with a scratch buffer of exactly `len` bytes, for inputs that
/// are not secret (a query string being decoded): the thread's buffer when
/// `len` fits (its bytes are whatever the last call left: the core writes
/// before it reads and needs no zeroes), else a zeroed heap buffer. When
/// the thread's buffer is in use (a call made from inside another, which
/// the store callback's contract forbids) or gone (thread teardown), a
/// zeroed stack buffer.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len > SCRATCH {
        return f(&mut vec![0u8; len]);
    }
    let mut f = Some(f);
    let mut run = |buf: &mut [u8]| f.take().map(|f| f(buf));
    let done = THREAD_SCRATCH
        .try_with(|cell| cell.try_borrow_mut().ok().and_then(|mut b| run(&mut b[..len])))
        .ok()
        .flatten();
    match done {
        Some(r) => r,
        None => {
            let mut buf = [0u8; SCRATCH];
            match run(&mut buf[..len]) {
                Some(r) => r,
                // `f` already ran above and returned: unreachable, as
                // `done` would then be `Some`.
                None => unreachable!("with_scratch: the closure ran without a result"),
            }
        }
    }
}

/// As [`with_scratch`] for secret contents (a decrypted field): a zeroed
/// buffer on the stack when small (never the thread's), wiped afterwards.
pub(crate) fn with_secret_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    use zeroize::Zeroize;
    let run = |buf: &mut [u8]| {
        let r = f(buf);
        buf.zeroize();
        r
    };
    if len <= SCRATCH {
        // Only the `len` bytes handed out are zeroed (not the whole array).
        let mut buf = core::mem::MaybeUninit::<[u8; SCRATCH]>::uninit();
        let p = buf.as_mut_ptr().cast::<u8>();
        // SAFETY: `len` ≤ SCRATCH bytes of `buf`, zeroed (so initialised)
        // before the slice over them is made; the slice lives inside this
        // frame and only those bytes are reachable through it.
        let s = unsafe {
            core::ptr::write_bytes(p, 0, len);
            core::slice::from_raw_parts_mut(p, len)
        };
        run(s)
    } else {
        run(&mut vec![0u8; len])
    }
}

/// Runs a core function that writes text into a buffer and reports
/// `BufferTooSmall { needed }` when it does not fit: first into a stack
/// buffer, then into one of the size needed, then copies into `out`.
/// The caller's buffer is never written partially.
pub(crate) fn produce(
    out: &OutBuf,
    f: impl for<'b> Fn(&'b mut [u8]) -> ks::Result<&'b str>,
) -> Res<()> {
    let needed = {
        let mut stack = [0u8; 1024];
        match f(&mut stack) {
            Ok(s) => return out.write(s.as_bytes()),
            Err(ks::Error::BufferTooSmall { needed }) => needed,
            Err(e) => return Err(e.into()),
        }
    };
    let mut heap = vec![0u8; needed];
    let s = f(&mut heap)?;
    out.write(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `utf8` (simdutf8) accepts exactly what `core::str::from_utf8`
    /// accepts: every short sequence, the classic hostile ones (overlong
    /// forms, surrogates, above U+10FFFF, truncated, stray continuation
    /// bytes) alone and at every offset inside longer ASCII runs.
    #[test]
    fn utf8_same_verdicts_as_core() {
        let same = |b: &[u8]| {
            assert_eq!(utf8(b).ok(), core::str::from_utf8(b).ok(), "{b:x?}");
        };
        for a in 0..=255u8 {
            same(&[a]);
            for b in 0..=255u8 {
                same(&[a, b]);
                for c in [0x80u8, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0x41] {
                    same(&[a, b, c]);
                    same(&[a, b, c, 0x80]);
                    same(&[a, b, c, 0xbf]);
                }
            }
        }
        // The same short sequences inside inputs long enough for the
        // vectorised path (64 bytes and more), across a 32-byte lane edge.
        for a in 0x80..=0xffu8 {
            for b in 0..=255u8 {
                for at in [3usize, 30, 31, 62, 63, 64, 95] {
                    let mut v = vec![b'a'; 128];
                    v[at] = a;
                    v[at + 1] = b;
                    v[at + 2] = 0x80;
                    same(&v);
                }
            }
        }
        let hostile: [&[u8]; 14] = [
            b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf",
            b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xe2\x82", b"\x80",
            "\u{10FFFF}".as_bytes(), "\u{FFFD}".as_bytes(), "é€𝄞".as_bytes(), b"",
        ];
        for h in hostile {
            for pad in [0usize, 1, 15, 16, 31, 32, 33, 63, 64, 65, 200] {
                for at in [0, pad / 2, pad] {
                    let mut v = vec![b'a'; pad];
                    v.splice(at..at, h.iter().copied());
                    same(&v);
                }
            }
        }
    }

    #[test]
    fn scratch_of_the_length_asked_nested_too() {
        for len in [0usize, 1, 288, 511, 512, 513, 4096] {
            let r = with_scratch(len, |s| {
                assert_eq!(s.len(), len);
                s.fill(0xa5);
                // a nested call (forbidden to callbacks, but never a panic): a separate buffer
                with_scratch(len, |t| {
                    assert_eq!(t.len(), len);
                    t.fill(0x5a);
                });
                assert!(s.iter().all(|&b| b == 0xa5));
                len
            });
            assert_eq!(r, len);
            with_secret_scratch(len, |s| {
                assert_eq!(s.len(), len);
                assert!(s.iter().all(|&b| b == 0));
                s.fill(0xa5);
            });
        }
    }
}
