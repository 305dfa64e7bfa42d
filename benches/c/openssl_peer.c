/* openssl_peer: the OpenSSL (libcrypto 3) peer of koosign's floors (issue 8).
 *
 * The same primitive work as the Rust floors in benches/src/lib.rs, on the
 * same bytes: one HMAC-SHA256 over the documented S1 canonical string (key =
 * access key + timeStamp), two for S2 (inner over the documented body, outer
 * over key + nonce + timestamp + inner hex), HMAC + Base64 of a 200-byte
 * response (Body-Sign), AES-CBC of an 11-digit phone number + Base64 (key
 * schedule cached in the context, and redone per call), SHA-256 of 64 KiB.
 * Every result is checked against the SCHEMES.md vectors first.
 *
 * HMAC is timed two ways: the one-shot HMAC() a C merchant would write
 * (in OpenSSL 3 it fetches the algorithm on every call) and a pre-fetched
 * EVP_MAC re-keyed per call.
 *
 * Build: cc -O2 -o openssl_peer openssl_peer.c -lcrypto
 * Run:   ./openssl_peer [--quick]
 * Prints one JSON object per line: {"peer":"openssl","op":...,"ns_per_op":...};
 * each op warmed up 0.5 s, then timed in batches of about 0.5 ms for 3 s,
 * median batch, as the Rust `ratios` bench and the JDK peer do
 * (--quick: 0.05 s and 0.1 s).
 */
#define _POSIX_C_SOURCE 199309L
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *KEY = "testAccessKey123";
static const char *V1_KEY = "testAccessKey12320200727073711903";
static const char *V1_CANONICAL =
    "activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId="
    "68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&"
    "productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903";
static const char *V1_TOKEN = "IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY=";
static const char *V2_BODY =
    "{\"activity\":\"newInstance\",\"businessId\":\"87b94795-0603-4e24-8ae5-69420d60e3c8\","
    "\"orderId\":\"CS2211181819B4LVS\",\"orderLineId\":\"CS2211181819B4LVS-000001\",\"testFlag\":\"1\"}";
static const char *V2_NONCE = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
static const char *V2_TIMESTAMP = "1680508066618";
static const char *V2_SIGNATURE = "cd8d59bb7fcf7574752b5eb0ed04b3acf4a759da53f24d30a79abe45c5d1ba25";
static const char *PHONE = "13812345678";
static const unsigned char IV[16] = "abcdefgh12345678";
/* SHA1PRNG-derived keys of "testAccessKey123" (SCHEMES.md S4). */
static const unsigned char K128[16] = {0x04, 0x13, 0xc5, 0xde, 0x84, 0xa4, 0x31, 0x2c,
                                       0x10, 0xf2, 0x37, 0xcf, 0x10, 0x2c, 0x14, 0xf9};
static const unsigned char K256[32] = {0x04, 0x13, 0xc5, 0xde, 0x84, 0xa4, 0x31, 0x2c, 0x10, 0xf2, 0x37,
                                       0xcf, 0x10, 0x2c, 0x14, 0xf9, 0x09, 0x63, 0x5c, 0x06, 0x7f, 0x68,
                                       0xc4, 0x42, 0xf5, 0xd9, 0xaa, 0x86, 0x5f, 0xb0, 0xd1, 0x76};

static double warm_s = 0.5, measure_s = 3.0;
static volatile unsigned char sink;

static char resp[201];
static char v2_canon[256];
static size_t v2_canon_len;
static unsigned char big[65536];
static EVP_MAC *mac;
static EVP_MAC_CTX *mctx;
static EVP_CIPHER_CTX *cctx128, *cctx256, *kctx;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double per[1 << 16];

static void timeit(const char *op, void (*f)(void)) {
    double end = now_ns() + warm_s * 1e9;
    while (now_ns() < end)
        for (int i = 0; i < 100; i++) f();
    /* Calls per batch of about 0.5 ms, from the call rate over 50 ms. */
    long c = 0;
    double t0 = now_ns(), e;
    do {
        f();
        c++;
        e = now_ns() - t0;
    } while (e < 50e6);
    long n = (long)(5e5 * c / e) + 1;
    int k = 0;
    end = now_ns() + measure_s * 1e9;
    while ((now_ns() < end || k < 5) && k < (int)(sizeof per / sizeof per[0])) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) f();
        per[k++] = (now_ns() - t0) / n;
    }
    qsort(per, k, sizeof per[0], cmp_d);
    printf("{\"peer\":\"openssl\",\"op\":\"%s\",\"ns_per_op\":%.2f,\"min\":%.2f,\"p75\":%.2f,\"batches\":%d}\n", op,
           per[k / 2], per[0], per[(3 * k) / 4], k);
    fflush(stdout);
}

static void hex(const unsigned char *in, size_t n, char *out) {
    static const char *H = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = H[in[i] >> 4];
        out[2 * i + 1] = H[in[i] & 15];
    }
    out[2 * n] = 0;
}

/* HMAC with the pre-fetched EVP_MAC, re-keyed per call. */
static void evp_hmac(const char *key, const void *msg, size_t len, unsigned char out[32]) {
    size_t outl = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0), OSSL_PARAM_construct_end()};
    if (!EVP_MAC_init(mctx, (const unsigned char *)key, strlen(key), params) || !EVP_MAC_update(mctx, msg, len) ||
        !EVP_MAC_final(mctx, out, &outl, 32)) {
        fprintf(stderr, "EVP_MAC failed\n");
        exit(1);
    }
}

static void oneshot_hmac(const char *key, const void *msg, size_t len, unsigned char out[32]) {
    unsigned int l = 32;
    HMAC(EVP_sha256(), key, (int)strlen(key), msg, len, out, &l);
}

static void op_v1_oneshot(void) {
    unsigned char m[32];
    oneshot_hmac(V1_KEY, V1_CANONICAL, strlen(V1_CANONICAL), m);
    sink = m[0];
}
static void op_v1_evp(void) {
    unsigned char m[32];
    evp_hmac(V1_KEY, V1_CANONICAL, strlen(V1_CANONICAL), m);
    sink = m[0];
}
static void op_v2_oneshot(void) {
    unsigned char m[32];
    oneshot_hmac(KEY, V2_BODY, strlen(V2_BODY), m);
    sink = m[0];
    oneshot_hmac(KEY, v2_canon, v2_canon_len, m);
    sink = m[0];
}
static void op_v2_evp(void) {
    unsigned char m[32];
    evp_hmac(KEY, V2_BODY, strlen(V2_BODY), m);
    sink = m[0];
    evp_hmac(KEY, v2_canon, v2_canon_len, m);
    sink = m[0];
}
static void op_body_sign_evp(void) {
    unsigned char m[32], b64[48];
    evp_hmac(KEY, resp, 200, m);
    EVP_EncodeBlock(b64, m, 32);
    sink = b64[0];
}
static void op_body_sign_oneshot(void) {
    unsigned char m[32], b64[48];
    oneshot_hmac(KEY, resp, 200, m);
    EVP_EncodeBlock(b64, m, 32);
    sink = b64[0];
}

/* AES-CBC-PKCS#7 of the phone number + Base64, wire = iv + b64. */
static int field_encrypt(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const unsigned char *key, char wire[48]) {
    unsigned char ct[32];
    int l1 = 0, l2 = 0;
    if (!EVP_EncryptInit_ex(ctx, cipher, NULL, key, IV) ||
        !EVP_EncryptUpdate(ctx, ct, &l1, (const unsigned char *)PHONE, (int)strlen(PHONE)) ||
        !EVP_EncryptFinal_ex(ctx, ct + l1, &l2)) {
        fprintf(stderr, "EVP_Encrypt failed\n");
        exit(1);
    }
    memcpy(wire, IV, 16);
    return 16 + EVP_EncodeBlock((unsigned char *)wire + 16, ct, l1 + l2);
}
/* cached: the context keeps the key schedule; only the IV is set per call. */
static void op_aes128_cached(void) {
    char w[48];
    field_encrypt(cctx128, NULL, NULL, w);
    sink = w[20];
}
static void op_aes256_cached(void) {
    char w[48];
    field_encrypt(cctx256, NULL, NULL, w);
    sink = w[20];
}
static void op_aes128_keyed(void) {
    char w[48];
    field_encrypt(kctx, EVP_aes_128_cbc(), K128, w);
    sink = w[20];
}
static void op_aes256_keyed(void) {
    char w[48];
    field_encrypt(kctx, EVP_aes_256_cbc(), K256, w);
    sink = w[20];
}
static void op_sha256_64k(void) {
    unsigned char d[32];
    unsigned int l = 32;
    EVP_Digest(big, sizeof big, d, &l, EVP_sha256(), NULL);
    sink = d[0];
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "openssl_peer: self-check failed: %s\n", what);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        warm_s = 0.05;
        measure_s = 0.1;
    }
    /* The 200-byte response of the Rust benches (benches/src/lib.rs body_of_len). */
    const char *head = "{\"resultCode\":\"000000\",\"resultMsg\":\"", *fill = "success. ";
    size_t h = strlen(head);
    memcpy(resp, head, h);
    for (size_t i = 0; i < 200 - h - 2; i++) resp[h + i] = fill[i % 9];
    memcpy(resp + 198, "\"}", 2);
    for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)i;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    mctx = EVP_MAC_CTX_new(mac);
    cctx128 = EVP_CIPHER_CTX_new();
    cctx256 = EVP_CIPHER_CTX_new();
    kctx = EVP_CIPHER_CTX_new();
    check(EVP_EncryptInit_ex(cctx128, EVP_aes_128_cbc(), NULL, K128, IV) && EVP_EncryptInit_ex(cctx256, EVP_aes_256_cbc(), NULL, K256, IV), "cipher init");

    unsigned char m[32], b64[48];
    char hx[65], w[48];
    evp_hmac(V1_KEY, V1_CANONICAL, strlen(V1_CANONICAL), m);
    EVP_EncodeBlock(b64, m, 32);
    check(strcmp((char *)b64, V1_TOKEN) == 0, "S1 token");
    evp_hmac(KEY, V2_BODY, strlen(V2_BODY), m);
    hex(m, 32, hx);
    v2_canon_len = (size_t)snprintf(v2_canon, sizeof v2_canon, "%s%s%s%s", KEY, V2_NONCE, V2_TIMESTAMP, hx);
    oneshot_hmac(KEY, v2_canon, v2_canon_len, m);
    hex(m, 32, hx);
    check(strcmp(hx, V2_SIGNATURE) == 0, "S2 signature");
    int n = field_encrypt(kctx, EVP_aes_256_cbc(), K256, w);
    w[n] = 0;
    char w2[48];
    n = field_encrypt(cctx256, NULL, NULL, w2);
    w2[n] = 0;
    check(strcmp(w, w2) == 0 && n == 40, "AES cached = keyed");

    timeit("v1_hmac_oneshot", op_v1_oneshot);
    timeit("v1_hmac_evp_mac", op_v1_evp);
    timeit("v2_two_hmac_oneshot", op_v2_oneshot);
    timeit("v2_two_hmac_evp_mac", op_v2_evp);
    timeit("body_sign_200B_oneshot", op_body_sign_oneshot);
    timeit("body_sign_200B_evp_mac", op_body_sign_evp);
    timeit("aes128_cbc_b64_cached", op_aes128_cached);
    timeit("aes128_cbc_b64_keyed", op_aes128_keyed);
    timeit("aes256_cbc_b64_cached", op_aes256_cached);
    timeit("aes256_cbc_b64_keyed", op_aes256_keyed);
    timeit("sha256_64KiB", op_sha256_64k);

    EVP_CIPHER_CTX_free(cctx128);
    EVP_CIPHER_CTX_free(cctx256);
    EVP_CIPHER_CTX_free(kctx);
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(mac);
    return 0;
}
