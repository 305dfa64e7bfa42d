//! Python binding (pyo3, abi3) for koosign: the native module `koosign._koosign`.
//!
//! This crate only translates: Python arguments into the core's borrowed
//! `&str` / `&[u8]` and buffers, the core's results into Python objects, and
//! every [`koosign::Error`] into a `koosign` exception whose message is the
//! core's `Display` (which never carries a secret). No scheme logic lives
//! here: canonical strings, HMACs, comparisons, freshness and nonce
//! bookkeeping are all the core's.
//!
//! Replay protection with a Python nonce store (any object with
//! `check_and_insert(nonce: str, now_ms: int, expires_at_ms: int) -> bool`)
//! goes through [`PyNonceStore`], an implementation of the core's
//! [`koosign::NonceStore`] trait that calls into Python. The core therefore
//! decides when the store is consulted (after the signature and the window
//! passed) and for how long a nonce is kept (timestamp + window), exactly as
//! for its own `NonceCache`.
//!
//! The GIL is released (`Python::detach`) while the core works on inputs of
//! [`DETACH_THRESHOLD`] bytes or more; the core is re-entrant and every
//! object here is immutable, so concurrent calls are safe.

use koosign::{
    ApigRequest, DecryptMode, EncryptType, Error, FieldKey, Freshness, NonceStore, Replay, V1Params,
    V2Auth, V2Scheme,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyInt, PyString, PyTuple};
use std::time::{SystemTime, UNIX_EPOCH};

mod merchant;

/// Inputs at least this long (bytes) are processed with the GIL released.
pub const DETACH_THRESHOLD: usize = 2048;

create_exception!(
    koosign,
    KoosignError,
    PyException,
    "Base class of every koosign error. `code` is the core's stable name of the error (e.g. `SIGNATURE_MISMATCH`); the message never contains a secret."
);
create_exception!(
    koosign,
    SignatureMismatch,
    KoosignError,
    "The signature, token or MAC does not match any of the access keys (answer 000001)."
);
create_exception!(
    koosign,
    StaleTimestamp,
    KoosignError,
    "The request's timestamp is outside the accepted window around `now` (answer 000001)."
);
create_exception!(
    koosign,
    ReplayedNonce,
    KoosignError,
    "The nonce was already used within its lifetime (answer 000001)."
);
create_exception!(
    koosign,
    MalformedRequest,
    KoosignError,
    "The request is not well formed: a missing parameter, a bad encoding, a timestamp not in its documented format, an input over a limit. Answer 000001 when raised while verifying (before the request is authenticated), 000002 when raised on an authenticated request's content (e.g. a missing parameter to decrypt)."
);
create_exception!(
    koosign,
    AmbiguousRequest,
    KoosignError,
    "The request could be read more than one way under one signature (SCHEMES.md decisions: a V1 name or value that would move a parameter boundary, a V1 JSON body member named authToken, a kit body not starting with `{` or a kit nonce holding `{`, a licence nonce with `&`, a repeated S6 header or Authorization attribute); refused before authentication (answer 000001). Not a MalformedRequest."
);
create_exception!(
    koosign,
    StoreUnavailable,
    KoosignError,
    "The replay store could not be reached (or answered something else than recorded / replayed): the request is refused, never accepted unchecked (answer 000005). The store's own exception is the `__cause__`."
);
create_exception!(
    koosign,
    DecryptError,
    KoosignError,
    "An encrypted field could not be decrypted (any cause: Base64, padding, key size, UTF-8)."
);

/// The one translation of core errors into Python exceptions.
fn err(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    let pe = match e {
        Error::SignatureMismatch => SignatureMismatch::new_err(msg),
        Error::StaleTimestamp => StaleTimestamp::new_err(msg),
        Error::ReplayedNonce => ReplayedNonce::new_err(msg),
        Error::MissingParameter(_)
        | Error::MalformedEncoding(_)
        | Error::BadTimestamp
        | Error::InputTooLarge { .. } => MalformedRequest::new_err(msg),
        Error::Decrypt => DecryptError::new_err(msg),
        Error::Ambiguous(_) => AmbiguousRequest::new_err(msg),
        Error::StoreUnavailable => StoreUnavailable::new_err(msg),
        // NonceStoreFull, NoAccessKey, BufferTooSmall, RandomSource and
        // any variant added later: the base class, told apart by `code`.
        _ => KoosignError::new_err(msg),
    };
    // Setting an attribute on a fresh exception instance cannot fail in practice.
    let _ = pe.value(py).setattr("code", e.code());
    pe
}

trait CoreResult<T> {
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> CoreResult<T> for koosign::Result<T> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| err(py, e))
    }
}

/// A zeroed scratch buffer of `len` bytes for the core: on the stack when
/// small (the common case: no allocation), else on the heap.
fn with_scratch<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    const STACK: usize = 1024;
    if len <= STACK {
        let mut buf = [0u8; STACK];
        f(&mut buf[..len])
    } else {
        f(&mut vec![0u8; len])
    }
}

/// Runs `f` with the GIL released when `big`.
fn run<T: Ungil, F: Ungil + FnOnce() -> T>(py: Python<'_>, big: bool, f: F) -> T {
    if big {
        py.detach(f)
    } else {
        f()
    }
}

// ---------------------------------------------------------------------------
// Argument translation

/// Text from `str` or UTF-8 `bytes`.
enum Text {
    Py(PyBackedStr),
    Owned(String),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Py(s) => s,
            Text::Owned(s) => s,
        }
    }
}

/// `str` (without lone surrogates) or `bytes`/`bytearray` that are UTF-8.
/// Text that cannot be UTF-8 is a malformed request, never a `TypeError`.
fn text(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Text> {
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.extract::<PyBackedStr>() {
            Ok(b) => Ok(Text::Py(b)),
            Err(_) => Err(err(py, Error::MalformedEncoding("text is not valid UTF-8"))),
        };
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        let b: PyBackedBytes = obj.extract()?;
        return match std::str::from_utf8(&b) {
            Ok(s) => Ok(Text::Owned(s.to_owned())),
            Err(_) => Err(err(py, Error::MalformedEncoding("text is not valid UTF-8"))),
        };
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, not {}",
        type_name(obj)
    )))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A body: `bytes` (borrowed, no copy), `bytearray`/`memoryview` (copied)
/// or `str` (its UTF-8 bytes; pass the exact bytes received when you can).
struct Body {
    data: BodyData,
}

enum BodyData {
    Bytes(PyBackedBytes),
    Str(PyBackedStr),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match &self.data {
            BodyData::Bytes(b) => b,
            BodyData::Str(s) => s.as_bytes(),
        }
    }
}

fn body(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Body> {
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        return Ok(Body {
            data: BodyData::Bytes(obj.extract()?),
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.extract::<PyBackedStr>() {
            Ok(b) => Ok(Body {
                data: BodyData::Str(b),
            }),
            Err(_) => Err(err(py, Error::MalformedEncoding("text is not valid UTF-8"))),
        };
    }
    if obj.hasattr("tobytes")? {
        // memoryview and friends: one copy.
        let b = obj.call_method0("tobytes")?;
        if b.is_instance_of::<PyBytes>() {
            return Ok(Body {
                data: BodyData::Bytes(b.extract()?),
            });
        }
    }
    Err(PyTypeError::new_err(format!(
        "body must be bytes, bytearray, memoryview or str, not {}",
        type_name(obj)
    )))
}

/// One access key (`str`) or a sequence of them (rotation).
fn keys(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PyBackedStr>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(vec![s.extract()?]);
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        return Err(PyTypeError::new_err(
            "access keys must be str (or a sequence of str), not bytes",
        ));
    }
    let mut out = Vec::new();
    for k in obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err("access_keys must be a str or a sequence of str"))?
    {
        let k = k?;
        let s = k
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("every access key must be a str"))?;
        out.push(s.extract()?);
    }
    Ok(out)
}

fn key(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<PyBackedStr> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.extract()?),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{what} must be a str, not {}",
            type_name(obj)
        ))),
    }
}

fn refs(keys: &[PyBackedStr]) -> Vec<&str> {
    keys.iter().map(|k| &**k).collect()
}

/// Text of an HTTP header: `str`, or raw `bytes` decoded as UTF-8 with
/// U+FFFD for invalid sequences. A header value that is not UTF-8 cannot be
/// a valid signature, nonce or timestamp, so the core refuses it as such
/// (a forged `x-sign` of Latin-1 bytes is a `SignatureMismatch`).
fn header_text(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Text> {
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        let b: PyBackedBytes = obj.extract()?;
        return Ok(Text::Owned(String::from_utf8_lossy(&b).into_owned()));
    }
    text(py, obj, what)
}

/// Name/value pairs from a mapping (its `items()`) or an iterable of pairs,
/// in order. Names and values are `str` or UTF-8 `bytes`.
fn pairs(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &'static str,
) -> PyResult<Vec<(Text, Text)>> {
    pairs_with(py, obj, what, text)
}

type TextFn = fn(Python<'_>, &Bound<'_, PyAny>, &'static str) -> PyResult<Text>;

fn pairs_with(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &'static str,
    conv: TextFn,
) -> PyResult<Vec<(Text, Text)>> {
    // An exact `dict` (what frameworks and callers pass): its entries read
    // in place (`PyDict_Next`), the same pairs in the same order as
    // `items()` gives, without the view and one tuple per entry. `conv`
    // runs no Python code, so the dict cannot change while it is read.
    if let Ok(d) = obj.cast_exact::<PyDict>() {
        let mut out = Vec::with_capacity(d.len());
        for (n, v) in d.iter() {
            out.push((conv(py, &n, what)?, conv(py, &v, what)?));
        }
        return Ok(out);
    }
    let items = if obj.hasattr("items")? {
        obj.call_method0("items")?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    let it = items.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a mapping or an iterable of (name, value) pairs"
        ))
    })?;
    for item in it {
        let item = item?;
        let t = item
            .cast::<PyTuple>()
            .ok()
            .filter(|t| t.len() == 2)
            .map(|t| (t.get_item(0), t.get_item(1)));
        let (n, v) = match t {
            Some((Ok(n), Ok(v))) => (n, v),
            _ => {
                let seq: Vec<Bound<'_, PyAny>> = item
                    .try_iter()
                    .and_then(|i| i.collect::<PyResult<Vec<_>>>())
                    .map_err(|_| {
                        PyTypeError::new_err(format!(
                            "{what}: every item must be a (name, value) pair"
                        ))
                    })?;
                if seq.len() != 2 {
                    return Err(PyTypeError::new_err(format!(
                        "{what}: every item must be a (name, value) pair"
                    )));
                }
                let mut s = seq.into_iter();
                (
                    s.next().unwrap_or_else(|| py.None().into_bound(py)),
                    s.next().unwrap_or_else(|| py.None().into_bound(py)),
                )
            }
        };
        out.push((conv(py, &n, what)?, conv(py, &v, what)?));
    }
    Ok(out)
}

fn pair_refs(p: &[(Text, Text)]) -> Vec<(&str, &str)> {
    p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// Unix seconds (float) → Unix milliseconds, rounded.
fn secs_to_ms(s: f64, what: &str) -> PyResult<u64> {
    if !s.is_finite() || !(0.0..=1.0e16).contains(&s) {
        return Err(PyValueError::new_err(format!(
            "{what} must be a finite, non-negative number of seconds"
        )));
    }
    Ok((s * 1000.0).round() as u64)
}

fn now_ms(now: Option<f64>) -> PyResult<u64> {
    match now {
        Some(s) => secs_to_ms(s, "now"),
        None => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)),
    }
}

fn freshness(now: Option<f64>, window: Option<f64>, what: &str) -> PyResult<Freshness> {
    match window {
        None => Ok(Freshness::Unchecked),
        Some(w) => Ok(Freshness::with_window(
            now_ms(now)?,
            secs_to_ms(w, what)?,
        )),
    }
}

fn encrypt_type(obj: &Bound<'_, PyAny>) -> PyResult<EncryptType> {
    // `cast` first: a failed `extract` would build a Python exception.
    let s: String = if let Ok(s) = obj.cast::<PyString>() {
        s.to_string()
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>()?.to_string()
    } else {
        return Err(PyTypeError::new_err(
            "encrypt_type must be \"1\", \"2\" (or 1, 2)",
        ));
    };
    EncryptType::parse(&s).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn decrypt_mode(obj: &Bound<'_, PyAny>) -> PyResult<DecryptMode> {
    if let Ok(s) = obj.cast::<PyString>() {
        if s.to_cow().map(|c| c == "auto").unwrap_or(false) {
            return Ok(DecryptMode::Auto);
        }
    }
    encrypt_type(obj)
        .map(DecryptMode::Only)
        .map_err(|_| PyValueError::new_err("encrypt_type must be \"auto\", \"1\" or \"2\""))
}

// ---------------------------------------------------------------------------
// Nonce stores written in Python

/// A Python nonce store seen by the core as a [`NonceStore`]. The object's
/// `check_and_insert(nonce, now_ms, expires_at_ms)` returns true when the
/// nonce was recorded, false when it is a replay; an exception it raises is
/// kept and re-raised unchanged once the core returns (the core sees a
/// refusal, so the request is never accepted: fail closed).
struct PyNonceStore {
    store: Py<PyAny>,
    raised: Option<PyErr>,
}

impl NonceStore for PyNonceStore {
    fn check_and_insert(
        &mut self,
        nonce: &[u8],
        now_ms: u64,
        expires_at_ms: u64,
    ) -> koosign::Result<()> {
        Python::attach(|py| {
            let nonce = String::from_utf8_lossy(nonce);
            let r = self
                .store
                .bind(py)
                .call_method1("check_and_insert", (nonce.as_ref(), now_ms, expires_at_ms))
                .and_then(|r| r.is_truthy());
            match r {
                Ok(true) => Ok(()),
                Ok(false) => Err(Error::ReplayedNonce),
                Err(e) => {
                    self.raised = Some(e);
                    Err(Error::NonceStoreFull)
                }
            }
        })
    }
}

impl PyNonceStore {
    /// The store argument of a verify function: `None` (or absent) is no store.
    fn from_arg(obj: Option<&Bound<'_, PyAny>>) -> Option<Self> {
        match obj {
            Some(s) if !s.is_none() => Some(PyNonceStore {
                store: s.clone().unbind(),
                raised: None,
            }),
            _ => None,
        }
    }

    /// The exception the store raised, if any: it replaces the core's
    /// refusal (the request is refused either way).
    fn raised(store: Option<PyNonceStore>) -> PyResult<()> {
        match store.and_then(|s| s.raised) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------
// Results

/// A verified V1 notification (S1).
#[pyclass(frozen, module = "koosign")]
struct VerifiedV1 {
    params: Vec<(String, String)>,
    #[pyo3(get)]
    key_index: usize,
    #[pyo3(get)]
    timestamp_ms: u64,
    key: PyBackedStr,
}

#[pymethods]
impl VerifiedV1 {
    /// The signed parameters, decoded, in canonical order (first value of a
    /// repeated name; `authToken` excluded). A new dict each time.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (n, v) in &self.params {
            d.set_item(n, v)?;
        }
        Ok(d)
    }

    /// `activity`, if present.
    #[getter]
    fn activity(&self) -> Option<&str> {
        self.lookup("activity")
    }

    /// The value of parameter `name`, or `default`.
    #[pyo3(signature = (name, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> Bound<'py, PyAny> {
        match self.lookup(name) {
            Some(v) => PyString::new(py, v).into_any(),
            None => default.unwrap_or_else(|| py.None().into_bound(py)),
        }
    }

    fn __getitem__(&self, name: &str) -> PyResult<&str> {
        self.lookup(name)
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(name.to_owned()))
    }

    fn __contains__(&self, name: &str) -> bool {
        self.lookup(name).is_some()
    }

    fn __len__(&self) -> usize {
        self.params.len()
    }

    /// Decrypts parameter `name` (e.g. `mobilePhone`, `email`) with the
    /// access key that matched (S4). `encrypt_type`: "auto", "1" or "2".
    #[pyo3(signature = (name, encrypt_type=None))]
    fn decrypt(
        &self,
        py: Python<'_>,
        name: &str,
        encrypt_type: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let wire = self.lookup(name).ok_or_else(|| missing(py, name))?;
        let mode = match encrypt_type {
            Some(t) => decrypt_mode(t)?,
            None => DecryptMode::Auto,
        };
        decrypt(py, wire, &self.key, mode)
    }

    fn __repr__(&self) -> String {
        format!(
            "VerifiedV1(activity={:?}, params={}, key_index={}, timestamp_ms={})",
            self.lookup("activity"),
            self.params.len(),
            self.key_index,
            self.timestamp_ms
        )
    }
}

impl VerifiedV1 {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `MissingParameter` for a name chosen at run time (the core's variant
/// takes a `&'static str`): same class, code and message format.
fn missing(py: Python<'_>, name: &str) -> PyErr {
    let e = MalformedRequest::new_err(format!("missing parameter `{name}`"));
    let _ = e
        .value(py)
        .setattr("code", Error::MissingParameter("").code());
    e
}

/// A verified V2 (S2) or kit (S2b) notification.
#[pyclass(frozen, module = "koosign")]
struct VerifiedV2 {
    body: Py<PyBytes>,
    #[pyo3(get)]
    key_index: usize,
    #[pyo3(get)]
    timestamp_ms: u64,
    #[pyo3(get)]
    nonce: String,
    /// "basic" (S2, query parameters) or "kit" (S2b, x-sign headers).
    #[pyo3(get)]
    scheme: &'static str,
    key: PyBackedStr,
}

#[pymethods]
impl VerifiedV2 {
    /// The exact body bytes that were verified.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.body.bind(py).clone()
    }

    /// The verified body as a dict, read as `koosign serve` reads it: the
    /// core's strict notification parser (`Notification::parse`: UTF-8,
    /// RFC 8259, a JSON object, nesting at most 64, each known field once
    /// and of its type) must accept it first, else `MalformedRequest`
    /// (answer 000002); the dict is then built from the core's strict walk
    /// (`walk_json`), never by `json.loads`: a duplicate name is refused, not
    /// read as whichever copy a parser keeps.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let body = self.body.bind(py);
        koosign::Notification::parse(body.as_bytes()).map_err(|e| err(py, e))?;
        merchant::json_value(py, body.as_bytes())
    }

    /// Decrypts a field value taken from this verified body with the access
    /// key that matched (S4). `encrypt_type`: "auto", "1" or "2".
    #[pyo3(signature = (wire, encrypt_type=None))]
    fn decrypt(
        &self,
        py: Python<'_>,
        wire: &Bound<'_, PyAny>,
        encrypt_type: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let wire = text(py, wire, "wire")?;
        let mode = match encrypt_type {
            Some(t) => decrypt_mode(t)?,
            None => DecryptMode::Auto,
        };
        decrypt(py, wire.as_str(), &self.key, mode)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "VerifiedV2(scheme={:?}, body_len={}, key_index={}, timestamp_ms={})",
            self.scheme,
            self.body.bind(py).as_bytes().len(),
            self.key_index,
            self.timestamp_ms
        )
    }
}

// ---------------------------------------------------------------------------
// S1 — V1

/// The owned parts of a verified V1 view (S1 and S1b share it).
type OwnedV1 = (Vec<(String, String)>, usize, u64);

fn owned_v1(v: &koosign::VerifiedV1<'_, '_>) -> OwnedV1 {
    let params = v.params().iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    (params, v.key_index(), v.time_stamp_ms())
}

fn verified_v1(py: Python<'_>, (params, key_index, timestamp_ms): OwnedV1, ks: &[PyBackedStr]) -> PyResult<VerifiedV1> {
    Ok(VerifiedV1 { params, key_index, timestamp_ms, key: ks[key_index].clone_ref(py) })
}

/// Verifies a V1 notification's query string (S1). See the stubs for the
/// contract. With a `nonce_store`, the core records the (repaired)
/// `authToken`, tagged `v1:`, once the MAC and the window passed.
#[pyfunction]
#[pyo3(signature = (query, access_keys, *, now=None, max_age=None, nonce_store=None))]
fn verify_v1(
    py: Python<'_>,
    query: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
    now: Option<f64>,
    max_age: Option<f64>,
    nonce_store: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifiedV1> {
    let q = text(py, query, "query")?;
    let ks = keys(access_keys)?;
    let fresh = freshness(now, max_age, "max_age")?;
    let q = q.as_str();
    let kr = refs(&ks);
    let mut store = PyNonceStore::from_arg(nonce_store);
    let r = run(py, q.len() >= DETACH_THRESHOLD, || {
        let st = match store.as_mut() { Some(s) => Replay::Store(s), None => Replay::Unchecked };
        let mut scratch = vec![0u8; koosign::v1::query_scratch_len(q.len())];
        koosign::verify_v1_query(q, &kr, fresh, st, &mut scratch).map(|v| owned_v1(&v))
    });
    PyNonceStore::raised(store)?;
    verified_v1(py, r.py(py)?, &ks)
}

/// S1b: verifies an old licence "Kit" POST (token header + JSON body).
#[pyfunction]
#[pyo3(signature = (auth_token, body, access_keys, *, now=None, max_age=None, nonce_store=None))]
#[allow(clippy::too_many_arguments)]
fn verify_v1_json(
    py: Python<'_>,
    auth_token: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
    now: Option<f64>,
    max_age: Option<f64>,
    nonce_store: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifiedV1> {
    let tok = text(py, auth_token, "auth_token")?;
    let b = self::body(py, body)?;
    let ks = keys(access_keys)?;
    let fresh = freshness(now, max_age, "max_age")?;
    let (tok, bytes, kr) = (tok.as_str(), b.bytes(), refs(&ks));
    let mut store = PyNonceStore::from_arg(nonce_store);
    let r = run(py, bytes.len() >= DETACH_THRESHOLD, || {
        let st = match store.as_mut() { Some(s) => Replay::Store(s), None => Replay::Unchecked };
        let mut scratch = vec![0u8; koosign::v1::json_scratch_len(bytes.len(), tok.len())];
        koosign::verify_v1_json(tok, bytes, &kr, fresh, st, &mut scratch).map(|v| owned_v1(&v))
    });
    PyNonceStore::raised(store)?;
    verified_v1(py, r.py(py)?, &ks)
}

/// The V1 canonical string of a query (S1 steps 1–5), for diagnostics.
#[pyfunction]
fn v1_canonical(py: Python<'_>, query: &Bound<'_, PyAny>) -> PyResult<String> {
    let q = text(py, query, "query")?;
    let q = q.as_str();
    let mut scratch = vec![0u8; q.len()];
    let p = V1Params::parse(q, &mut scratch).py(py)?;
    let mut out = vec![0u8; p.canonical_len()];
    Ok(p.canonical(&mut out).py(py)?.to_owned())
}

/// Decodes a query string as every KooGallery scheme does (split on `&`,
/// then on the first `=`; `+` → space, `%XY` → byte; strict escapes).
#[pyfunction]
fn parse_query(py: Python<'_>, query: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let q = text(py, query, "query")?;
    let q = q.as_str();
    let mut scratch = vec![0u8; q.len()];
    let p = koosign::parse_form(q, &mut scratch).py(py)?;
    Ok(p.as_slice()
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect())
}

/// The `authToken` for decoded V1 parameters (the marketplace's side).
#[pyfunction]
fn v1_auth_token(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let p = pairs(py, params, "params")?;
    let k = key(access_key, "access_key")?;
    Ok(koosign::v1_auth_token(&pair_refs(&p), &k)
        .py(py)?
        .as_str()
        .to_owned())
}

/// The query string the marketplace sends for V1 parameters, `authToken` appended.
#[pyfunction]
fn build_v1_query(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let p = pairs(py, params, "params")?;
    let k = key(access_key, "access_key")?;
    let pr = pair_refs(&p);
    koosign::build_v1_query_owned(&pr, &k).py(py)
}

// ---------------------------------------------------------------------------
// S2 / S2b — V2

#[allow(clippy::too_many_arguments)]
fn v2_common(
    py: Python<'_>,
    scheme: V2Scheme,
    auth: V2Auth<'_>,
    body_obj: &Bound<'_, PyAny>,
    b: &Body,
    ks: &[PyBackedStr],
    now: Option<f64>,
    window: Option<f64>,
    nonce_store: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifiedV2> {
    let fresh = freshness(now, window, "window")?;
    let bytes = b.bytes();
    let kr = refs(ks);
    let mut store = PyNonceStore::from_arg(nonce_store);
    let r = run(py, bytes.len() >= DETACH_THRESHOLD, || {
        let st = match store.as_mut() { Some(s) => Replay::Store(s), None => Replay::Unchecked };
        koosign::verify_v2(scheme, &auth, bytes, &kr, fresh, st)
            .map(|v| (v.key_index(), v.timestamp_ms()))
    });
    PyNonceStore::raised(store)?;
    let (key_index, timestamp_ms) = r.py(py)?;
    let body_py: Py<PyBytes> = match body_obj.cast::<PyBytes>() {
        Ok(b) => b.clone().unbind(),
        Err(_) => PyBytes::new(py, bytes).unbind(),
    };
    Ok(VerifiedV2 {
        body: body_py,
        key_index,
        timestamp_ms,
        nonce: auth.nonce.to_owned(),
        scheme: if scheme == V2Scheme::Headers {
            "kit"
        } else {
            "basic"
        },
        key: ks[key_index].clone_ref(py),
    })
}

/// Verifies a V2 notification (S2): `signature`, `timestamp`, `nonce` from
/// the raw query string or a mapping of query parameters; the exact body.
#[pyfunction]
#[pyo3(signature = (query_or_params, body, access_keys, *, now=None, window=Some(60.0), nonce_store=None))]
#[allow(clippy::too_many_arguments)]
fn verify_v2(
    py: Python<'_>,
    query_or_params: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
    now: Option<f64>,
    window: Option<f64>,
    nonce_store: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifiedV2> {
    let b = self::body(py, body)?;
    let ks = keys(access_keys)?;
    if query_or_params.is_instance_of::<PyString>()
        || query_or_params.is_instance_of::<PyBytes>()
        || query_or_params.is_instance_of::<PyByteArray>()
    {
        let q = text(py, query_or_params, "query")?;
        let q = q.as_str();
        with_scratch(koosign::v2::query_scratch_len(q.len()), |scratch| {
            let auth = V2Auth::from_query(q, scratch).py(py)?;
            v2_common(
                py,
                V2Scheme::Query,
                auth,
                body,
                &b,
                &ks,
                now,
                window,
                nonce_store,
            )
        })
    } else {
        let p = pairs(py, query_or_params, "query_or_params")?;
        let first = |name: &'static str| -> PyResult<&str> {
            p.iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| err(py, Error::MissingParameter(name)))
        };
        let auth = V2Auth {
            signature: first("signature")?,
            timestamp: first("timestamp")?,
            nonce: first("nonce")?,
        };
        v2_common(
            py,
            V2Scheme::Query,
            auth,
            body,
            &b,
            &ks,
            now,
            window,
            nonce_store,
        )
    }
}

/// Verifies a kit notification (S2b): `x-sign`, `x-timestamp`, `x-nonce`
/// headers (names case-insensitive) over the exact body.
#[pyfunction]
#[pyo3(signature = (headers, body, access_keys, *, now=None, window=Some(60.0), nonce_store=None))]
fn verify_kit(
    py: Python<'_>,
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
    now: Option<f64>,
    window: Option<f64>,
    nonce_store: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifiedV2> {
    let b = self::body(py, body)?;
    let ks = keys(access_keys)?;
    let h = pairs_with(py, headers, "headers", header_text)?;
    let hr = pair_refs(&h);
    let auth = V2Auth::from_headers(&hr).py(py)?;
    v2_common(
        py,
        V2Scheme::Headers,
        auth,
        body,
        &b,
        &ks,
        now,
        window,
        nonce_store,
    )
}

/// Computes a V2 signature (upper-case hex), the marketplace's side.
#[pyfunction]
#[pyo3(signature = (body, access_key, nonce, timestamp, *, kit=false))]
fn sign_v2(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    timestamp: &Bound<'_, PyAny>,
    kit: bool,
) -> PyResult<String> {
    let b = self::body(py, body)?;
    let k = key(access_key, "access_key")?;
    let n = text(py, nonce, "nonce")?;
    let ts = if timestamp.is_instance_of::<PyInt>() {
        koosign::format_unix_ms(timestamp.extract::<u64>()?)
            .as_str()
            .to_owned()
    } else {
        text(py, timestamp, "timestamp")?.as_str().to_owned()
    };
    let scheme = if kit { V2Scheme::Headers } else { V2Scheme::Query };
    let bytes = b.bytes();
    let (k, n) = (&*k, n.as_str());
    let r = run(py, bytes.len() >= DETACH_THRESHOLD, || {
        koosign::sign_v2(scheme, bytes, k, n, &ts).map(|s| s.as_str().to_owned())
    });
    r.py(py)
}

// ---------------------------------------------------------------------------
// S3 — Body-Sign

/// The `Body-Sign` header value for the exact response bytes.
#[pyfunction]
fn body_sign(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
) -> PyResult<Py<PyString>> {
    let b = self::body(py, body)?;
    let k = key(access_key, "access_key")?;
    let bytes = b.bytes();
    let k = &*k;
    let r = run(py, bytes.len() >= DETACH_THRESHOLD, || {
        koosign::body_sign(bytes, k)
    });
    Ok(PyString::new(py, r.py(py)?.as_str()).unbind())
}

/// Verifies a received `Body-Sign` value; returns the matching key's index.
#[pyfunction]
fn verify_body_sign(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let v = text(py, value, "value")?;
    let b = self::body(py, body)?;
    let ks = keys(access_keys)?;
    let (v, bytes, kr) = (v.as_str(), b.bytes(), refs(&ks));
    run(py, bytes.len() >= DETACH_THRESHOLD, || {
        koosign::verify_body_sign(v, bytes, &kr).map(|v| v.key_index())
    })
    .py(py)
}

// ---------------------------------------------------------------------------
// S4 — fields

fn decrypt(py: Python<'_>, wire: &str, key: &str, mode: DecryptMode) -> PyResult<String> {
    let mut out = vec![0u8; wire.len()];
    Ok(koosign::decrypt_field(wire, key, mode, &mut out)
        .py(py)?
        .to_owned())
}

/// Encrypts one field: `iv + b64(AES-CBC(plaintext))` with the SHA1PRNG key.
#[pyfunction]
#[pyo3(signature = (plaintext, access_key, encrypt_type=None, *, iv=None))]
fn encrypt_field(
    py: Python<'_>,
    plaintext: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
    encrypt_type: Option<&Bound<'_, PyAny>>,
    iv: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let p = text(py, plaintext, "plaintext")?;
    let k = key(access_key, "access_key")?;
    let ty = match encrypt_type {
        Some(t) => self::encrypt_type(t)?,
        None => EncryptType::Aes256,
    };
    let mut out = [0u8; koosign::field::MAX_WIRE_LEN];
    let fk = FieldKey::derive(&k, ty);
    let r = match iv {
        None => fk.encrypt(p.as_str(), &mut getrandom::SysRng, &mut out),
        Some(iv) => {
            let iv = text(py, iv, "iv")?;
            let iv: [u8; koosign::field::IV_LEN] = iv
                .as_str()
                .as_bytes()
                .try_into()
                .map_err(|_| PyValueError::new_err("iv must be 16 ASCII letters or digits"))?;
            fk.encrypt_with_iv(p.as_str(), &iv, &mut out)
        }
    };
    Ok(r.py(py)?.to_owned())
}

/// Decrypts one field (S4); `encrypt_type` "auto" tries AES-256 then AES-128.
#[pyfunction]
#[pyo3(signature = (wire, access_key, encrypt_type=None))]
fn decrypt_field(
    py: Python<'_>,
    wire: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
    encrypt_type: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let w = text(py, wire, "wire")?;
    let k = key(access_key, "access_key")?;
    let mode = match encrypt_type {
        Some(t) => decrypt_mode(t)?,
        None => DecryptMode::Auto,
    };
    decrypt(py, w.as_str(), &k, mode)
}

/// The AES key derived from an access key the JDK's way (bits 128 or 256).
#[pyfunction]
fn derive_key<'py>(
    py: Python<'py>,
    access_key: &Bound<'_, PyAny>,
    bits: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let k = key(access_key, "access_key")?;
    let ty = match bits {
        128 => EncryptType::Aes128,
        256 => EncryptType::Aes256,
        _ => return Err(PyValueError::new_err("bits must be 128 or 256")),
    };
    Ok(PyBytes::new(py, koosign::derive_key(&k, ty).as_bytes()))
}

/// AES-CBC + PKCS#7 decryption with a raw 16- or 32-byte key (the S4
/// cipher without the key derivation or the wire form): for known-answer
/// tests such as Wycheproof's. See the stubs for the contract.
#[pyfunction]
fn decrypt_raw<'py>(
    py: Python<'py>,
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let fk = FieldKey::from_raw(key).py(py)?;
    let iv: &[u8; 16] = iv
        .try_into()
        .map_err(|_| err(py, Error::MalformedEncoding("iv must be 16 bytes")))?;
    let mut out = vec![0u8; ciphertext.len()];
    let pt = fk.decrypt_raw(iv, ciphertext, &mut out).py(py)?;
    Ok(PyBytes::new(py, pt))
}

// ---------------------------------------------------------------------------
// S5 — licence ts/nonce/signature

/// The S5 licence signature (Base64), body signed as given.
#[pyfunction]
fn licence_sign(
    py: Python<'_>,
    ts: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let (ts, n) = (text(py, ts, "ts")?, text(py, nonce, "nonce")?);
    let b = self::body(py, body)?;
    let k = key(access_key, "access_key")?;
    let (ts, n, bytes, k) = (ts.as_str(), n.as_str(), b.bytes(), &*k);
    let r = run(py, bytes.len() >= DETACH_THRESHOLD, || {
        koosign::licence_sign(ts, n, bytes, k).map(|s| s.as_str().to_owned())
    });
    r.py(py)
}

/// Verifies an S5 licence signature; returns the matching key's index.
#[pyfunction]
#[pyo3(signature = (ts, nonce, body, signature, access_keys, *, now=None, max_age=None))]
#[allow(clippy::too_many_arguments)]
fn verify_licence(
    py: Python<'_>,
    ts: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    signature: &Bound<'_, PyAny>,
    access_keys: &Bound<'_, PyAny>,
    now: Option<f64>,
    max_age: Option<f64>,
) -> PyResult<usize> {
    let (ts, n, sig) = (
        text(py, ts, "ts")?,
        text(py, nonce, "nonce")?,
        text(py, signature, "signature")?,
    );
    let b = self::body(py, body)?;
    let ks = keys(access_keys)?;
    let fresh = freshness(now, max_age, "max_age")?;
    let (ts, n, sig, bytes, kr) = (ts.as_str(), n.as_str(), sig.as_str(), b.bytes(), refs(&ks));
    run(py, bytes.len() >= DETACH_THRESHOLD, || {
        koosign::verify_licence(ts, n, bytes, sig, &kr, fresh).map(|v| v.key_index())
    })
    .py(py)
}

// ---------------------------------------------------------------------------
// S6 — APIG

struct ApigInput {
    method: Text,
    url: Text,
    headers: Vec<(Text, Text)>,
    params: Vec<(Text, Text)>,
    /// `None`: no body (the empty one).
    body: Option<Body>,
}

impl ApigInput {
    fn body(&self) -> &[u8] {
        self.body.as_ref().map_or(&[], Body::bytes)
    }
}

/// Header pairs: an exact `dict` read in place (its items in order, as
/// `items()` gives them, without the view and a tuple per item), anything
/// else as [`pairs`] reads it.
fn header_pairs(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &'static str,
) -> PyResult<Vec<(Text, Text)>> {
    match obj.cast_exact::<PyDict>() {
        Ok(d) => {
            let mut out = Vec::with_capacity(d.len());
            for (n, v) in d.iter() {
                out.push((text(py, &n, what)?, text(py, &v, what)?));
            }
            Ok(out)
        }
        Err(_) => pairs(py, obj, what),
    }
}

fn apig_input(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    url: &Bound<'_, PyAny>,
    headers: Option<&Bound<'_, PyAny>>,
    body: Option<&Bound<'_, PyAny>>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<ApigInput> {
    Ok(ApigInput {
        method: text(py, method, "method")?,
        url: text(py, url, "url")?,
        headers: match headers {
            Some(h) if !h.is_none() => header_pairs(py, h, "headers")?,
            _ => Vec::new(),
        },
        params: match params {
            Some(p) if !p.is_none() => pairs(py, p, "params")?,
            _ => Vec::new(),
        },
        body: match body {
            Some(b) if !b.is_none() => Some(self::body(py, b)?),
            _ => None,
        },
    })
}

/// Calls `f` with the core's request view of `inp`: the URL split by the
/// core (`split_url` for a call about to be sent; `split_received_url`,
/// the path as it is, for one received or for `path_as_is`; SCHEMES.md S6
/// "Signing a whole URL"), then `params` appended to its query.
fn with_request<T>(
    inp: &ApigInput,
    received: bool,
    f: impl FnOnce(&ApigRequest<'_>) -> koosign::Result<T>,
) -> koosign::Result<T> {
    let url = inp.url.as_str();
    with_scratch(koosign::apig::url_scratch_len(url.len()), |scratch| {
        let split = if received {
            koosign::split_received_url(url, scratch)?
        } else {
            koosign::split_url(url, scratch)?
        };
        let mut query: Vec<(&str, &str)> = Vec::new();
        if !inp.params.is_empty() {
            query.extend_from_slice(split.query());
            query.extend(pair_refs(&inp.params));
        }
        let headers = pair_refs(&inp.headers);
        let mut req = split.request(inp.method.as_str(), &headers, inp.body());
        if !inp.params.is_empty() {
            req.query = &query;
        }
        f(&req)
    })
}

/// A zeroed output buffer of `len` bytes: on the stack up to 4 KiB (an
/// ordinary signed call), else on the heap.
fn with_out<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    const STACK: usize = 4096;
    if len <= STACK {
        let mut buf = [0u8; STACK];
        f(&mut buf[..len])
    } else {
        f(&mut vec![0u8; len])
    }
}

/// The Python class `koosign.ApigSignature` (a `dict` subclass defined in
/// the package) and `dict.__new__`, which makes an empty instance of it
/// without running its `__init__`.
static APIG_SIGNATURE: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();
static DICT_NEW: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// `koosign.ApigSignature` of a signed call: the headers to add as its
/// items (`Authorization` last), the intermediates as its attributes.
fn apig_signature<'py>(
    py: Python<'py>,
    s: &koosign::ApigSigned<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = APIG_SIGNATURE.import(py, "koosign", "ApigSignature")?;
    let new = DICT_NEW.get_or_try_init(py, || {
        py.get_type::<PyDict>().getattr("__new__").map(Bound::unbind)
    })?;
    let obj = new.bind(py).call1((cls,))?;
    let d = obj.cast::<PyDict>()?;
    for (name, value) in s.headers_to_add.iter() {
        let name = match *name {
            "Authorization" => pyo3::intern!(py, "Authorization"),
            "X-Sdk-Date" => pyo3::intern!(py, "X-Sdk-Date"),
            "Host" => pyo3::intern!(py, "Host"),
            "X-Sdk-Content-Sha256" => pyo3::intern!(py, "X-Sdk-Content-Sha256"),
            other => &PyString::new(py, other),
        };
        d.set_item(name, PyString::new(py, value))?;
    }
    for (name, value) in [
        (pyo3::intern!(py, "canonical_request"), s.canonical_request),
        (pyo3::intern!(py, "string_to_sign"), s.string_to_sign),
        (pyo3::intern!(py, "signature"), s.signature.as_str()),
        (pyo3::intern!(py, "signed_headers"), s.signed_headers),
        (pyo3::intern!(py, "canonical_query"), s.canonical_query),
        (pyo3::intern!(py, "authorization"), s.authorization),
    ] {
        obj.setattr(name, PyString::new(py, value))?;
    }
    Ok(obj)
}

/// Signs calls to the marketplace's open APIs (S6, `SDK-HMAC-SHA256`).
#[pyclass(frozen, subclass, module = "koosign")]
struct ApigSigner {
    ak: PyBackedStr,
    sk: PyBackedStr,
}

#[pymethods]
impl ApigSigner {
    #[new]
    fn new(py: Python<'_>, ak: &Bound<'_, PyAny>, sk: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (ak, sk) = (key(ak, "ak")?, key(sk, "sk")?);
        if ak.is_empty() || sk.is_empty() {
            return Err(err(py, Error::NoAccessKey));
        }
        Ok(ApigSigner { ak, sk })
    }

    /// The access key ID (not secret).
    #[getter]
    fn ak(&self) -> &str {
        &self.ak
    }

    /// Signs ``method url`` with ``headers`` (as they will be sent; all
    /// are signed except names containing ``_``) and the exact ``body``
    /// (``None``: empty).
    ///
    /// ``url`` is absolute (``https://host/path?query``) and is read as
    /// ``requests`` sends it (the core's ``split_url``, SCHEMES.md S6
    /// "Signing a whole URL"): host lower-cased, default port dropped, dot
    /// segments removed, fragment dropped; its query is form-decoded
    /// (write a literal ``+`` as ``%2B``); ``params`` are more decoded query
    /// pairs. ``path_as_is=True`` keeps the path exactly as written (for a
    /// client that sends it so, like ``curl --path-as-is``). ``X-Sdk-Date``
    /// comes from ``headers`` or from ``now`` (Unix seconds; default: the
    /// clock). Returns the headers to add, an :class:`ApigSignature`.
    /// Raises :class:`MalformedRequest` (bad URL, date, encoding),
    /// :class:`AmbiguousRequest` (a URL the HTTP clients send differently,
    /// e.g. a ``%2e`` dot segment) or :class:`KoosignError` (empty AK/SK).
    #[pyo3(signature = (method, url, headers=None, body=None, *, now=None, params=None, path_as_is=false))]
    #[allow(clippy::too_many_arguments)]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'_, PyAny>,
        url: &Bound<'_, PyAny>,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
        params: Option<&Bound<'_, PyAny>>,
        path_as_is: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inp = apig_input(py, method, url, headers, body, params)?;
        let now = now_ms(now)?;
        let (ak, sk) = (&*self.ak, &*self.sk);
        // The GIL is released only around the core's call, for a large body.
        let big = inp.body().len() >= DETACH_THRESHOLD;
        let r = with_request(&inp, path_as_is, |req| {
            Ok(with_out(koosign::apig_sign_out_len(req, ak.len()), |out| {
                run(py, big, || koosign::sign_apig(req, ak, sk, Some(now), out))
                    .py(py)
                    .and_then(|s| apig_signature(py, &s))
            }))
        });
        r.py(py)?
    }

    fn __repr__(&self) -> String {
        format!("ApigSigner(ak={:?}, sk=<hidden>)", &*self.ak)
    }
}

/// Server side of S6: verifies a signed request against `(ak, sk)` pairs;
/// returns `(credential_index, unsigned_payload)` (the core's
/// `ApigVerified`). The public `koosign.verify_apig` wraps this.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, credentials, *, now=None, max_age=None))]
#[allow(clippy::too_many_arguments)]
fn _verify_apig(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    url: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    credentials: &Bound<'_, PyAny>,
    now: Option<f64>,
    max_age: Option<f64>,
) -> PyResult<(usize, bool)> {
    let inp = apig_input(py, method, url, Some(headers), Some(body), None)?;
    let creds = pairs(py, credentials, "credentials")?;
    let cr = pair_refs(&creds);
    let fresh = freshness(now, max_age, "max_age")?;
    let r = run(py, inp.body().len() >= DETACH_THRESHOLD, || {
        with_request(&inp, true, |req| {
            koosign::verify_apig(req, &cr, fresh).map(|v| (v.credential_index, v.unsigned_payload))
        })
    });
    r.py(py)
}

/// The native half of the `koosign` package.
#[pymodule]
mod _koosign {
    #[pymodule_export]
    use super::{
        _verify_apig, body_sign, build_v1_query, decrypt_field, decrypt_raw, derive_key, encrypt_field,
        licence_sign, parse_query, sign_v2, v1_auth_token, v1_canonical, verify_body_sign,
        verify_kit, verify_licence, verify_v1, verify_v1_json, verify_v2, AmbiguousRequest,
        ApigSigner, DecryptError, KoosignError, MalformedRequest, ReplayedNonce,
        SignatureMismatch, StaleTimestamp, StoreUnavailable, VerifiedV1, VerifiedV2,
    };
    #[pymodule_export]
    use super::merchant::{
        _class_codes, _merchant_failure_code, _result_code_of, check_response, loads_strict, InMemoryNonceStore,
        PyMerchant, SignedAnswer, Unchecked, Verified,
    };

    /// The largest refusal body the core writes, bytes.
    #[pymodule_export]
    const REFUSAL_MAX_LEN: usize = koosign::REFUSAL_MAX_LEN;

    /// The deepest nesting the strict notification parser accepts.
    #[pymodule_export]
    const MAX_DEPTH: usize = koosign::MAX_DEPTH;

    /// The V2 / kit freshness window (±60 s, SCHEMES.md S2), milliseconds.
    #[pymodule_export]
    const DEFAULT_WINDOW_MS: u64 = koosign::DEFAULT_WINDOW_MS;

    /// The default V1 window of endpoints (±5 min, SCHEMES.md S1 item 8), milliseconds.
    #[pymodule_export]
    const V1_DEFAULT_WINDOW_MS: u64 = koosign::V1_DEFAULT_WINDOW_MS;

    /// The default S6 X-Sdk-Date window of a verifier (±15 min, SCHEMES.md S6), milliseconds.
    #[pymodule_export]
    const APIG_DEFAULT_WINDOW_MS: u64 = koosign::APIG_DEFAULT_WINDOW_MS;

    /// The largest notification body an endpoint reads (1 MiB, SCHEMES.md
    /// §Answers), bytes: the framework helpers refuse a larger one unread.
    #[pymodule_export]
    const MAX_NOTIFICATION_BODY: usize = koosign::MAX_NOTIFICATION_BODY;

    #[pymodule_export]
    const BODY_SIGN_HEADER: &str = koosign::BODY_SIGN_HEADER;

    #[pymodule_export]
    const DETACH_THRESHOLD: usize = super::DETACH_THRESHOLD;

    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");
}
