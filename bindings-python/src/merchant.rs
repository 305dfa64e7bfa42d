//! The keyed merchant context (`koosign::merchant::Merchant`) as the Python
//! class `koosign.Merchant`, its verified view, the core's in-memory replay
//! store, the response contract (`check_response`) and the `resultCode`
//! table (`answer::result_code`). Translation only: every rule (protocol
//! detection, the body limit, freshness, replay, the strict notification,
//! the activity table, the answer codes and their signed bodies) is the
//! core's.

use super::{body, decrypt_mode, encrypt_type, err, header_text, keys, pairs_with, refs, run, text, Body, CoreResult, Text, DETACH_THRESHOLD};
use koosign::answer::{result_code, ResultCode, Stage, REFUSAL_MAX_LEN};
use koosign::merchant::{Answer, AppInfo, Merchant as CoreMerchant, Policy, Rejection, Replay, Request, Window};
use koosign::response::Expect;
use koosign::{DecryptMode, EncryptType, Error, FieldCipher, JsonStr, JsonVisitor, NonceStore, NonceTable};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The core context, up to this many access keys (rotation).
type Core = CoreMerchant<4>;

/// The default capacity of a [`InMemoryNonceStore`] (entries of 40 bytes).
pub const DEFAULT_CAPACITY: usize = koosign::nonce::DEFAULT_CAPACITY;

// ---------------------------------------------------------------------------
// The named "no check"

/// `koosign.UNCHECKED`: the one value that leaves a window or the replay
/// check out (`Window::Unchecked`, `Replay::Unchecked`). Never implied by
/// `None` or `0`.
#[pyclass(frozen, module = "koosign", name = "Unchecked")]
pub struct Unchecked;

#[pymethods]
impl Unchecked {
    #[new]
    fn new() -> Self {
        Unchecked
    }

    fn __repr__(&self) -> &'static str {
        "koosign.UNCHECKED"
    }
}

fn is_unchecked(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<Unchecked>()
}

/// A window argument: seconds (int or float, >= 0) or `UNCHECKED`; absent
/// or `None`: the core's default (`Policy::default()`).
fn window(obj: Option<&Bound<'_, PyAny>>, default: Window, what: &str) -> PyResult<Window> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(default) };
    if is_unchecked(obj) {
        return Ok(Window::Unchecked);
    }
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!("{what} must be seconds or koosign.UNCHECKED")));
    }
    let s: f64 = obj
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be seconds (int or float) or koosign.UNCHECKED")))?;
    if !s.is_finite() || !(0.0..=1.0e13).contains(&s) {
        return Err(PyValueError::new_err(format!("{what} must be a finite number of seconds >= 0")));
    }
    Ok(Window::checked((s * 1000.0).round() as u64))
}

fn window_secs(py: Python<'_>, w: Window) -> PyResult<Py<PyAny>> {
    Ok(match w {
        Window::Checked { window_ms } => (window_ms as f64 / 1000.0).into_pyobject(py)?.into_any().unbind(),
        Window::Unchecked => Py::new(py, Unchecked)?.into_any(),
    })
}

// ---------------------------------------------------------------------------
// Replay stores

/// An in-process, thread-safe replay store of a capacity chosen at run time:
/// the core's `NonceTable::with_capacity` (SHA-256 of each key and its
/// expiry, 40 bytes an entry, allocated once). Full of unexpired entries it
/// refuses (`NONCE_STORE_FULL`, answered `000005`) rather than forget one.
/// One process only: use `RedisNonceStore` for several.
#[pyclass(frozen, subclass, module = "koosign")]
pub struct InMemoryNonceStore {
    table: Mutex<NonceTable>,
}

impl InMemoryNonceStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, NonceTable> {
        // A panic while holding the lock cannot leave the table invalid.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl InMemoryNonceStore {
    #[new]
    #[pyo3(signature = (max_entries=DEFAULT_CAPACITY))]
    fn new(max_entries: usize) -> PyResult<Self> {
        if max_entries < 1 {
            return Err(PyValueError::new_err("max_entries must be at least 1"));
        }
        Ok(InMemoryNonceStore { table: Mutex::new(NonceTable::with_capacity(max_entries)) })
    }

    /// The capacity (entries).
    #[getter]
    fn max_entries(&self) -> usize {
        self.lock().capacity()
    }

    /// Records `nonce` (str or bytes) until `expires_at_ms`: `True` when it
    /// was new, `False` for a replay; raises `KoosignError`
    /// (`NONCE_STORE_FULL`) when full.
    fn check_and_insert(&self, py: Python<'_>, nonce: &Bound<'_, PyAny>, now_ms: u64, expires_at_ms: u64) -> PyResult<bool> {
        let n = store_key(py, nonce)?;
        match self.lock().check_and_insert(&n, now_ms, expires_at_ms) {
            Ok(()) => Ok(true),
            Err(Error::ReplayedNonce) => Ok(false),
            Err(e) => Err(err(py, e)),
        }
    }

    fn __len__(&self) -> usize {
        self.lock().len()
    }

    fn __repr__(&self) -> String {
        let t = self.lock();
        format!("InMemoryNonceStore(len={}, max_entries={})", t.len(), t.capacity())
    }
}

fn store_key(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Ok(text(py, obj, "nonce")?.as_str().as_bytes().to_vec())
}

/// The outcome of a Python store's `check_and_insert` (its return value or
/// the exception it raised) as the core reads a store's answer: true →
/// recorded; false → `ReplayedNonce`; an awaitable (an async store given to
/// the synchronous `verify`) or an exception → `StoreUnavailable`, except a
/// koosign `NONCE_STORE_FULL` → `NonceStoreFull`.
fn store_outcome(outcome: &Bound<'_, PyAny>) -> Result<(), Error> {
    if outcome.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        let full = outcome.getattr("code").ok().and_then(|c| c.extract::<String>().ok());
        return Err(if full.as_deref() == Some(Error::NonceStoreFull.code()) {
            Error::NonceStoreFull
        } else {
            Error::StoreUnavailable
        });
    }
    if outcome.hasattr("__await__").unwrap_or(true) {
        // never awaited: close a coroutine so it does not linger
        let _ = outcome.call_method0("close");
        return Err(Error::StoreUnavailable);
    }
    match outcome.is_truthy() {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::ReplayedNonce),
        Err(_) => Err(Error::StoreUnavailable),
    }
}

// ---------------------------------------------------------------------------
// JSON from the core's strict walk

/// Builds Python objects from `walk_json`'s events: dict, list, str, int,
/// float, bool, None (what `json.loads` gives, from the core's parse).
struct PyJson<'py> {
    py: Python<'py>,
    stack: Vec<Bound<'py, PyAny>>,
    keys: Vec<Option<Bound<'py, PyString>>>,
    root: Option<Bound<'py, PyAny>>,
    raised: Option<PyErr>,
}

impl<'py> PyJson<'py> {
    fn put(&mut self, v: Bound<'py, PyAny>) -> koosign::Result<()> {
        let r = match self.stack.last() {
            None => {
                self.root = Some(v);
                Ok(())
            }
            Some(top) => match self.keys.last_mut().and_then(Option::take) {
                Some(k) => top.cast::<PyDict>().map_err(PyErr::from).and_then(|d| d.set_item(k, v)),
                None => top.cast::<PyList>().map_err(PyErr::from).and_then(|l| l.append(v)),
            },
        };
        r.map_err(|e| self.fail(e))
    }

    fn fail(&mut self, e: PyErr) -> Error {
        self.raised = Some(e);
        Error::MalformedEncoding("the JSON could not be built")
    }

    fn text(&mut self, s: JsonStr<'_>) -> Bound<'py, PyString> {
        match s.borrowed() {
            Some(t) => PyString::new(self.py, t),
            None => PyString::new(self.py, &s.chars().collect::<String>()),
        }
    }

    fn open(&mut self, v: Bound<'py, PyAny>) -> koosign::Result<()> {
        self.put(v.clone())?;
        self.stack.push(v);
        self.keys.push(None);
        Ok(())
    }

    fn close(&mut self) -> koosign::Result<()> {
        self.stack.pop();
        self.keys.pop();
        Ok(())
    }
}

impl<'b> JsonVisitor<'b> for PyJson<'_> {
    fn begin_object(&mut self) -> koosign::Result<()> {
        let d = PyDict::new(self.py).into_any();
        self.open(d)
    }
    fn end_object(&mut self) -> koosign::Result<()> {
        self.close()
    }
    fn begin_array(&mut self) -> koosign::Result<()> {
        let l = PyList::empty(self.py).into_any();
        self.open(l)
    }
    fn end_array(&mut self) -> koosign::Result<()> {
        self.close()
    }
    fn key(&mut self, key: JsonStr<'b>) -> koosign::Result<()> {
        let k = self.text(key);
        if let Some(slot) = self.keys.last_mut() {
            *slot = Some(k);
        }
        Ok(())
    }
    fn string(&mut self, value: JsonStr<'b>) -> koosign::Result<()> {
        let s = self.text(value).into_any();
        self.put(s)
    }
    fn number(&mut self, raw: &'b str) -> koosign::Result<()> {
        let py = self.py;
        let v = if raw.contains(['.', 'e', 'E']) {
            match raw.parse::<f64>() {
                Ok(f) => Ok(f.into_pyobject(py).map(|o| o.into_any()).unwrap_or_else(|_| py.None().into_bound(py))),
                Err(_) => Ok(py.None().into_bound(py)),
            }
        } else if let Ok(i) = raw.parse::<i64>() {
            i.into_pyobject(py).map(|o| o.into_any()).map_err(PyErr::from)
        } else {
            // Beyond 64 bits: Python's int() reads the (RFC 8259) digits.
            py.get_type::<pyo3::types::PyInt>().call1((raw,))
        };
        match v {
            Ok(v) => self.put(v),
            Err(e) => Err(self.fail(e)),
        }
    }
    fn bool(&mut self, value: bool) -> koosign::Result<()> {
        let v = pyo3::types::PyBool::new(self.py, value).to_owned().into_any();
        self.put(v)
    }
    fn null(&mut self) -> koosign::Result<()> {
        let v = self.py.None().into_bound(self.py);
        self.put(v)
    }
}

/// The Python value of a JSON text, built from the core's strict walk
/// (`koosign::walk_json`: UTF-8, RFC 8259, no duplicate names at any depth,
/// nesting at most `MAX_DEPTH`). Errors: the core's (`MalformedRequest`).
pub(crate) fn json_value<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let mut v = PyJson { py, stack: Vec::new(), keys: Vec::new(), root: None, raised: None };
    let r = koosign::walk_json(bytes, &mut v);
    if let Some(e) = v.raised {
        return Err(e);
    }
    r.py(py)?;
    Ok(v.root.unwrap_or_else(|| py.None().into_bound(py)))
}

/// `koosign.loads_strict(body)`: a JSON text as Python objects, parsed by
/// the core's strict walker (the only JSON parser for notification bodies).
#[pyfunction]
pub fn loads_strict<'py>(py: Python<'py>, body: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let b = self::body(py, body)?;
    json_value(py, b.bytes())
}

// ---------------------------------------------------------------------------
// The verified view

enum Content {
    V1(Vec<(String, String)>),
    V2(Py<PyBytes>),
}

/// A verified, fresh, first-seen notification with a known activity and its
/// required fields (the core's `merchant::Verified`, owned).
#[pyclass(frozen, module = "koosign")]
pub struct Verified {
    /// `"v1"` (S1 query), `"v1json"` (S1b), `"v2"` (S2 query), `"kit"` (S2b headers).
    #[pyo3(get)]
    protocol: &'static str,
    /// The validated activity's wire name (`"newInstance"`, `"upgrade"` ...).
    #[pyo3(get)]
    activity: &'static str,
    /// Index into the merchant's access keys of the one that matched.
    #[pyo3(get)]
    key_index: usize,
    /// The request's timestamp, Unix milliseconds.
    #[pyo3(get)]
    timestamp_ms: u64,
    /// The key its nonce or token is recorded under in a replay store
    /// (V2/S2b: the nonce; V1/S1b: `v1:` + the repaired token).
    #[pyo3(get)]
    replay_key: String,
    /// Until when (Unix ms) the replay key must be remembered.
    #[pyo3(get)]
    replay_expires_ms: u64,
    content: Content,
    cipher: std::sync::Arc<FieldCipher>,
}

#[pymethods]
impl Verified {
    /// The exact verified body (`b""` for an S1 GET).
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        match &self.content {
            Content::V2(b) => b.bind(py).clone(),
            Content::V1(_) => PyBytes::new(py, b""),
        }
    }

    /// The notification as a new dict: for V2 / S2b the body as built from
    /// the core's strict walk (never `json.loads`); for V1 / S1b the signed
    /// parameters (str → str, first value of a repeated name, `authToken`
    /// excluded).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.content {
            Content::V2(b) => json_value(py, b.bind(py).as_bytes()),
            Content::V1(p) => {
                let d = PyDict::new(py);
                for (n, v) in p {
                    if !d.contains(n)? {
                        d.set_item(n, v)?;
                    }
                }
                Ok(d.into_any())
            }
        }
    }

    /// A member of the notification (`json()[name]`), or `default`.
    #[pyo3(signature = (name, default=None))]
    fn get<'py>(&self, py: Python<'py>, name: &str, default: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let d = self.json(py)?;
        let v = d.cast::<PyDict>().ok().and_then(|d| d.get_item(name).ok().flatten());
        Ok(v.unwrap_or_else(|| default.unwrap_or_else(|| py.None().into_bound(py))))
    }

    fn __getitem__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.json(py)?.get_item(name)
    }

    fn __contains__(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.json(py)?.contains(name)
    }

    /// Decrypts an inbound field (S4) with the access key that matched: a
    /// wire value, or for V1 the name of a parameter (`mobilePhone`,
    /// `email`). `encrypt_type`: "auto" (default), "1" or "2".
    #[pyo3(signature = (wire, encrypt_type=None))]
    fn decrypt(&self, py: Python<'_>, wire: &Bound<'_, PyAny>, encrypt_type: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let w = text(py, wire, "wire")?;
        let mut w = w.as_str().to_owned();
        if let Content::V1(p) = &self.content {
            if let Some((_, v)) = p.iter().find(|(n, _)| *n == w) {
                w = v.clone();
            }
        }
        let mode = match encrypt_type {
            Some(t) => decrypt_mode(t)?,
            None => DecryptMode::Auto,
        };
        let mut out = vec![0u8; koosign::field::decrypt_out_len(w.len())];
        Ok(self.cipher.decrypt(&w, mode, &mut out).py(py)?.to_owned())
    }

    fn __repr__(&self) -> String {
        format!(
            "Verified(protocol={:?}, activity={:?}, key_index={}, timestamp_ms={})",
            self.protocol, self.activity, self.key_index, self.timestamp_ms
        )
    }
}

// ---------------------------------------------------------------------------
// A signed answer

/// An answer to send: the exact `body` bytes and their `body_sign` (the
/// `Body-Sign` header value, S3). Unpacks as `(body, body_sign)`.
#[pyclass(frozen, module = "koosign")]
pub struct SignedAnswer {
    #[pyo3(get)]
    body: Py<PyBytes>,
    #[pyo3(get)]
    body_sign: String,
}

impl SignedAnswer {
    fn new(py: Python<'_>, body: &[u8], body_sign: &str) -> Self {
        SignedAnswer { body: PyBytes::new(py, body).unbind(), body_sign: body_sign.to_owned() }
    }
}

#[pymethods]
impl SignedAnswer {
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = pyo3::types::PyTuple::new(py, [self.body.clone_ref(py).into_any(), PyString::new(py, &self.body_sign).into_any().unbind()])?;
        t.try_iter().map(|i| i.into_any())
    }

    fn __len__(&self) -> usize {
        2
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        match i {
            0 | -2 => Ok(self.body.clone_ref(py).into_any()),
            1 | -1 => Ok(PyString::new(py, &self.body_sign).into_any().unbind()),
            _ => Err(pyo3::exceptions::PyIndexError::new_err("a SignedAnswer is (body, body_sign)")),
        }
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> bool {
        if let Ok(o) = other.cast::<SignedAnswer>() {
            let o = o.get();
            return o.body.bind(py).as_bytes() == self.body.bind(py).as_bytes() && o.body_sign == self.body_sign;
        }
        let Ok((b, s)) = other.extract::<(Vec<u8>, String)>() else { return false };
        b == self.body.bind(py).as_bytes() && s == self.body_sign
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("SignedAnswer(body={:?}, body_sign=...)", String::from_utf8_lossy(self.body.bind(py).as_bytes()))
    }
}

// ---------------------------------------------------------------------------
// The context

/// `koosign.Merchant`: the keyed merchant context, built once.
#[pyclass(frozen, subclass, module = "koosign", name = "Merchant")]
pub struct PyMerchant {
    inner: Core,
    ciphers: Vec<std::sync::Arc<FieldCipher>>,
    store: Py<PyAny>,
    clock: Option<Py<PyAny>>,
}

/// What the request arguments become.
struct Input {
    method: Text,
    query: Text,
    headers: Vec<(Text, Text)>,
    body: Body,
}

fn input(
    py: Python<'_>,
    method: &Bound<'_, PyAny>,
    query: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
) -> PyResult<Input> {
    Ok(Input {
        method: text(py, method, "method")?,
        query: header_text(py, query, "query")?,
        headers: if headers.is_none() { Vec::new() } else { pairs_with(py, headers, "headers", header_text)? },
        body: self::body(py, body)?,
    })
}

/// The owned parts of a core `Verified`.
struct Owned {
    protocol: &'static str,
    activity: &'static str,
    key_index: usize,
    timestamp_ms: u64,
    replay_key: String,
    replay_expires_ms: u64,
    params: Option<Vec<(String, String)>>,
}

fn system_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl PyMerchant {
    fn now(&self, py: Python<'_>, now_ms: Option<u64>) -> PyResult<u64> {
        match (now_ms, &self.clock) {
            (Some(n), _) => Ok(n),
            (None, Some(c)) => c.bind(py).call0()?.extract::<u64>(),
            (None, None) => Ok(system_ms()),
        }
    }

    /// The exception of a refusal: the core's error translated as every
    /// binding error is, carrying `result_code` (the core's table at the
    /// stage the error was met) and `refusal` (the signed answer to send:
    /// `(body bytes, Body-Sign value)`, signed with the key at `key_index`:
    /// the verifying key after authentication, key 0 before — the core's
    /// `Rejection::key_index`, docs/SCHEMES.md §S3 "(decision) Key rotation").
    fn rejected(&self, py: Python<'_>, error: Error, code: ResultCode, key_index: usize) -> PyErr {
        let e = err(py, error);
        let mut out = [0u8; REFUSAL_MAX_LEN];
        if let Ok(a) = self.inner.answer_code_for(key_index, code, &mut out) {
            let v = e.value(py);
            let _ = v.setattr("refusal", SignedAnswer::new(py, a.body().as_bytes(), a.body_sign()));
            let _ = v.setattr("result_code", code.as_str());
        }
        e
    }

    fn rejection(&self, py: Python<'_>, r: &Rejection) -> PyErr {
        self.rejected(py, r.error(), r.result_code(), r.key_index().unwrap_or(0))
    }

    /// Verifies with `replay`; the owned view or the typed exception.
    fn run_verify(&self, py: Python<'_>, inp: &Input, now: u64, store: Choice<'_>) -> PyResult<Owned> {
        let headers: Vec<(&str, &str)> = inp.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let req = Request { method: inp.method.as_str(), query: inp.query.as_str(), headers: &headers, body: inp.body.bytes() };
        let big = req.body.len() >= DETACH_THRESHOLD;
        let inner = &self.inner;
        let r = run(py, big, || {
            super::with_scratch(koosign::merchant::scratch_len(&req), |scratch| {
                let mut guard;
                let replay = match store {
                    Choice::Native(s) => {
                        guard = s.lock();
                        Replay::Store(&mut *guard)
                    }
                    Choice::Deferred => Replay::Deferred,
                    Choice::Unchecked => Replay::Unchecked,
                };
                // Built and read in place (`verify_into`): the core's
                // `Verified` holds its ~4 KiB `Notification`, never moved.
                let mut out = None;
                let r = inner.verify_into(&req, now, replay, scratch, &mut out);
                r.map(|v| Owned {
                    protocol: v.protocol().as_str(),
                    activity: v.activity().as_str(),
                    key_index: v.key_index(),
                    timestamp_ms: v.timestamp_ms(),
                    replay_key: String::from_utf8_lossy(v.replay_key()).into_owned(),
                    replay_expires_ms: v.replay_expires_ms(),
                    params: v.v1().map(|p| {
                        p.params()
                            .iter()
                            .filter(|(n, _)| *n != koosign::v1::AUTH_TOKEN)
                            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                            .collect()
                    }),
                })
            })
        });
        r.map_err(|rej| self.rejection(py, &rej))
    }

    fn view(&self, py: Python<'_>, o: Owned, body_obj: &Bound<'_, PyAny>, inp: &Input) -> Verified {
        let content = match o.params {
            Some(p) => Content::V1(p),
            None => Content::V2(match body_obj.cast::<PyBytes>() {
                Ok(b) => b.clone().unbind(),
                Err(_) => PyBytes::new(py, inp.body.bytes()).unbind(),
            }),
        };
        Verified {
            protocol: o.protocol,
            activity: o.activity,
            key_index: o.key_index,
            timestamp_ms: o.timestamp_ms,
            replay_key: o.replay_key,
            replay_expires_ms: o.replay_expires_ms,
            content,
            cipher: self.ciphers[o.key_index].clone(),
        }
    }
}

enum Choice<'a> {
    Native(&'a InMemoryNonceStore),
    Deferred,
    Unchecked,
}

fn app_info<'a>(d: &'a Bound<'_, PyAny>, keep: &'a mut Vec<String>) -> PyResult<()> {
    for name in ["frontEndUrl", "adminUrl", "userName", "password", "memo"] {
        let v = d.get_item(name).ok().filter(|v| !v.is_none());
        keep.push(match v {
            Some(v) => {
                let s: String = v.extract().map_err(|_| PyTypeError::new_err(format!("appInfo {name} must be a str")))?;
                // a marker byte for "present" (an empty string is sent as "")
                format!("\u{1}{s}")
            }
            None => String::new(),
        });
    }
    Ok(())
}

fn core_app_info(k: &[String]) -> AppInfo<'_> {
    let f = |i: usize| k[i].strip_prefix('\u{1}');
    AppInfo { front_end_url: f(0), admin_url: f(1), user_name: f(2), password: f(3), memo: f(4) }
}

#[pymethods]
impl PyMerchant {
    /// `Merchant(access_keys, *, v2_window=60.0, v1_window=300.0,
    /// licence_window=60.0, store=None, clock=None)`. See the stubs.
    #[new]
    #[pyo3(signature = (access_keys, *, v2_window=None, v1_window=None, licence_window=None, store=None, clock=None))]
    fn new(
        py: Python<'_>,
        access_keys: &Bound<'_, PyAny>,
        v2_window: Option<&Bound<'_, PyAny>>,
        v1_window: Option<&Bound<'_, PyAny>>,
        licence_window: Option<&Bound<'_, PyAny>>,
        store: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let ks = keys(access_keys)?;
        let d = Policy::default();
        let policy = Policy {
            v2_window: window(v2_window, d.v2_window, "v2_window")?,
            v1_window: window(v1_window, d.v1_window, "v1_window")?,
            licence_window: window(licence_window, d.licence_window, "licence_window")?,
        };
        let kr = refs(&ks);
        let inner = Core::new(&kr, policy).py(py)?;
        let ciphers = kr.iter().map(|k| std::sync::Arc::new(FieldCipher::new(k))).collect();
        let store = match store.filter(|s| !s.is_none()) {
            Some(s) => s.clone().unbind(),
            None => Py::new(py, InMemoryNonceStore::new(DEFAULT_CAPACITY)?)?.into_any(),
        };
        let clock = clock.filter(|c| !c.is_none()).map(|c| c.clone().unbind());
        Ok(PyMerchant { inner, ciphers, store, clock })
    }

    /// The replay store `verify` uses unless given another.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<PyAny> {
        self.store.clone_ref(py)
    }

    #[getter]
    fn key_count(&self) -> usize {
        self.inner.key_count()
    }

    /// The windows, seconds (or `UNCHECKED`).
    #[getter]
    fn v2_window(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        window_secs(py, self.inner.policy().v2_window)
    }
    #[getter]
    fn v1_window(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        window_secs(py, self.inner.policy().v1_window)
    }
    #[getter]
    fn licence_window(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        window_secs(py, self.inner.policy().licence_window)
    }

    /// Verifies a notification end to end (docs/SCHEMES.md §Answers): see
    /// the stubs. Returns a `Verified`; raises the typed exception with
    /// `.refusal` and `.result_code`.
    #[pyo3(signature = (method, query, headers, body, *, now_ms=None, store=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        py: Python<'_>,
        method: &Bound<'_, PyAny>,
        query: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now_ms: Option<u64>,
        store: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Verified> {
        let inp = input(py, method, query, headers, body)?;
        let now = self.now(py, now_ms)?;
        let store = match store.filter(|s| !s.is_none()) {
            Some(s) => s.clone(),
            None => self.store.bind(py).clone(),
        };
        let native = store.cast_exact::<InMemoryNonceStore>().ok().map(|s| s.clone());
        let choice = if is_unchecked(&store) {
            Choice::Unchecked
        } else if let Some(n) = &native {
            Choice::Native(n.get())
        } else {
            Choice::Deferred
        };
        let deferred = matches!(choice, Choice::Deferred);
        let o = self.run_verify(py, &inp, now, choice)?;
        if deferred {
            let outcome = match store.call_method1("check_and_insert", (o.replay_key.as_str(), now, o.replay_expires_ms)) {
                Ok(v) => v,
                Err(e) => e.into_value(py).into_bound(py).into_any(),
            };
            if let Some(exc) = self.store_refusal(py, &outcome)? {
                return Err(PyErr::from_value(exc));
            }
        }
        Ok(self.view(py, o, body, &inp))
    }

    /// `verify` without the replay check (`Replay::Deferred`), for
    /// `verify_async`: returns `(verified, now_ms)`.
    #[pyo3(signature = (method, query, headers, body, *, now_ms=None))]
    fn _verify_deferred(
        &self,
        py: Python<'_>,
        method: &Bound<'_, PyAny>,
        query: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now_ms: Option<u64>,
    ) -> PyResult<(Verified, u64)> {
        let inp = input(py, method, query, headers, body)?;
        let now = self.now(py, now_ms)?;
        let o = self.run_verify(py, &inp, now, Choice::Deferred)?;
        Ok((self.view(py, o, body, &inp), now))
    }

    /// What a store's answer means (the core's store contract): `None` when
    /// the key was recorded, else the exception to raise (`ReplayedNonce`
    /// 000001, `KoosignError` `STORE_UNAVAILABLE` / `NONCE_STORE_FULL`
    /// 000005), with its signed refusal; an exception the store raised
    /// becomes its `__cause__`.
    #[pyo3(name = "_store_refusal")]
    fn store_refusal<'py>(&self, py: Python<'py>, outcome: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match store_outcome(outcome) {
            Ok(()) => Ok(None),
            Err(e) => {
                let exc = self.rejected(py, e, result_code(&e, Stage::BeforeAuthentication), 0);
                let v = exc.into_value(py).into_bound(py).into_any();
                if outcome.is_instance_of::<pyo3::exceptions::PyBaseException>() {
                    v.setattr("__cause__", outcome)?;
                }
                Ok(Some(v))
            }
        }
    }

    /// The signed bare answer of a `resultCode` (`"000003"`: the instance
    /// is unknown; `"000005"`: the handler failed ...): `(body, body_sign)`,
    /// signed with the key at `key_index` (the verified request's
    /// `Verified.key_index`; default 0). Raises `NoAccessKey` for an index
    /// the merchant does not hold.
    #[pyo3(signature = (code, *, key_index=0))]
    fn refusal(&self, py: Python<'_>, code: &str, key_index: usize) -> PyResult<SignedAnswer> {
        let c = ResultCode::parse(code).py(py)?;
        let mut out = [0u8; REFUSAL_MAX_LEN];
        let a = self.inner.answer_code_for(key_index, c, &mut out).py(py)?;
        Ok(SignedAnswer::new(py, a.body().as_bytes(), a.body_sign()))
    }

    /// Writes and signs an answer (S3, S4): see the stubs. `key_index`: the
    /// verified request's (`Verified.key_index`, default 0) — its key
    /// encrypts the secrets and signs the body (§S3 "(decision) Key rotation").
    #[pyo3(signature = (result_code="000000", *, instance_id=None, app_info=None, info=None, encrypt_type=None, key_index=0))]
    #[allow(clippy::too_many_arguments)]
    fn respond(
        &self,
        py: Python<'_>,
        result_code: &str,
        instance_id: Option<&str>,
        app_info: Option<&Bound<'_, PyAny>>,
        info: Option<&Bound<'_, PyAny>>,
        encrypt_type: Option<&Bound<'_, PyAny>>,
        key_index: usize,
    ) -> PyResult<SignedAnswer> {
        let code = ResultCode::parse(result_code).py(py)?;
        let ty = match encrypt_type {
            Some(t) => self::encrypt_type(t)?,
            None => EncryptType::Aes256,
        };
        let mut main = Vec::new();
        if let Some(a) = app_info.filter(|a| !a.is_none()) {
            self::app_info(a, &mut main)?;
        }
        let mut list: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(items) = info.filter(|i| !i.is_none()) {
            for item in items.try_iter()? {
                let item = item?;
                let (id, a): (String, Bound<'_, PyAny>) = item
                    .extract()
                    .map_err(|_| PyTypeError::new_err("info must be a list of (instance_id, app_info) pairs"))?;
                let mut k = Vec::new();
                self::app_info(&a, &mut k)?;
                list.push((id, k));
            }
        }
        let info_core: Vec<(&str, AppInfo<'_>)> = list.iter().map(|(id, k)| (id.as_str(), core_app_info(k))).collect();
        let answer = Answer {
            result_code: code,
            instance_id,
            app_info: if main.is_empty() { None } else { Some(core_app_info(&main)) },
            info: &info_core,
        };
        // The answer's size is bounded by its texts (each escaped at most
        // 6 bytes a byte) and one wire value (<= 128) per secret.
        let texts: usize = main.iter().chain(list.iter().flat_map(|(id, k)| std::iter::once(id).chain(k))).map(String::len).sum::<usize>()
            + instance_id.map_or(0, str::len);
        let len = 256 + 6 * texts + (1 + list.len()) * (2 * koosign::field::MAX_WIRE_LEN + 128);
        let mut out = vec![0u8; len];
        let a = self.inner.respond_for(key_index, &answer, ty, &mut getrandom::SysRng, &mut out).py(py)?;
        Ok(SignedAnswer::new(py, a.body().as_bytes(), a.body_sign()))
    }

    /// Signs the exact answer bytes the handler wrote (S3): `(body, body_sign)`,
    /// under the key at `key_index` (the verified request's, default 0).
    #[pyo3(signature = (body, *, key_index=0))]
    fn sign_answer(&self, py: Python<'_>, body: &Bound<'_, PyAny>, key_index: usize) -> PyResult<SignedAnswer> {
        let b = self::body(py, body)?;
        let a = self.inner.sign_answer_for(key_index, b.bytes()).py(py)?;
        Ok(SignedAnswer::new(py, b.bytes(), a.body_sign()))
    }

    /// The `Body-Sign` value of the exact bytes `body` (S3), under the key
    /// at `key_index` (default 0; raises `NoAccessKey` for one not held).
    #[pyo3(signature = (body, *, key_index=0))]
    fn body_sign<'py>(&self, py: Python<'py>, body: &Bound<'_, PyAny>, key_index: usize) -> PyResult<Bound<'py, PyString>> {
        let b = self::body(py, body)?;
        let bytes = b.bytes();
        let inner = &self.inner;
        // The core's fixed-size value becomes the `str` directly (no
        // intermediate `String`).
        let v = run(py, bytes.len() >= DETACH_THRESHOLD, || inner.body_sign_for(key_index, bytes));
        Ok(PyString::new(py, v.py(py)?.as_str()))
    }

    /// Encrypts one field with the key at `key_index` (S4, default key 0):
    /// `iv + b64(AES-CBC)`.
    #[pyo3(signature = (plaintext, encrypt_type=None, *, key_index=0))]
    fn encrypt(&self, py: Python<'_>, plaintext: &Bound<'_, PyAny>, encrypt_type: Option<&Bound<'_, PyAny>>, key_index: usize) -> PyResult<String> {
        let p = text(py, plaintext, "plaintext")?;
        let ty = match encrypt_type {
            Some(t) => self::encrypt_type(t)?,
            None => EncryptType::Aes256,
        };
        let mut out = vec![0u8; koosign::field::encrypt_out_len(p.as_str().len())];
        Ok(self.inner.encrypt_for(key_index, p.as_str(), ty, &mut getrandom::SysRng, &mut out).py(py)?.to_owned())
    }

    /// Decrypts one field with key 0 (S4); "auto" tries AES-256 then AES-128.
    #[pyo3(signature = (wire, encrypt_type=None))]
    fn decrypt(&self, py: Python<'_>, wire: &Bound<'_, PyAny>, encrypt_type: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let w = text(py, wire, "wire")?;
        let mode = match encrypt_type {
            Some(t) => decrypt_mode(t)?,
            None => DecryptMode::Auto,
        };
        let mut out = vec![0u8; koosign::field::decrypt_out_len(w.as_str().len())];
        Ok(self.inner.decrypt(w.as_str(), mode, &mut out).py(py)?.to_owned())
    }

    fn __repr__(&self) -> String {
        format!("Merchant(keys={}, policy={:?})", self.inner.key_count(), self.inner.policy())
    }
}

// ---------------------------------------------------------------------------
// The response contract and the answer table

/// `koosign.check_response(status, headers, body, access_key, expect="any")`:
/// the marketplace's checks of an answer (core `response::check_response`).
/// Returns a dict; raises the typed error of the first rule broken.
#[pyfunction]
#[pyo3(signature = (status, headers, body, access_key, expect="any"))]
pub fn check_response<'py>(
    py: Python<'py>,
    status: u16,
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    access_key: &Bound<'_, PyAny>,
    expect: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let h = pairs_with(py, headers, "headers", header_text)?;
    let hr: Vec<(&str, &str)> = h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let b = self::body(py, body)?;
    let k = super::key(access_key, "access_key")?;
    let expect = match expect {
        "any" => Expect::Any,
        "newInstance" => Expect::NewInstance,
        "queryInstance" => Expect::QueryInstance,
        _ => return Err(PyValueError::new_err("expect must be \"any\", \"newInstance\" or \"queryInstance\"")),
    };
    let c = koosign::response::check_response(status, &hr, b.bytes(), &k, expect).py(py)?;
    let d = PyDict::new(py);
    d.set_item("result_code", c.result_code())?;
    d.set_item("result_msg", c.result_msg().map(|m| m.chars().collect::<String>()))?;
    d.set_item("instance_id", c.instance_id().map(|m| m.chars().collect::<String>()))?;
    d.set_item("encrypt_type", c.encrypt_type().map(|t| t.as_str()))?;
    d.set_item("ciphertexts", c.ciphertexts())?;
    d.set_item("key_index", c.key_index())?;
    Ok(d)
}

/// The core's `resultCode` of an error `code` (`Error::code()`, e.g.
/// `"SIGNATURE_MISMATCH"`) met before authentication or after it
/// (`answer::result_code`); `None` for a code the core does not have.
#[pyfunction]
#[pyo3(signature = (code, *, authenticated=false))]
pub fn _result_code_of(code: &str, authenticated: bool) -> Option<&'static str> {
    let stage = if authenticated { Stage::Authenticated } else { Stage::BeforeAuthentication };
    Error::ALL.iter().find(|e| e.code() == code).map(|e| result_code(e, stage).as_str())
}

/// Gives each exception class a class-level `code`: that of the first core
/// error (in `Error::ALL` order) it is raised for, so an instance made in
/// Python (`AmbiguousRequest("x")`) still has the core's code; raised
/// errors set their own.
#[pyfunction]
pub fn _class_codes(py: Python<'_>) -> PyResult<()> {
    let mut done: Vec<Bound<'_, pyo3::types::PyType>> = Vec::new();
    for e in Error::ALL {
        let t = err(py, e).get_type(py);
        if !done.iter().any(|d| d.is(&t)) {
            t.setattr("code", e.code())?;
            done.push(t);
        }
    }
    Ok(())
}

/// `"000005"`: the code of a failure that is no core error (the merchant's).
#[pyfunction]
pub fn _merchant_failure_code() -> &'static str {
    ResultCode::MerchantFailure.as_str()
}
