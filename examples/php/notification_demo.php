<?php
/**
 * php -d ffi.enable=1 examples/php/notification_demo.php
 *
 * What a PHP merchant endpoint does with koosign, end to end, without a web
 * server: a V2 `newInstance` notification arrives (here signed on the spot as
 * the marketplace would), is verified over the exact body with a ±60 s
 * window and a replay store, the response carries AES-encrypted credentials
 * and a Body-Sign header. A V1 GET is verified with the ±5 min default
 * window, its authToken recorded in the same store. Refusals get the
 * resultCode of SCHEMES.md "Which code a refusal gets" (Koosign::refusalCode)
 * and are signed too. In a real endpoint the inputs are $_GET['signature'],
 * $_GET['timestamp'], $_GET['nonce'] and file_get_contents('php://input')
 * (V1: $_SERVER['QUERY_STRING']), and the output goes through header() and
 * echo.
 *
 * Then the issue 11 attacks against that endpoint: each is answered 000001
 * with a valid Body-Sign.
 *
 * Prints the response and, last, `N passed, M failed` for its own checks.
 */

declare(strict_types=1);

require __DIR__ . '/Koosign.php';

$accessKey = 'testAccessKey123';            // seller console → 应用工具 → 密钥管理
$keys = ['previousKey', $accessKey];         // during a key rotation, both

// The replay store. PHP-FPM workers share no memory: a production endpoint
// records nonces in a shared store (Redis SET NX PX, a unique key in the
// database); this process-local one serves the demo.
$store = new KoosignNonceCache(1024);

// --- the merchant endpoint ---------------------------------------------------

/** A signed answer: [body, Body-Sign value]. */
function answer(array $fields, string $key): array
{
    $response = json_encode($fields, JSON_UNESCAPED_SLASHES);
    return [$response, Koosign::bodySign($response, $key)];
}

/** The signed refusal for a verifier's exception (000001, or 000005 for the merchant's own failures). */
function refusal(KoosignException $e, array $keys): array
{
    $code = Koosign::refusalCode($e);
    // No key is known to have matched: sign with the current one.
    return answer(['resultCode' => $code, 'resultMsg' => $code === '000001' ? 'authentication failed' : 'internal error'], $keys[count($keys) - 1]);
}

/** POST: a V2 basic-interface notification. */
function handle(string $signature, string $timestamp, string $nonce, string $body, array $keys, int $nowMs, KoosignNonceCache $store): array
{
    try {
        $keyIndex = Koosign::verifyV2(Koosign::V2_BASIC, $signature, $timestamp, $nonce, $body, $keys, [$nowMs, Koosign::DEFAULT_WINDOW_MS], $store);
    } catch (KoosignException $e) {
        return refusal($e, $keys);
    }
    $key = $keys[$keyIndex];
    // Authenticated: from here on, unusable content is 000002.
    $notification = json_decode($body, true);
    if (!is_array($notification) || !is_string($notification['orderId'] ?? null) || !is_string($notification['orderLineId'] ?? null)) {
        return answer(['resultCode' => '000002', 'resultMsg' => 'bad parameters'], $key);
    }
    // Sign the exact bytes that will be sent.
    return answer([
        'resultCode' => '000000',
        'resultMsg' => 'success.',
        'instanceId' => 'inst-' . substr(hash('sha256', $notification['orderId'] . $notification['orderLineId']), 0, 16),
        'encryptType' => '1',
        'appInfo' => [
            'frontEndUrl' => 'https://saas.example.com/',
            'userName' => Koosign::encryptField('admin', $key, Koosign::AES256),
            'password' => Koosign::encryptField('s3cret+/=', $key, Koosign::AES256),
        ],
    ], $key);
}

/** GET: a V1 notification (±5 min by default, authToken recorded as the replay nonce). */
function handleV1(string $query, array $keys, int $nowMs, KoosignNonceCache $store): array
{
    try {
        $keyIndex = Koosign::verifyV1($query, $keys, [$nowMs, Koosign::V1_DEFAULT_WINDOW_MS], $store);
    } catch (KoosignException $e) {
        return refusal($e, $keys);
    }
    return answer(['resultCode' => '000000', 'resultMsg' => 'success.'], $keys[$keyIndex]);
}

// --- the marketplace's request (simulated) ---------------------------------
$nowMs = (int) floor(microtime(true) * 1000);
$timestamp = (string) $nowMs;
$nonce = bin2hex(random_bytes(31)) . '170';   // a nonce ending in 0 (see the digit-shift attack)
$body = '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
      . '"orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
$signature = Koosign::signV2(Koosign::V2_BASIC, $body, $accessKey, $nonce, $timestamp);

// --- checks ------------------------------------------------------------------
$passed = $failed = 0;
$check = function (bool $ok, string $what) use (&$passed, &$failed): void {
    $ok ? $passed++ : $failed++;
    if (!$ok) {
        fwrite(STDERR, "FAIL $what\n");
    }
};
/** The answer's resultCode, after checking its Body-Sign. */
$codeOf = function (array $answer, string $what) use ($check, $accessKey): string {
    [$response, $bodySign] = $answer;
    try {
        Koosign::verifyBodySign($bodySign, $response, [$accessKey]);
        $check(true, "$what: Body-Sign verifies");
    } catch (KoosignException $e) {
        $check(false, "$what: Body-Sign verifies ({$e->statusName})");
    }
    return (string) (json_decode($response, true)['resultCode'] ?? '');
};

// The digit-shift replay first (SCHEMES.md S2): nonce `…17` with timestamp
// `0…` carries the genuine signature; refused before the store is consulted.
$shifted = substr($nonce, 0, -1);
$check(Koosign::signV2(Koosign::V2_BASIC, $body, $accessKey, $shifted, "0$timestamp") === $signature, 'digit shift: same signature (the premise)');
$check($codeOf(handle($signature, "0$timestamp", $shifted, $body, $keys, $nowMs, $store), 'digit shift') === '000001', 'digit shift: 000001');
$check($store->count() === 0, 'digit shift: the store is unchanged');

// The genuine request.
[$response, $bodySign] = handle($signature, $timestamp, $nonce, $body, $keys, $nowMs, $store);
echo "Body-Sign: $bodySign\n$response\n";
$r = json_decode($response, true);
$check($r['resultCode'] === '000000', 'accepted');
$check(Koosign::verifyBodySign($bodySign, $response, [$accessKey]) === 0, 'Body-Sign verifies');
$check(Koosign::decryptField($r['appInfo']['userName'], $accessKey, Koosign::AES256) === 'admin', 'userName decrypts');
$check(Koosign::decryptField($r['appInfo']['password'], $accessKey) === 's3cret+/=', 'password decrypts (auto)');
$check(strlen($r['appInfo']['password']) <= 128, 'wire string within 128 characters');
$check($store->count() === 1, 'the nonce is recorded');

// Refusals, each signed.
$check($codeOf(handle($signature, $timestamp, $nonce, $body, $keys, $nowMs, $store), 'replay') === '000001', 'a replay is 000001');
$check($codeOf(handle($signature, $timestamp, $nonce . 'x', $body . ' ', $keys, $nowMs, $store), 'changed body') === '000001', 'a changed body is 000001');
$check($codeOf(handle($signature, $timestamp, $nonce . 'y', $body, $keys, $nowMs + 61000, $store), 'stale') === '000001', 'a stale timestamp is 000001');
// Before issue 11 this was 000002 ("a format error"); SCHEMES.md now answers
// every refusal before authentication with 000001.
$check($codeOf(handle($signature, $timestamp, '', $body, $keys, $nowMs, $store), 'missing nonce') === '000001', 'a missing nonce is 000001');
$check($codeOf(handle($signature, $timestamp, 'a b', $body, $keys, $nowMs, $store), 'nonce with a space') === '000001', 'a nonce with a space is 000001');
// Authenticated but unusable content: 000002.
$junk = '{"activity":"newInstance"}';
$junkNonce = bin2hex(random_bytes(16));
$junkSig = Koosign::signV2(Koosign::V2_BASIC, $junk, $accessKey, $junkNonce, $timestamp);
$check($codeOf(handle($junkSig, $timestamp, $junkNonce, $junk, $keys, $nowMs, $store), 'no orderId') === '000002', 'authenticated without orderId is 000002');
// A full replay store is the merchant's failure: 000005.
$small = new KoosignNonceCache(1);
for ($i = 0; $i < $small->capacity(); $i++) {
    $n = "fill-$i";
    handle(Koosign::signV2(Koosign::V2_BASIC, $body, $accessKey, $n, $timestamp), $timestamp, $n, $body, $keys, $nowMs, $small);
}
$check($small->count() === $small->capacity(), 'the small store is full');
$check($codeOf(handle($signature, $timestamp, $nonce, $body, $keys, $nowMs, $small), 'store full') === '000005', 'a full store is 000005');

// V1 GET: the ±5 min window and the authToken as replay nonce (same store).
$v1ts = gmdate('YmdHis', intdiv($nowMs, 1000)) . sprintf('%03d', $nowMs % 1000);
$v1 = Koosign::buildV1Query([['activity', 'newInstance'], ['orderId', 'CS1'], ['orderLineId', 'L1'], ['testFlag', '1'], ['timeStamp', $v1ts]], $accessKey);
$check($codeOf(handleV1($v1, $keys, $nowMs, $store), 'V1') === '000000', 'V1 accepted');
$check($codeOf(handleV1($v1, $keys, $nowMs, $store), 'V1 replay') === '000001', 'a V1 replay is 000001');
// Merged parameters (SCHEMES.md S1 item 10): orderLineId=L1%26testFlag%3D1 with the token of orderLineId=L1&testFlag=1.
$token = substr($v1, strpos($v1, '&authToken=') + strlen('&authToken='));
$merged = "activity=newInstance&orderId=CS1&orderLineId=L1%26testFlag%3D1&timeStamp=$v1ts&authToken=$token";
$check(Koosign::v1AuthToken($merged, $accessKey) === Koosign::v1AuthToken($v1, $accessKey), 'merged: same token (the premise)');
$check($codeOf(handleV1($merged, $keys, $nowMs, $store), 'V1 merged') === '000001', 'merged V1 parameters are 000001');
// A V1 notification of any age: six minutes old is outside the default window.
$old = Koosign::buildV1Query([['activity', 'newInstance'], ['orderId', 'CS2'], ['timeStamp', $v1ts]], $accessKey);
$check($codeOf(handleV1($old, $keys, $nowMs + 6 * 60 * 1000, $store), 'V1 stale') === '000001', 'a V1 from 6 minutes ago is 000001');

// Fail closed (issue 13 item 9): a check is skipped only by name, and the
// name skips only its own check.
$status = function (callable $f): string {
    try {
        $f();
        return 'KOOSIGN_OK';
    } catch (KoosignException $e) {
        return $e->statusName;
    } catch (InvalidArgumentException $e) {
        return 'InvalidArgumentException';
    }
};
$skipNonce = bin2hex(random_bytes(16));
$skipSig = Koosign::signV2(Koosign::V2_BASIC, $body, $accessKey, $skipNonce, $timestamp);
$verify = fn ($fresh, $cache) => fn () => Koosign::verifyV2(Koosign::V2_BASIC, $skipSig, $timestamp, $skipNonce, $body, $keys, $fresh, $cache);
$check($status($verify('none', Koosign::UNCHECKED)) === 'InvalidArgumentException', 'a freshness that names nothing is refused');
$check($status($verify(Koosign::UNCHECKED, 'none')) === 'InvalidArgumentException', 'a cache that names nothing is refused');
$check($status($verify([$nowMs + 3600000, Koosign::DEFAULT_WINDOW_MS], Koosign::UNCHECKED)) === 'KOOSIGN_STALE_TIMESTAMP', 'replay UNCHECKED keeps the window');
$check($status($verify(Koosign::UNCHECKED, Koosign::UNCHECKED)) === 'KOOSIGN_OK', 'both named: accepted');
$check($status($verify(Koosign::UNCHECKED, Koosign::UNCHECKED)) === 'KOOSIGN_OK', 'replay UNCHECKED: no replay check');
$skipStore = new KoosignNonceCache(4);
$check($status($verify(Koosign::UNCHECKED, $skipStore)) === 'KOOSIGN_OK', 'window UNCHECKED with a store: accepted');
$check($status($verify(Koosign::UNCHECKED, $skipStore)) === 'KOOSIGN_REPLAYED_NONCE', 'window UNCHECKED keeps the replay check');
$check($status(fn () => Koosign::verifyV2(Koosign::V2_BASIC, $skipSig, $timestamp, $skipNonce, $body . ' ', $keys, Koosign::UNCHECKED, Koosign::UNCHECKED)) === 'KOOSIGN_SIGNATURE_MISMATCH', 'both UNCHECKED keep the signature');

try {
    Koosign::encryptField(str_repeat('x', 80), $accessKey);
    $check(false, 'an 80-byte plaintext is refused');
} catch (KoosignException $e) {
    $check($e->statusName === 'KOOSIGN_INPUT_TOO_LARGE', 'an 80-byte plaintext is refused');
}
$check(Koosign::constant('KOOSIGN_AMBIGUOUS') === 13, 'KOOSIGN_AMBIGUOUS is 13');
$check(Koosign::constant('KOOSIGN_V1_DEFAULT_WINDOW_MS') === Koosign::V1_DEFAULT_WINDOW_MS, 'V1 window constant matches the header');
$check(Koosign::constant('KOOSIGN_APIG_DEFAULT_WINDOW_MS') === Koosign::APIG_DEFAULT_WINDOW_MS, 'APIG window constant matches the header');
$check(Koosign::version() !== '', 'version');
echo "$passed passed, $failed failed\n";
exit($failed > 0 ? 1 : 0);
