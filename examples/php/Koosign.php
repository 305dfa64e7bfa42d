<?php
/**
 * Koosign — the KooGallery merchant-interface schemes (SCHEMES.md S1–S6) for
 * PHP, through FFI on libkoosign (bindings-c/). No signing logic here: every
 * method calls one koosign_* function of the C API and converts types.
 *
 * Needs PHP ≥ 8.1 with the FFI extension (Debian's php-cli has it) and
 * `ffi.enable=1` (or `preload`, then only in preloaded code and the CLI).
 *
 * The library and the header are found through, in order:
 *   Koosign::load($libPath, $headerPath), the environment variables
 *   KOOSIGN_LIB and KOOSIGN_HEADER, then the repository layout
 *   (../../bindings-c/build/lib/libkoosign.so, ../../bindings-c/include/koosign.h),
 *   then the installed ones (libkoosign.so.0.1 on the loader path,
 *   /usr/local/include/koosign.h).
 *
 * The declarations are read from koosign.h itself (the checked-in, generated
 * header), so PHP cannot drift from the library.
 *
 * Errors throw KoosignException; its code is the koosign_status value and
 * $e->statusName its enumerator name (e.g. KOOSIGN_SIGNATURE_MISMATCH,
 * KOOSIGN_AMBIGUOUS); Koosign::refusalCode($e) is the resultCode to answer.
 */

declare(strict_types=1);

final class KoosignException extends RuntimeException
{
    public function __construct(public readonly string $statusName, int $status, string $message, public readonly string $function)
    {
        parent::__construct("$function: $message ($statusName)", $status);
    }
}

/**
 * An in-process replay store (koosign_nonce_cache) for Koosign::verifyV1 and
 * Koosign::verifyV2: V2 nonces and V1 authTokens, kept until their
 * timestamp leaves the window. Per process: PHP-FPM workers share no
 * memory, so a production endpoint needs a shared store (Redis SET NX PX, a
 * unique key in the database) as well; this one serves the CLI, a
 * long-running worker, and tests.
 */
final class KoosignNonceCache
{
    private FFI\CData $ptr;

    /** Exactly $capacity entries (40 bytes each, allocated once). */
    public function __construct(int $capacity = 1024)
    {
        $ffi = Koosign::load();
        $out = $ffi->new('koosign_nonce_cache *');
        $st = $ffi->koosign_nonce_cache_new($capacity, FFI::addr($out));
        if ($st !== 0) {
            throw new KoosignException(Koosign::statusName($st), $st, Koosign::statusMessage($st), 'koosign_nonce_cache_new');
        }
        $this->ptr = $out;
    }

    public function __destruct()
    {
        Koosign::load()->koosign_nonce_cache_free($this->ptr);
    }

    /** Entries held now (expired ones included until evicted). */
    public function count(): int
    {
        return (int) Koosign::load()->koosign_nonce_cache_len($this->ptr);
    }

    public function capacity(): int
    {
        return (int) Koosign::load()->koosign_nonce_cache_capacity($this->ptr);
    }

    /** @internal the koosign_nonce_cache pointer. */
    public function cdata(): FFI\CData
    {
        return $this->ptr;
    }
}

final class Koosign
{
    public const V2_BASIC = 1;
    public const V2_KIT = 2;
    public const AES256 = 1;         // encryptType "1"
    public const AES128 = 2;         // encryptType "2"
    public const DECRYPT_AUTO = 0;   // try AES-256, then AES-128
    /** Names a skipped check: the $freshness window or the $cache replay
     *  check of a verifier (KOOSIGN_WINDOW_UNCHECKED / KOOSIGN_REPLAY_UNCHECKED).
     *  Only what it is passed for is skipped; null is refused. */
    public const UNCHECKED = 'unchecked';
    public const DEFAULT_WINDOW_MS = 60000;        // V2: ±60 s (the guide)
    public const V1_DEFAULT_WINDOW_MS = 300000;    // V1: ±5 min (SCHEMES.md S1 item 8)
    public const APIG_DEFAULT_WINDOW_MS = 900000;  // S6: ±15 min

    private static ?FFI $ffi = null;
    /** @var array<string,int> #define and enum constants of koosign.h */
    private static array $constants = [];

    /** Loads the library (once); later calls return the same FFI instance. */
    public static function load(?string $libPath = null, ?string $headerPath = null): FFI
    {
        if (self::$ffi !== null) {
            return self::$ffi;
        }
        $here = __DIR__;
        $headerPath ??= getenv('KOOSIGN_HEADER') ?: null;
        $headerPath ??= self::firstExisting(["$here/../../bindings-c/include/koosign.h", '/usr/local/include/koosign.h', '/usr/include/koosign.h']);
        $libPath ??= getenv('KOOSIGN_LIB') ?: null;
        $libPath ??= self::firstExisting(["$here/../../bindings-c/build/lib/libkoosign.so"]) ?? 'libkoosign.so.0.1';
        if ($headerPath === null) {
            throw new RuntimeException('koosign.h not found: set KOOSIGN_HEADER');
        }
        [$decls, self::$constants] = self::declarations((string) file_get_contents($headerPath));
        self::$ffi = FFI::cdef($decls, $libPath);
        return self::$ffi;
    }

    /** A constant of koosign.h, e.g. Koosign::constant('KOOSIGN_SIGNATURE_MISMATCH'). */
    public static function constant(string $name): int
    {
        self::load();
        if (!array_key_exists($name, self::$constants)) {
            throw new InvalidArgumentException("no constant $name in koosign.h");
        }
        return self::$constants[$name];
    }

    public static function version(): string
    {
        return self::cString(self::load()->koosign_version());
    }

    public static function statusName(int $status): string
    {
        return self::cString(self::load()->koosign_status_name($status));
    }

    public static function statusMessage(int $status): string
    {
        return self::cString(self::load()->koosign_status_message($status));
    }

    /**
     * The resultCode for a notification a verifier (verifyV1, verifyV2,
     * verifyLicence) refused, per SCHEMES.md "Which code a refusal gets"
     * (the table of koosign.h's koosign_status and of `koosign serve`):
     * everything a verifier finds comes before the request is authenticated,
     * so it is 000001 — missing, malformed, ambiguous, non-matching, stale or
     * replayed — except the merchant's own failures, 000005: a full replay
     * store, no access key configured, a caller or library error. 000002 is
     * for an authenticated request whose content the merchant cannot use,
     * which the merchant's code decides after verification.
     */
    public static function refusalCode(KoosignException $e): string
    {
        return match ($e->statusName) {
            'KOOSIGN_MISSING_PARAMETER', 'KOOSIGN_MALFORMED_ENCODING', 'KOOSIGN_BAD_TIMESTAMP',
            'KOOSIGN_STALE_TIMESTAMP', 'KOOSIGN_REPLAYED_NONCE', 'KOOSIGN_INPUT_TOO_LARGE',
            'KOOSIGN_SIGNATURE_MISMATCH', 'KOOSIGN_AMBIGUOUS', 'KOOSIGN_INVALID_UTF8' => '000001',
            default => '000005',
        };
    }

    /** FFI turns a returned `const char *` into a PHP string already; older versions may not. */
    private static function cString(mixed $p): string
    {
        return is_string($p) ? $p : FFI::string($p);
    }

    // ---- S1: V1 notifications ------------------------------------------------

    /**
     * Verifies a V1 query string; returns the index in $keys of the key that
     * matched. $freshness: [nowMs, windowMs] — an endpoint passes
     * [now, V1_DEFAULT_WINDOW_MS] — or Koosign::UNCHECKED (no window, by
     * name). $cache: a store where the authToken is recorded as the replay
     * nonce (a second use is KOOSIGN_REPLAYED_NONCE), or Koosign::UNCHECKED
     * (no replay check, by name).
     * Ambiguous parameters (a decoded `&…=` in a value) are
     * KOOSIGN_AMBIGUOUS.
     */
    public static function verifyV1(string $query, array $keys, array|string $freshness, KoosignNonceCache|string $cache): int
    {
        $ffi = self::load();
        [$k, $n, $hold] = self::strArray($keys);
        $idx = $ffi->new('size_t');
        [$replay, $c] = self::replay($cache);
        self::check('koosign_verify_v1', $ffi->koosign_verify_v1($query, strlen($query), $k, $n, self::freshness($freshness), $replay, $c, FFI::addr($idx)));
        return (int) $idx->cdata;
    }

    /**
     * The query the marketplace sends for a V1 notification (to simulate it):
     * $params is a list of [name, value] (decoded, timeStamp included), each
     * form-encoded as Java's URLEncoder does, then `&authToken=…`.
     */
    public static function buildV1Query(array $params, string $key): string
    {
        [$p, $pn, $hold] = self::pairArray($params);
        $guess = 64;
        foreach ($params as [$n, $v]) {
            $guess += 3 * (strlen((string) $n) + strlen((string) $v)) + 2;
        }
        return self::output('koosign_build_v1_query', $guess, fn ($o, $c, $n) => self::load()->koosign_build_v1_query($p, $pn, $key, strlen($key), $o, $c, $n));
    }

    /** The S1 canonical string of a V1 query (for debugging). */
    public static function v1Canonical(string $query): string
    {
        return self::output('koosign_v1_canonical', strlen($query), fn ($o, $c, $n) => self::load()->koosign_v1_canonical($query, strlen($query), $o, $c, $n));
    }

    /** The authToken for the parameters of $query under $key (44 characters). */
    public static function v1AuthToken(string $query, string $key): string
    {
        return self::output('koosign_v1_auth_token', 44, fn ($o, $c, $n) => self::load()->koosign_v1_auth_token($query, strlen($query), $key, strlen($key), $o, $c, $n));
    }

    // ---- S2 / S2b: V2 notifications ------------------------------------------

    /** The V2 (V2_BASIC) or kit (V2_KIT) signature, 64 upper-case hex digits. */
    public static function signV2(int $scheme, string $body, string $key, string $nonce, string $timestamp): string
    {
        [$b, $bn, $hold] = self::bytes($body);
        return self::output('koosign_sign_v2', 64, fn ($o, $c, $n) => self::load()->koosign_sign_v2($scheme, $b, $bn, $key, strlen($key), $nonce, strlen($nonce), $timestamp, strlen($timestamp), $o, $c, $n));
    }

    /**
     * Verifies a V2 or kit notification over the exact body; returns the
     * matched key's index. $freshness: [nowMs, windowMs] (the guide requires
     * ±60 s) or Koosign::UNCHECKED. $cache: Koosign::UNCHECKED, or an in-process replay store (PHP
     * workers share no memory: a shared store records the nonce after
     * success). The timestamp must be 13 digits (no leading zero), the nonce
     * printable ASCII.
     */
    public static function verifyV2(int $scheme, string $signature, string $timestamp, string $nonce, string $body, array $keys, array|string $freshness, KoosignNonceCache|string $cache): int
    {
        $ffi = self::load();
        [$b, $bn, $hold1] = self::bytes($body);
        [$k, $n, $hold2] = self::strArray($keys);
        $idx = $ffi->new('size_t');
        [$replay, $c] = self::replay($cache);
        self::check('koosign_verify_v2', $ffi->koosign_verify_v2($scheme, $signature, strlen($signature), $timestamp, strlen($timestamp), $nonce, strlen($nonce), $b, $bn, $k, $n, self::freshness($freshness), $replay, $c, FFI::addr($idx)));
        return (int) $idx->cdata;
    }

    // ---- S3: Body-Sign -------------------------------------------------------

    /** The Body-Sign header value (81 characters) for the exact response bytes. */
    public static function bodySign(string $body, string $key): string
    {
        [$b, $bn, $hold] = self::bytes($body);
        return self::output('koosign_body_sign', 81, fn ($o, $c, $n) => self::load()->koosign_body_sign($b, $bn, $key, strlen($key), $o, $c, $n));
    }

    /** b64(HMAC(key, body)), 44 characters. */
    public static function bodySignature(string $body, string $key): string
    {
        [$b, $bn, $hold] = self::bytes($body);
        return self::output('koosign_body_signature', 44, fn ($o, $c, $n) => self::load()->koosign_body_signature($b, $bn, $key, strlen($key), $o, $c, $n));
    }

    /** Verifies a Body-Sign value; returns the matched key's index. */
    public static function verifyBodySign(string $value, string $body, array $keys): int
    {
        $ffi = self::load();
        [$b, $bn, $hold1] = self::bytes($body);
        [$k, $n, $hold2] = self::strArray($keys);
        $idx = $ffi->new('size_t');
        self::check('koosign_verify_body_sign', $ffi->koosign_verify_body_sign($value, strlen($value), $b, $bn, $k, $n, FFI::addr($idx)));
        return (int) $idx->cdata;
    }

    // ---- S4: encrypted fields ------------------------------------------------

    /** The raw SHA1PRNG field key (16 or 32 bytes, binary). */
    public static function deriveKey(string $key, int $type): string
    {
        return self::output('koosign_derive_key', 32, fn ($o, $c, $n) => self::load()->koosign_derive_key($key, strlen($key), $type, $o, $c, $n));
    }

    /** iv + b64(AES-CBC(...)); $iv null draws one from the OS. */
    public static function encryptField(string $plaintext, string $key, int $type = self::AES256, ?string $iv = null): string
    {
        if ($iv === null) {
            return self::output('koosign_encrypt_field', 128, fn ($o, $c, $n) => self::load()->koosign_encrypt_field($plaintext, strlen($plaintext), $key, strlen($key), $type, $o, $c, $n));
        }
        return self::output('koosign_encrypt_field_with_iv', 128, fn ($o, $c, $n) => self::load()->koosign_encrypt_field_with_iv($plaintext, strlen($plaintext), $key, strlen($key), $type, $iv, strlen($iv), $o, $c, $n));
    }

    /** The plaintext of a field; $mode AES256, AES128 or DECRYPT_AUTO. */
    public static function decryptField(string $wire, string $key, int $mode = self::DECRYPT_AUTO): string
    {
        return self::output('koosign_decrypt_field', max(1, strlen($wire)), fn ($o, $c, $n) => self::load()->koosign_decrypt_field($wire, strlen($wire), $key, strlen($key), $mode, $o, $c, $n));
    }

    // ---- S5: licence ts/nonce/signature --------------------------------------

    public static function licenceSign(string $ts, string $nonce, string $body, string $key): string
    {
        [$b, $bn, $hold] = self::bytes($body);
        return self::output('koosign_licence_sign', 44, fn ($o, $c, $n) => self::load()->koosign_licence_sign($ts, strlen($ts), $nonce, strlen($nonce), $b, $bn, $key, strlen($key), $o, $c, $n));
    }

    public static function verifyLicence(string $ts, string $nonce, string $body, string $signature, array $keys, array|string $freshness): int
    {
        $ffi = self::load();
        [$b, $bn, $hold1] = self::bytes($body);
        [$k, $n, $hold2] = self::strArray($keys);
        $idx = $ffi->new('size_t');
        self::check('koosign_verify_licence', $ffi->koosign_verify_licence($ts, strlen($ts), $nonce, strlen($nonce), $b, $bn, $signature, strlen($signature), $k, $n, self::freshness($freshness), FFI::addr($idx)));
        return (int) $idx->cdata;
    }

    // ---- S6: SDK-HMAC-SHA256 open APIs ---------------------------------------

    /**
     * Signs an open-API request. $query and $headers are lists of
     * [name, value] pairs (decoded query values). Returns
     * ['authorization' => …, 'signature' => …, 'signed_headers' => …,
     *  'canonical_query' => …, 'canonical_request' => …, 'string_to_sign' => …,
     *  'headers_to_add' => [[name, value], …]].
     */
    public static function signApig(string $method, string $host, string $path, array $query, array $headers, string $body, string $ak, string $sk, ?int $nowMs = null): array
    {
        $ffi = self::load();
        [$req, $hold] = self::request($method, $host, $path, $query, $headers, $body);
        $now = null;
        if ($nowMs !== null) {
            $now = $ffi->new('uint64_t');
            $now->cdata = $nowMs;
        }
        $signed = $ffi->new('koosign_apig_signed');
        $cap = 4096;
        for ($try = 0; $try < 2; $try++) {
            $buf = $ffi->new("uint8_t[$cap]");
            $used = $ffi->new('size_t');
            $st = $ffi->koosign_sign_apig(FFI::addr($req), $ak, strlen($ak), $sk, strlen($sk), $now === null ? null : FFI::addr($now), $buf, $cap, FFI::addr($used), FFI::addr($signed));
            if ($st === self::constant('KOOSIGN_BUFFER_TOO_SMALL') && $try === 0) {
                $cap = (int) $used->cdata;
                continue;
            }
            self::check('koosign_sign_apig', $st);
            $s = fn ($k) => $k->len === 0 ? '' : FFI::string($k->data, $k->len);
            $added = [];
            for ($i = 0; $i < $signed->headers_to_add_len; $i++) {
                $added[] = [$s($signed->headers_to_add[$i]->name), $s($signed->headers_to_add[$i]->value)];
            }
            return [
                'authorization' => $s($signed->authorization),
                'signature' => $s($signed->signature),
                'signed_headers' => $s($signed->signed_headers),
                'canonical_query' => $s($signed->canonical_query),
                'canonical_request' => $s($signed->canonical_request),
                'string_to_sign' => $s($signed->string_to_sign),
                'headers_to_add' => $added,
            ];
        }
        throw new LogicException('unreachable');
    }

    /**
     * Server-side check; $credentials is a list of [ak, sk]. Returns the
     * index matched. $unsignedPayload is set to true when the request was
     * verified with a signed `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`: the
     * body is then NOT authenticated.
     */
    public static function verifyApig(string $method, string $host, string $path, array $query, array $headers, string $body, array $credentials, array|string $freshness, ?bool &$unsignedPayload = null): int
    {
        $ffi = self::load();
        [$req, $hold1] = self::request($method, $host, $path, $query, $headers, $body);
        [$c, $cn, $hold2] = self::pairArray($credentials);
        $idx = $ffi->new('size_t');
        $unsigned = $ffi->new('int');
        self::check('koosign_verify_apig', $ffi->koosign_verify_apig(FFI::addr($req), $c, $cn, self::freshness($freshness), FFI::addr($idx), FFI::addr($unsigned)));
        $unsignedPayload = $unsigned->cdata !== 0;
        return (int) $idx->cdata;
    }

    // ---- plumbing --------------------------------------------------------------

    /**
     * Calls a koosign function that writes into a caller buffer: first with
     * $guess bytes, then, on KOOSIGN_BUFFER_TOO_SMALL, with the size it
     * reported. Returns the bytes written.
     */
    private static function output(string $function, int $guess, callable $call): string
    {
        $ffi = self::load();
        $cap = max(1, $guess);
        for ($try = 0; $try < 2; $try++) {
            $out = $ffi->new("uint8_t[$cap]");
            $len = $ffi->new('size_t');
            $st = $call($out, $cap, FFI::addr($len));
            if ($st === self::constant('KOOSIGN_BUFFER_TOO_SMALL') && $try === 0) {
                $cap = (int) $len->cdata;
                continue;
            }
            self::check($function, $st);
            return FFI::string($out, (int) $len->cdata);
        }
        throw new LogicException('unreachable');
    }

    private static function check(string $function, int $status): void
    {
        if ($status !== 0) {
            throw new KoosignException(self::statusName($status), $status, self::statusMessage($status), $function);
        }
    }

    /** [pointer or null, length, owner] for a byte string (FFI passes PHP strings only as char *). */
    private static function bytes(string $s): array
    {
        $n = strlen($s);
        if ($n === 0) {
            return [null, 0, null];
        }
        $buf = self::load()->new("uint8_t[$n]");
        FFI::memcpy($buf, $s, $n);
        return [$buf, $n, $buf];
    }

    /** A koosign_str pointing at a copy of $s; the copy is appended to $hold. */
    private static function kstr(FFI\CData $slot, string $s, array &$hold): void
    {
        $n = strlen($s);
        $slot->len = $n;
        if ($n === 0) {
            $slot->data = null;
            return;
        }
        $buf = self::load()->new("char[$n]");
        FFI::memcpy($buf, $s, $n);
        $slot->data = self::load()->cast('const char *', FFI::addr($buf[0]));
        $hold[] = $buf;
    }

    /** @return array{0: ?FFI\CData, 1: int, 2: array} */
    private static function strArray(array $strings): array
    {
        $n = count($strings);
        if ($n === 0) {
            return [null, 0, []];
        }
        $arr = self::load()->new("koosign_str[$n]");
        $hold = [$arr];
        foreach (array_values($strings) as $i => $s) {
            self::kstr($arr[$i], (string) $s, $hold);
        }
        return [$arr, $n, $hold];
    }

    /** @return array{0: ?FFI\CData, 1: int, 2: array} */
    private static function pairArray(array $pairs): array
    {
        $n = count($pairs);
        if ($n === 0) {
            return [null, 0, []];
        }
        $arr = self::load()->new("koosign_pair[$n]");
        $hold = [$arr];
        foreach (array_values($pairs) as $i => [$name, $value]) {
            self::kstr($arr[$i]->name, (string) $name, $hold);
            self::kstr($arr[$i]->value, (string) $value, $hold);
        }
        return [$arr, $n, $hold];
    }

    private static function request(string $method, string $host, string $path, array $query, array $headers, string $body): array
    {
        $ffi = self::load();
        $req = $ffi->new('koosign_apig_request');
        $hold = [];
        self::kstr($req->method, $method, $hold);
        self::kstr($req->host, $host, $hold);
        self::kstr($req->path, $path, $hold);
        [$q, $qn, $hold[]] = self::pairArray($query);
        [$h, $hn, $hold[]] = self::pairArray($headers);
        [$b, $bn, $hold[]] = self::bytes($body);
        $req->query = $q === null ? null : $ffi->cast('const koosign_pair *', FFI::addr($q[0]));
        $req->query_len = $qn;
        $req->headers = $h === null ? null : $ffi->cast('const koosign_pair *', FFI::addr($h[0]));
        $req->headers_len = $hn;
        $req->body = $b === null ? null : $ffi->cast('const uint8_t *', FFI::addr($b[0]));
        $req->body_len = $bn;
        return [$req, [$hold, $q, $h, $b]];
    }

    /** A pointer to a koosign_freshness {nowMs, windowMs} (kept alive by a
     *  static), or to koosign_freshness_unchecked() for Koosign::UNCHECKED. */
    private static function freshness(array|string $f): FFI\CData
    {
        if (is_string($f)) {
            if ($f !== self::UNCHECKED) {
                throw new InvalidArgumentException("freshness: [nowMs, windowMs] or Koosign::UNCHECKED, not '$f'");
            }
            return self::load()->koosign_freshness_unchecked();
        }
        static $cell = null;
        $cell = self::load()->new('koosign_freshness');
        $cell->now_ms = (int) $f[0];
        $cell->window_ms = (int) ($f[1] ?? self::DEFAULT_WINDOW_MS);
        return FFI::addr($cell);
    }

    /** The (koosign_replay, koosign_nonce_cache *) arguments of a verifier. */
    private static function replay(KoosignNonceCache|string $cache): array
    {
        if (is_string($cache)) {
            if ($cache !== self::UNCHECKED) {
                throw new InvalidArgumentException("cache: a KoosignNonceCache or Koosign::UNCHECKED, not '$cache'");
            }
            return [self::constant('KOOSIGN_REPLAY_UNCHECKED'), null];
        }
        return [self::constant('KOOSIGN_REPLAY_STORE'), $cache->cdata()];
    }

    private static function firstExisting(array $paths): ?string
    {
        foreach ($paths as $p) {
            if (is_file($p)) {
                return $p;
            }
        }
        return null;
    }

    /**
     * The C declarations of koosign.h as FFI::cdef accepts them (no
     * preprocessor), and its constants. Conditionals are resolved as a C11
     * compiler would: __cplusplus undefined, __STDC_VERSION__ 201112L.
     *
     * @return array{0: string, 1: array<string,int>}
     */
    private static function declarations(string $header): array
    {
        $out = [];
        $constants = [];
        $stack = [];   // each: [active, taken]
        $active = true;
        foreach (preg_split('/\R/', $header) as $line) {
            $t = trim($line);
            if (preg_match('/^#\s*(ifdef|ifndef|if|elif|else|endif|define|include|undef)\b\s*(.*)$/', $t, $m)) {
                [$dir, $arg] = [$m[1], trim($m[2])];
                switch ($dir) {
                    case 'ifdef':
                    case 'ifndef':
                    case 'if':
                        $cond = match ($dir) {
                            'ifdef' => self::defined($arg),
                            'ifndef' => !self::defined($arg),
                            default => self::evaluate($arg),
                        };
                        $stack[] = [$active, $cond];
                        $active = $active && $cond;
                        break;
                    case 'elif':
                    case 'else':
                        [$outer, $taken] = end($stack);
                        $cond = !$taken && ($dir === 'else' || self::evaluate($arg));
                        $stack[count($stack) - 1] = [$outer, $taken || $cond];
                        $active = $outer && $cond;
                        break;
                    case 'endif':
                        [$active] = array_pop($stack);
                        break;
                    case 'define':
                        if ($active && preg_match('/^(\w+)\s+(-?\d+)[uUlL]*$/', $arg, $d)) {
                            $constants[$d[1]] = (int) $d[2];
                        }
                        break;
                }
                continue;
            }
            if ($active) {
                $out[] = $line;
            }
        }
        $decls = implode("\n", $out);
        if (preg_match_all('/\b(KOOSIGN_\w+)\s*=\s*(\d+)\s*,/', $decls, $mm, PREG_SET_ORDER)) {
            foreach ($mm as $e) {
                $constants[$e[1]] = (int) $e[2];
            }
        }
        return [$decls, $constants];
    }

    private static function defined(string $macro): bool
    {
        return in_array($macro, ['__STDC_VERSION__', '__STDC__'], true);
    }

    /** `defined(X)`, `__STDC_VERSION__ >= N`, `||`, `&&`, `!` — all koosign.h uses. */
    private static function evaluate(string $expr): bool
    {
        $e = preg_replace_callback('/defined\s*\(\s*(\w+)\s*\)/', fn ($m) => self::defined($m[1]) ? '1' : '0', $expr);
        $e = str_replace(['__STDC_VERSION__', '__cplusplus'], ['201112', '0'], $e);
        $e = preg_replace('/(\d+)L\b/', '$1', $e);
        $or = false;
        foreach (explode('||', $e) as $disj) {
            $and = true;
            foreach (explode('&&', $disj) as $term) {
                $term = trim($term);
                $neg = false;
                while (str_starts_with($term, '!')) {
                    $neg = !$neg;
                    $term = trim(substr($term, 1));
                }
                if (preg_match('/^(\d+)\s*(>=|<=|==|!=|>|<)\s*(\d+)$/', $term, $c)) {
                    $v = match ($c[2]) {
                        '>=' => $c[1] >= $c[3], '<=' => $c[1] <= $c[3], '==' => $c[1] == $c[3],
                        '!=' => $c[1] != $c[3], '>' => $c[1] > $c[3], '<' => $c[1] < $c[3],
                    };
                } elseif (preg_match('/^\d+$/', $term)) {
                    $v = (int) $term !== 0;
                } else {
                    throw new RuntimeException("koosign.h: cannot evaluate #if $expr");
                }
                $and = $and && ($neg ? !$v : $v);
            }
            $or = $or || $and;
        }
        return $or;
    }
}
