//! The marketplace's side of a merchant's answer: the response contract
//! (docs/SCHEMES.md §S3, §S4, §Notifications, §Answers), checked as the
//! marketplace checks it, so that a merchant can test their own answers
//! without the simulator. [`check_response`] runs every rule; the step
//! functions ([`find_body_sign`], [`check_wire`], [`check_encrypt_type`],
//! [`read_answer`]) let a reporter (`koosign simulate`) name each finding.
//!
//! ```
//! use koosign::response::{check_response, Expect};
//! use koosign::{body_sign, ResultCode};
//!
//! let body = br#"{"resultCode":"000000","resultMsg":"success."}"#;
//! let sign = body_sign(body, "testAccessKey123")?;
//! let headers = [("Content-Type", "application/json"), ("Body-Sign", sign.as_str())];
//! let checked = check_response(200, &headers, body, "testAccessKey123", Expect::Any)?;
//! assert_eq!(checked.result_code(), "000000");
//! assert_eq!(checked.known_code(), Some(ResultCode::Success));
//! # Ok::<(), koosign::Error>(())
//! ```

use crate::answer::ResultCode;
use crate::body_sign::{verify_body_sign, BODY_SIGN_HEADER};
use crate::error::{Error, Result};
use crate::field::{EncryptType, FieldCipher, MAX_WIRE_LEN};
use crate::notification::{walk_json, JsonStr, JsonVisitor};

/// Longest `instanceId` an answer may carry, in characters
/// (docs/SCHEMES.md §Notifications).
pub const MAX_INSTANCE_ID: usize = 64;

/// What the answer is to, deciding which fields a success must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// Any activity, or a refusal: only the common rules.
    Any,
    /// A `newInstance` answer: on `000000`, `instanceId` (1 to 64
    /// characters), `encryptType` and `appInfo` with `userName` and
    /// `password`.
    NewInstance,
    /// A `queryInstance` answer: on `000000`, `encryptType` and an `info`
    /// array.
    QueryInstance,
}

/// An answer that met the contract. The texts borrow the body.
#[derive(Clone, Copy, Debug)]
pub struct ResponseChecked<'b> {
    result_code: &'b str,
    result_msg: Option<JsonStr<'b>>,
    instance_id: Option<JsonStr<'b>>,
    encrypt_type: Option<EncryptType>,
    ciphertexts: usize,
    key_index: usize,
}

impl<'b> ResponseChecked<'b> {
    /// The `resultCode`, one of the documented codes (`000000`–`000005`,
    /// `000100`–`000107`).
    pub fn result_code(&self) -> &'b str {
        self.result_code
    }
    /// The code as a [`ResultCode`] when it is one koosign itself answers.
    pub fn known_code(&self) -> Option<ResultCode> {
        ResultCode::parse(self.result_code).ok()
    }
    /// The `resultMsg`, when given as a string.
    pub fn result_msg(&self) -> Option<JsonStr<'b>> {
        self.result_msg
    }
    /// The top-level `instanceId`, when given.
    pub fn instance_id(&self) -> Option<JsonStr<'b>> {
        self.instance_id
    }
    /// The `encryptType`, when given.
    pub fn encrypt_type(&self) -> Option<EncryptType> {
        self.encrypt_type
    }
    /// How many `appInfo` ciphertexts (`userName`, `password`, at any
    /// place) were checked.
    pub fn ciphertexts(&self) -> usize {
        self.ciphertexts
    }
    /// Index of the access key whose `Body-Sign` matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }
}

/// The one `Body-Sign` header value (docs/SCHEMES.md §S3 and §Answers):
/// sent once (names compared case-insensitively) and under exactly the name
/// `Body-Sign` (the marketplace's match is case-sensitive).
///
/// Errors: `MissingParameter("Body-Sign")` (no such header),
/// `Ambiguous` (sent more than once, in any spelling), `MalformedEncoding`
/// (sent once under another spelling, e.g. `body-sign`).
pub fn find_body_sign<'h>(headers: &[(&'h str, &'h str)]) -> Result<&'h str> {
    let mut found: Option<(&str, &'h str)> = None;
    for &(name, value) in headers {
        if name.eq_ignore_ascii_case(BODY_SIGN_HEADER) {
            if found.is_some() {
                return Err(Error::Ambiguous("Body-Sign sent more than once"));
            }
            found = Some((name, value));
        }
    }
    match found {
        None => Err(Error::MissingParameter(BODY_SIGN_HEADER)),
        Some((name, _)) if name != BODY_SIGN_HEADER => {
            Err(Error::MalformedEncoding("Body-Sign sent under another spelling (the name is case-sensitive)"))
        }
        Some((_, value)) => Ok(value),
    }
}

/// Is this a documented `resultCode` (docs/SCHEMES.md §Answers:
/// `000000`–`000005`, `000100`–`000107`)?
pub fn is_documented_code(code: &str) -> bool {
    matches!(code.as_bytes(), [b'0', b'0', b'0', b'0', b'0', b'0'..=b'5'] | [b'0', b'0', b'0', b'1', b'0', b'0'..=b'7'])
}

/// One `appInfo` ciphertext (docs/SCHEMES.md §S4): at most
/// [`MAX_WIRE_LEN`] (128) characters, IV included, and decrypting under the
/// access key; returns the key size it was made with.
///
/// Errors: `InputTooLarge { limit: 128 }`, `Decrypt` (neither key size
/// decrypts it; a cipher of an empty access key decrypts nothing).
pub fn check_wire(cipher: &FieldCipher, wire: &str) -> Result<EncryptType> {
    if wire.chars().count() > MAX_WIRE_LEN {
        return Err(Error::InputTooLarge { limit: MAX_WIRE_LEN });
    }
    cipher.detect(wire).ok_or(Error::Decrypt)
}

/// The `encryptType` label against the key size of the ciphertexts
/// (docs/SCHEMES.md §S4): `"1"` (AES-256) or `"2"` (AES-128), and the same
/// as `found`.
///
/// Errors: `MissingParameter("encryptType")`, `MalformedEncoding` (not
/// `"1"` or `"2"`, or naming the other key size).
pub fn check_encrypt_type(label: Option<&str>, found: Option<EncryptType>) -> Result<EncryptType> {
    let ty = EncryptType::parse(label.ok_or(Error::MissingParameter("encryptType"))?)
        .map_err(|_| Error::MalformedEncoding("encryptType is not \"1\" or \"2\""))?;
    match found {
        Some(f) if f != ty => {
            Err(Error::MalformedEncoding("encryptType names the other key size than the ciphertexts"))
        }
        _ => Ok(ty),
    }
}

/// Where the walker is, by the path of the member names that matter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum At {
    /// Anywhere else.
    Other,
    /// The top-level object.
    Top,
    /// An `appInfo` object (top level or in an `info` item).
    AppInfo,
    /// The top-level `info` array.
    Info,
    /// An object of the `info` array.
    Item,
}

/// Which member's value comes next.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Next {
    Other,
    ResultCode,
    ResultMsg,
    InstanceId,
    ItemInstanceId,
    EncryptType,
    AppInfo,
    Info,
    Wire,
}

const MAX_PATH: usize = 8;

/// Reads the fields of an answer body in one walk; ciphertexts are checked
/// when `cipher` is given (a second walk, once `encryptType` is known).
struct Reader<'b, 'c> {
    path: [At; MAX_PATH],
    depth: usize,
    next: Next,
    result_code: Option<Result<&'b str>>,
    result_msg: Option<JsonStr<'b>>,
    instance_id: Option<JsonStr<'b>>,
    encrypt_type: Option<Result<&'b str>>,
    app_info: bool,
    info: bool,
    app_info_fields: u8,
    cipher: Option<(&'c FieldCipher, Option<EncryptType>)>,
    found: Option<EncryptType>,
    ciphertexts: usize,
}

impl<'b> Reader<'b, '_> {
    fn here(&self) -> At {
        if self.depth == 0 || self.depth > MAX_PATH {
            At::Other
        } else {
            self.path[self.depth - 1]
        }
    }

    /// A container starts as the value of `self.next`.
    fn open(&mut self, object: bool) -> Result<()> {
        let next = self.next;
        let at = match (self.depth, self.next, object) {
            (0, _, true) => At::Top,
            (_, Next::AppInfo, true) => {
                if self.depth == 1 {
                    self.app_info = true;
                }
                At::AppInfo
            }
            (1, Next::Info, false) => {
                self.info = true;
                At::Info
            }
            (_, _, true) if self.here() == At::Info => At::Item,
            _ => At::Other,
        };
        // A container where a string is due is a wrong type.
        if !matches!(next, Next::AppInfo | Next::Info) {
            self.scalar()?;
        }
        if self.depth < MAX_PATH {
            self.path[self.depth] = at;
        }
        self.depth += 1;
        self.next = Next::Other;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.depth -= 1;
        self.next = Next::Other;
        Ok(())
    }

    /// A non-string scalar as a member value.
    fn scalar(&mut self) -> Result<()> {
        let r = match self.next {
            Next::ResultCode => {
                self.result_code = Some(Err(Error::MalformedEncoding("resultCode is not a string")));
                Ok(())
            }
            Next::EncryptType => {
                self.encrypt_type = Some(Err(Error::MalformedEncoding("encryptType is not a string")));
                Ok(())
            }
            Next::InstanceId | Next::ItemInstanceId => Err(Error::MalformedEncoding("instanceId is not a string")),
            Next::Wire if self.cipher.is_some() => {
                Err(Error::MalformedEncoding("appInfo userName/password is not a string"))
            }
            _ => Ok(()),
        };
        self.next = Next::Other;
        r
    }
}

/// A short text of the body as `&str`: borrowed when it has no escapes.
/// The fields read this way (codes, labels) are ASCII: an escape in them is
/// refused rather than decoded.
fn plain<'b>(s: JsonStr<'b>, what: &'static str) -> Result<&'b str> {
    s.borrowed().ok_or(Error::MalformedEncoding(what))
}

fn check_id(s: JsonStr<'_>) -> Result<()> {
    id_len(s.chars().count())
}

fn id_len(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::MissingParameter("instanceId"));
    }
    if n > MAX_INSTANCE_ID {
        return Err(Error::InputTooLarge { limit: MAX_INSTANCE_ID });
    }
    Ok(())
}

/// An answered `instanceId` (docs/SCHEMES.md §Notifications): 1 to
/// [`MAX_INSTANCE_ID`] (64) characters. Errors:
/// `MissingParameter("instanceId")` for an empty one,
/// `InputTooLarge { limit: 64 }`.
pub fn check_instance_id(id: &str) -> Result<()> {
    id_len(id.chars().count())
}

impl<'b> JsonVisitor<'b> for Reader<'b, '_> {
    fn begin_object(&mut self) -> Result<()> {
        self.open(true)
    }
    fn end_object(&mut self) -> Result<()> {
        self.close()
    }
    fn begin_array(&mut self) -> Result<()> {
        self.open(false)
    }
    fn end_array(&mut self) -> Result<()> {
        self.close()
    }
    fn key(&mut self, key: JsonStr<'b>) -> Result<()> {
        let is = |name: &str| key == *name;
        self.next = match self.here() {
            At::Top if is("resultCode") => Next::ResultCode,
            At::Top if is("resultMsg") => Next::ResultMsg,
            At::Top if is("instanceId") => Next::InstanceId,
            At::Top if is("encryptType") => Next::EncryptType,
            At::Top if is("appInfo") => Next::AppInfo,
            At::Top if is("info") => Next::Info,
            At::Item if is("instanceId") => Next::ItemInstanceId,
            At::Item if is("appInfo") => Next::AppInfo,
            At::AppInfo if is("userName") || is("password") => {
                if self.depth == 2 {
                    self.app_info_fields += 1;
                }
                Next::Wire
            }
            _ => Next::Other,
        };
        Ok(())
    }
    fn string(&mut self, s: JsonStr<'b>) -> Result<()> {
        let next = core::mem::replace(&mut self.next, Next::Other);
        match next {
            Next::ResultCode => self.result_code = Some(plain(s, "resultCode is not a documented code")),
            Next::ResultMsg => self.result_msg = Some(s),
            Next::InstanceId => {
                check_id(s)?;
                self.instance_id = Some(s);
            }
            Next::ItemInstanceId => check_id(s)?,
            Next::EncryptType => self.encrypt_type = Some(plain(s, "encryptType is not \"1\" or \"2\"")),
            Next::Wire => {
                if let Some((cipher, label)) = self.cipher {
                    // Ciphertexts are Base64: ASCII, no escapes.
                    let wire = plain(s, "appInfo ciphertext holds a JSON escape")?;
                    if wire.is_empty() {
                        return Err(Error::MissingParameter("appInfo userName/password"));
                    }
                    let ty = check_wire(cipher, wire)?;
                    if self.found.is_some_and(|f| f != ty) {
                        return Err(Error::MalformedEncoding("appInfo ciphertexts use two key sizes"));
                    }
                    self.found = Some(ty);
                    let label = label.map(EncryptType::as_str);
                    check_encrypt_type(label, Some(ty))?;
                    self.ciphertexts += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }
    fn number(&mut self, _raw: &'b str) -> Result<()> {
        self.scalar()
    }
    fn bool(&mut self, _value: bool) -> Result<()> {
        self.scalar()
    }
    fn null(&mut self) -> Result<()> {
        self.scalar()
    }
}

impl<'b, 'c> Reader<'b, 'c> {
    fn new(cipher: Option<(&'c FieldCipher, Option<EncryptType>)>) -> Self {
        Reader {
            path: [At::Other; MAX_PATH],
            depth: 0,
            next: Next::Other,
            result_code: None,
            result_msg: None,
            instance_id: None,
            encrypt_type: None,
            app_info: false,
            info: false,
            app_info_fields: 0,
            cipher,
            found: None,
            ciphertexts: 0,
        }
    }
}

/// Reads an answer body by the contract's body rules, without checking its
/// signature: strict JSON object ([`walk_json`]: UTF-8, no repeated name at
/// any depth, nesting, size), a documented string `resultCode`, every
/// `instanceId` (top level and in `info[]`) 1 to [`MAX_INSTANCE_ID`]
/// characters, and for a `000000` answer to `expect` its fields. Every
/// `appInfo` `userName`/`password` is then checked with [`check_wire`] and
/// [`check_encrypt_type`] under `access_key`.
///
/// Errors: those of [`walk_json`]; `MissingParameter` (`resultCode`,
/// `instanceId`, `encryptType`, `appInfo`, `appInfo userName/password`,
/// `info`); `MalformedEncoding` (a field of the wrong type, an undocumented
/// code, a bad or inconsistent `encryptType`); `InputTooLarge { limit: 64 }`
/// (an `instanceId`), `InputTooLarge { limit: 128 }` (a ciphertext);
/// `Decrypt`; `NoAccessKey`.
pub fn read_answer<'b>(body: &'b [u8], access_key: &str, expect: Expect) -> Result<ResponseChecked<'b>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    let mut r = Reader::new(None);
    walk_json(body, &mut r)?;
    let code = r.result_code.ok_or(Error::MissingParameter("resultCode"))??;
    if !is_documented_code(code) {
        return Err(Error::MalformedEncoding("resultCode is not a documented code"));
    }
    let label = r.encrypt_type.transpose()?;
    let success = code == "000000";
    let ty = match (label, success, expect) {
        (_, true, Expect::NewInstance | Expect::QueryInstance) => Some(check_encrypt_type(label, None)?),
        (Some(l), _, _) => Some(check_encrypt_type(Some(l), None)?),
        (None, _, _) => None,
    };
    if success {
        match expect {
            Expect::NewInstance => {
                r.instance_id.ok_or(Error::MissingParameter("instanceId"))?;
                if !r.app_info {
                    return Err(Error::MissingParameter("appInfo"));
                }
                if r.app_info_fields < 2 {
                    return Err(Error::MissingParameter("appInfo userName/password"));
                }
            }
            Expect::QueryInstance if !r.info => return Err(Error::MissingParameter("info")),
            _ => {}
        }
    }
    let cipher = FieldCipher::new(access_key);
    let mut w = Reader::new(Some((&cipher, ty)));
    walk_json(body, &mut w)?;
    if w.ciphertexts > 0 && ty.is_none() {
        return Err(Error::MissingParameter("encryptType"));
    }
    Ok(ResponseChecked {
        result_code: code,
        result_msg: r.result_msg,
        instance_id: r.instance_id,
        encrypt_type: ty,
        ciphertexts: w.ciphertexts,
        key_index: 0,
    })
}

/// Checks a merchant's answer as the marketplace does (docs/SCHEMES.md
/// §Answers: every answer, refusals included, is HTTP 200 with a JSON body
/// and a `Body-Sign` over the exact bytes; §S3; §S4): HTTP 200;
/// [`find_body_sign`] (once, exact name); the value in the strict grammar
/// and matching `body` byte for byte under `access_key`
/// ([`verify_body_sign`]); then [`read_answer`].
///
/// Errors: `MalformedEncoding("HTTP status is not 200")`; those of
/// [`find_body_sign`]; `MalformedEncoding`/`MissingParameter` from the
/// strict `Body-Sign` parser; `SignatureMismatch`; those of
/// [`read_answer`].
pub fn check_response<'b>(
    status: u16,
    headers: &[(&str, &str)],
    body: &'b [u8],
    access_key: &str,
    expect: Expect,
) -> Result<ResponseChecked<'b>> {
    if status != 200 {
        return Err(Error::MalformedEncoding("HTTP status is not 200"));
    }
    let value = find_body_sign(headers)?;
    let key_index = verify_body_sign(value, body, &[access_key])?.key_index();
    let mut checked = read_answer(body, access_key, expect)?;
    checked.key_index = key_index;
    Ok(checked)
}
