<?php
/**
 * php -d ffi.enable=1 examples/php/check_vectors.php [--verbose] [FILE...]
 *
 * Without files: notifications.jsonl and apig.jsonl of $KOOSIGN_VECTORS, else
 * of the repository's vectors/ (a missing folder or file fails, exit 1).
 *
 * The repository's conformance vectors (JSON Lines, vectors/) checked from
 * PHP through FFI on libkoosign, with the same contract as
 * `koosign conformance` and bindings-c/build/koosign-conformance: per case,
 * recompute or verify the expected value and check that a one-character
 * change is rejected; a count per kind, then `N passed, M failed`; exit 1 on
 * any failure or unknown kind.
 *
 * A v1_query case is also read by this script itself (form-decoding, the
 * canonical string, and the SCHEMES.md S1 item 10 ambiguity rule on the
 * decoded pairs): the cases it judges ambiguous must be refused with
 * KOOSIGN_AMBIGUOUS, the others verify; canonical string and token are
 * checked for all (the token also with PHP's own hash_hmac).
 */

declare(strict_types=1);

require __DIR__ . '/Koosign.php';

final class CaseFailed extends Exception
{
}

function field(array $c, string $name): string
{
    if (!isset($c[$name]) || !is_string($c[$name])) {
        throw new CaseFailed("field `$name` missing or not a string");
    }
    return $c[$name];
}

function expect_eq(string $what, string $got, string $want): void
{
    if ($got !== $want) {
        throw new CaseFailed("$what: got " . json_encode($got, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . ', expected ' . json_encode($want, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES));
    }
}

/** Runs $f and requires the status $want (KOOSIGN_SIGNATURE_MISMATCH by default). */
function expect_mismatch(string $what, callable $f, string $want = 'KOOSIGN_SIGNATURE_MISMATCH'): void
{
    try {
        $f();
    } catch (KoosignException $e) {
        if ($e->statusName === $want) {
            return;
        }
        throw new CaseFailed("$what: expected $want, got {$e->statusName}");
    }
    throw new CaseFailed($want === 'KOOSIGN_SIGNATURE_MISMATCH' ? "$what: a one-character change was accepted" : "$what: expected $want, but it was accepted");
}

/**
 * S1 steps 1–5 in PHP: [decoded pairs, canonical string, timeStamp or null].
 * The first of a repeated name is kept; names sort by UTF-16 code unit
 * (Java's TreeMap<String,…>), i.e. by their UTF-16BE bytes.
 */
function v1_reference(string $query): array
{
    $pairs = [];
    foreach (explode('&', ltrim($query, '?')) as $piece) {
        if ($piece === '') {
            continue;
        }
        $eq = strpos($piece, '=');
        [$n, $v] = $eq === false ? [$piece, ''] : [substr($piece, 0, $eq), substr($piece, $eq + 1)];
        $pairs[] = [urldecode($n), urldecode($v)];
    }
    $kept = [];
    foreach ($pairs as [$n, $v]) {
        if ($n !== 'authToken' && !array_key_exists($n, $kept)) {
            $kept[$n] = $v;
        }
    }
    $names = array_map('strval', array_keys($kept));
    usort($names, fn ($a, $b) => strcmp((string) iconv('UTF-8', 'UTF-16BE', $a), (string) iconv('UTF-8', 'UTF-16BE', $b)));
    $canonical = implode('&', array_map(fn ($n) => "$n=" . $kept[$n], $names));
    $ts = null;
    foreach ($pairs as [$n, $v]) {
        if ($n === 'timeStamp') {
            $ts = $v;
            break;
        }
    }
    return [$pairs, $canonical, $ts];
}

/** SCHEMES.md S1 item 10 on decoded pairs: a name with `&` or `=`, or a value with `&x=` (x free of `&` and `=`). */
function v1_ambiguous(array $pairs): bool
{
    foreach ($pairs as [$n, $v]) {
        if ($n !== 'authToken' && (preg_match('/[&=]/', $n) || preg_match('/&[^&=]*=/', $v))) {
            return true;
        }
    }
    return false;
}

$ambiguousCases = 0;

/** The same one-character change as the Rust and C runners. */
function alter(string $s, int $at): string
{
    $n = strlen($s);
    for ($k = 0; $k < $n; $k++) {
        $i = ($at + $k) % $n;
        $c = $s[$i];
        if (ctype_alnum($c)) {
            if ($c === 'A' || $c === 'a') {
                $r = chr(ord($c) + 1);
            } elseif ($c === '0') {
                $r = '1';
            } elseif (ctype_digit($c)) {
                $r = '0';
            } else {
                $r = 'A';
            }
            $s[$i] = $r === $c ? 'z' : $r;
            break;
        }
    }
    return $s;
}

function check_case(string $kind, array $c): void
{
    switch ($kind) {
        case 'v1_query':
            global $ambiguousCases;
            $key = field($c, 'access_key');
            $query = field($c, 'query');
            $canonical = field($c, 'canonical');
            $token = field($c, 'auth_token');
            [$pairs, $mine, $ts] = v1_reference($query);
            expect_eq("canonical (PHP's own)", $mine, $canonical);
            if ($ts === null) {
                throw new CaseFailed('no timeStamp in query');
            }
            expect_eq('HMAC(key + timeStamp, canonical)', base64_encode(hash_hmac('sha256', $canonical, $key . $ts, true)), $token);
            expect_eq('authToken', Koosign::v1AuthToken($query, $key), $token);
            $start = strpos($query, 'authToken=');
            if ($start === false) {
                throw new CaseFailed('no authToken in query');
            }
            $start += strlen('authToken=');
            $altered = substr($query, 0, $start) . alter(substr($query, $start), 0);
            if (v1_ambiguous($pairs)) {
                // Refused before the token is looked at, the changed one too.
                expect_mismatch('canonical', fn () => Koosign::v1Canonical($query), 'KOOSIGN_AMBIGUOUS');
                expect_mismatch('verify', fn () => Koosign::verifyV1($query, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED), 'KOOSIGN_AMBIGUOUS');
                expect_mismatch('altered authToken', fn () => Koosign::verifyV1($altered, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED), 'KOOSIGN_AMBIGUOUS');
                $ambiguousCases++;
                return;
            }
            expect_eq('canonical', Koosign::v1Canonical($query), $canonical);
            Koosign::verifyV1($query, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED);
            expect_mismatch('altered authToken', fn () => Koosign::verifyV1($altered, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED));
            return;
        case 'body_sign':
            $key = field($c, 'access_key');
            $body = field($c, 'body');
            $want = field($c, 'signature');
            expect_eq('signature', Koosign::bodySignature($body, $key), $want);
            Koosign::verifyBodySign(Koosign::bodySign($body, $key), $body, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED);
            $altered = 'sign_type="HMAC-SHA256", signature="' . alter($want, 3) . '"';
            expect_mismatch('altered signature', fn () => Koosign::verifyBodySign($altered, $body, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED));
            return;
        case 'aes_cbc':
            $key = field($c, 'access_key');
            $type = match ($c['encrypt_type'] ?? null) {
                1 => Koosign::AES256,
                2 => Koosign::AES128,
                default => throw new CaseFailed('encrypt_type must be 1 or 2'),
            };
            expect_eq('derived key', bin2hex(Koosign::deriveKey($key, $type)), field($c, 'derived_key_hex'));
            $iv = field($c, 'iv');
            if (strlen($iv) !== 16) {
                throw new CaseFailed('iv is not 16 bytes');
            }
            $plain = field($c, 'plaintext');
            $wire = field($c, 'ciphertext');
            expect_eq('ciphertext', Koosign::encryptField($plain, $key, $type, $iv), $wire);
            expect_eq('decrypt', Koosign::decryptField($wire, $key, $type), $plain);
            $altered = substr($wire, 0, 16) . alter(substr($wire, 16), 0);
            try {
                if (Koosign::decryptField($altered, $key, $type) === $plain) {
                    throw new CaseFailed('altered ciphertext decrypted to the original plaintext');
                }
            } catch (KoosignException $e) {
                if ($e->statusName !== 'KOOSIGN_DECRYPT') {
                    throw new CaseFailed("altered ciphertext: unexpected {$e->statusName}");
                }
            }
            return;
        case 'v2_basic':
        case 'v2_kit':
            $scheme = $kind === 'v2_basic' ? Koosign::V2_BASIC : Koosign::V2_KIT;
            $key = field($c, 'access_key');
            $body = field($c, 'body');
            $sig = field($c, 'signature');
            $ts = field($c, 'timestamp');
            $nonce = field($c, 'nonce');
            expect_eq('signature (case-insensitive)', strtoupper(Koosign::signV2($scheme, $body, $key, $nonce, $ts)), strtoupper($sig));
            Koosign::verifyV2($scheme, $sig, $ts, $nonce, $body, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED);
            $altered = alter($sig, 7);
            expect_mismatch('altered signature', fn () => Koosign::verifyV2($scheme, $altered, $ts, $nonce, $body, [$key], Koosign::UNCHECKED, Koosign::UNCHECKED));
            return;
        case 'licence':
            $key = field($c, 'access_key');
            [$ts, $nonce, $body, $sig] = [field($c, 'ts'), field($c, 'nonce'), field($c, 'body'), field($c, 'signature')];
            expect_eq('signature', Koosign::licenceSign($ts, $nonce, $body, $key), $sig);
            Koosign::verifyLicence($ts, $nonce, $body, $sig, [$key], Koosign::UNCHECKED);
            $altered = alter($sig, 5);
            expect_mismatch('altered signature', fn () => Koosign::verifyLicence($ts, $nonce, $body, $altered, [$key], Koosign::UNCHECKED));
            return;
        case 'apig':
            [$ak, $sk] = [field($c, 'ak'), field($c, 'sk')];
            if (!isset($c['query']) || !is_array($c['query']) || !array_is_list($c['query'])) {
                throw new CaseFailed('query must be an array');
            }
            if (!isset($c['headers']) || !is_array($c['headers']) || (array_is_list($c['headers']) && $c['headers'] !== [])) {
                throw new CaseFailed('headers must be an object');
            }
            $query = array_map(fn ($p) => [(string) ($p[0] ?? ''), (string) ($p[1] ?? '')], $c['query']);
            $headers = [];
            foreach ($c['headers'] as $name => $value) {
                $headers[] = [(string) $name, is_string($value) ? $value : ''];
            }
            [$method, $host, $path, $body] = [field($c, 'method'), field($c, 'host'), field($c, 'path'), field($c, 'body')];
            $signed = Koosign::signApig($method, $host, $path, $query, $headers, $body, $ak, $sk);
            expect_eq('canonical query', $signed['canonical_query'], field($c, 'canonical_query'));
            expect_eq('Authorization', $signed['authorization'], field($c, 'authorization'));
            // The request as sent: an added header replaces a given one of the same name.
            $addedNames = array_column($signed['headers_to_add'], 0);
            $sent = array_values(array_filter($headers, fn ($h) => !in_array($h[0], $addedNames, true)));
            array_push($sent, ...$signed['headers_to_add']);
            $unsigned = null;
            Koosign::verifyApig($method, $host, $path, $query, $sent, $body, [[$ak, $sk]], Koosign::UNCHECKED, $unsigned);
            // The body goes unauthenticated exactly when a signed X-Sdk-Content-Sha256 says UNSIGNED-PAYLOAD over a non-empty body.
            $says = array_filter($sent, fn ($h) => strcasecmp($h[0], 'X-Sdk-Content-Sha256') === 0 && !str_contains($h[0], '_') && $h[1] === 'UNSIGNED-PAYLOAD');
            if ($unsigned !== ($body !== '' && $says !== [])) {
                throw new CaseFailed('unsigned_payload: got ' . var_export($unsigned, true));
            }
            $auth = $signed['authorization'];
            $cut = strrpos($auth, 'Signature=');
            if ($cut === false) {
                throw new CaseFailed('no Signature=');
            }
            $cut += strlen('Signature=');
            $altered = substr($auth, 0, $cut) . alter(substr($auth, $cut), 0);
            $tampered = array_values(array_filter($sent, fn ($h) => $h[0] !== 'Authorization'));
            $tampered[] = ['Authorization', $altered];
            expect_mismatch('altered signature', fn () => Koosign::verifyApig($method, $host, $path, $query, $tampered, $body, [[$ak, $sk]], Koosign::UNCHECKED));
            return;
        default:
            throw new CaseFailed("unknown kind `$kind`");
    }
}

$files = array_slice($argv, 1);
$verbose = in_array('--verbose', $files, true);
$files = array_values(array_filter($files, fn ($f) => $f !== '--verbose'));
if (in_array('-h', $files, true) || in_array('--help', $files, true)) {
    fwrite(STDERR, "usage: php -d ffi.enable=1 check_vectors.php [--verbose] [FILE...]\n");
    exit(2);
}
if ($files === []) {
    $env = getenv('KOOSIGN_VECTORS');
    $dir = ($env !== false && $env !== '') ? $env : dirname(__DIR__, 2) . '/vectors';
    foreach (['notifications.jsonl', 'apig.jsonl'] as $name) {
        if (!is_file("$dir/$name")) {
            fwrite(STDERR, "vector file $dir/$name not found (the repository's vectors/ or \$KOOSIGN_VECTORS)\n");
            echo "0 passed, 1 failed\n";
            exit(1);
        }
        $files[] = "$dir/$name";
    }
}

Koosign::load();
$tally = [];
$passed = $failed = 0;
foreach ($files as $file) {
    $text = @file_get_contents($file);
    if ($text === false) {
        fwrite(STDERR, "$file: cannot read\n");
        $failed++;
        continue;
    }
    foreach (explode("\n", $text) as $i => $line) {
        $line = rtrim($line, "\r");
        if (trim($line) === '') {
            continue;
        }
        $case = json_decode($line, true);
        if (!is_array($case)) {
            $kind = '<invalid json>';
            $why = 'not JSON';
        } else {
            $kind = is_string($case['kind'] ?? null) ? $case['kind'] : '<none>';
            $why = null;
            try {
                check_case($kind, $case);
            } catch (CaseFailed $e) {
                $why = $e->getMessage();
            } catch (KoosignException $e) {
                $why = $e->getMessage();
            }
        }
        $tally[$kind] ??= [0, 0];
        if ($why === null) {
            $tally[$kind][0]++;
            $passed++;
        } else {
            $tally[$kind][1]++;
            $failed++;
            if ($verbose || $tally[$kind][1] <= 5) {
                fwrite(STDERR, sprintf("FAIL %s:%d [%s] %s\n", $file, $i + 1, $kind, $why));
            }
        }
    }
}
ksort($tally, SORT_STRING);
foreach ($tally as $kind => [$p, $f]) {
    echo "$kind: $p passed, $f failed\n";
}
if ($ambiguousCases > 0) {
    echo "(v1_query: $ambiguousCases of them ambiguous by SCHEMES.md S1 item 10, refused as KOOSIGN_AMBIGUOUS)\n";
}
echo "$passed passed, $failed failed\n";
exit($failed > 0 ? 1 : 0);
