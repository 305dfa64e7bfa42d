<?php
/**
 * php -d ffi.enable=1 examples/php/notification_demo.php
 *
 * What a PHP merchant endpoint does with koosign, end to end, without a web
 * server: a V2 `newInstance` notification arrives (here signed on the spot as
 * the marketplace would), is verified over the exact body with a ±60 s
 * window, the response carries AES-encrypted credentials and a Body-Sign
 * header. In a real endpoint the inputs are $_GET['signature'],
 * $_GET['timestamp'], $_GET['nonce'] and file_get_contents('php://input'),
 * and the output goes through header() and echo.
 *
 * Prints the response and, last, `N passed, M failed` for its own checks.
 */

declare(strict_types=1);

require __DIR__ . '/Koosign.php';

$accessKey = 'testAccessKey123';            // seller console → 应用工具 → 密钥管理
$keys = ['previousKey', $accessKey];         // during a key rotation, both

// --- the marketplace's request (simulated) ---------------------------------
$nowMs = (int) floor(microtime(true) * 1000);
$timestamp = (string) $nowMs;
$nonce = bin2hex(random_bytes(32));
$body = '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
      . '"orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
$signature = Koosign::signV2(Koosign::V2_BASIC, $body, $accessKey, $nonce, $timestamp);

// --- the merchant endpoint ---------------------------------------------------
function handle(string $signature, string $timestamp, string $nonce, string $body, array $keys, int $nowMs): array
{
    try {
        $keyIndex = Koosign::verifyV2(Koosign::V2_BASIC, $signature, $timestamp, $nonce, $body, $keys, [$nowMs, Koosign::DEFAULT_WINDOW_MS]);
    } catch (KoosignException $e) {
        // Format errors (the core's Error::is_format_error) are 000002, the rest 000001.
        $code = in_array($e->statusName, ['KOOSIGN_MISSING_PARAMETER', 'KOOSIGN_MALFORMED_ENCODING', 'KOOSIGN_INPUT_TOO_LARGE'], true) ? '000002' : '000001';
        $response = json_encode(['resultCode' => $code, 'resultMsg' => 'authentication failed'], JSON_UNESCAPED_SLASHES);
        return [$response, Koosign::bodySign($response, $keys[count($keys) - 1])];
    }
    // A nonce store shared by the PHP workers (Redis SET NX PX 120000, a
    // database unique key…) records $nonce here: PHP processes share no memory.
    $key = $keys[$keyIndex];
    $notification = json_decode($body, true);
    $response = json_encode([
        'resultCode' => '000000',
        'resultMsg' => 'success.',
        'instanceId' => 'inst-' . substr(hash('sha256', $notification['orderId'] . $notification['orderLineId']), 0, 16),
        'encryptType' => '1',
        'appInfo' => [
            'frontEndUrl' => 'https://saas.example.com/',
            'userName' => Koosign::encryptField('admin', $key, Koosign::AES256),
            'password' => Koosign::encryptField('s3cret+/=', $key, Koosign::AES256),
        ],
    ], JSON_UNESCAPED_SLASHES);
    // Sign the exact bytes that will be sent.
    return [$response, Koosign::bodySign($response, $key)];
}

[$response, $bodySign] = handle($signature, $timestamp, $nonce, $body, $keys, $nowMs);
echo "Body-Sign: $bodySign\n$response\n";

// --- checks ------------------------------------------------------------------
$passed = $failed = 0;
$check = function (bool $ok, string $what) use (&$passed, &$failed): void {
    $ok ? $passed++ : $failed++;
    if (!$ok) {
        fwrite(STDERR, "FAIL $what\n");
    }
};
$r = json_decode($response, true);
$check($r['resultCode'] === '000000', 'accepted');
$check(Koosign::verifyBodySign($bodySign, $response, [$accessKey]) === 0, 'Body-Sign verifies');
$check(Koosign::decryptField($r['appInfo']['userName'], $accessKey, Koosign::AES256) === 'admin', 'userName decrypts');
$check(Koosign::decryptField($r['appInfo']['password'], $accessKey) === 's3cret+/=', 'password decrypts (auto)');
$check(strlen($r['appInfo']['password']) <= 128, 'wire string within 128 characters');
[$bad] = handle($signature, $timestamp, $nonce, $body . ' ', $keys, $nowMs);
$check(json_decode($bad, true)['resultCode'] === '000001', 'a changed body is refused');
[$stale] = handle($signature, $timestamp, $nonce, $body, $keys, $nowMs + 61000);
$check(json_decode($stale, true)['resultCode'] === '000001', 'a stale timestamp is refused');
[$garbled] = handle($signature, $timestamp, '', $body, $keys, $nowMs);
$check(json_decode($garbled, true)['resultCode'] === '000002', 'a missing nonce is a format error');
try {
    Koosign::encryptField(str_repeat('x', 80), $accessKey);
    $check(false, 'an 80-byte plaintext is refused');
} catch (KoosignException $e) {
    $check($e->statusName === 'KOOSIGN_INPUT_TOO_LARGE', 'an 80-byte plaintext is refused');
}
$check(Koosign::version() !== '', 'version');
echo "$passed passed, $failed failed\n";
exit($failed > 0 ? 1 : 0);
