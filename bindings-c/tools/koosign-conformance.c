/*
 * koosign-conformance FILE... — the C twin of `koosign conformance`
 * (cli/src/conformance.rs): runs JSON Lines vectors (the format of the
 * repository's vectors/; scripts/test-c.sh passes vectors/notifications.jsonl
 * and vectors/apig.jsonl) through libkoosign's C API.
 *
 * For each case it recomputes or verifies the expected value and checks that
 * a one-character change of the token, signature or ciphertext is rejected.
 * A v1_query case is also read by the runner itself (form-decoding, the
 * canonical string, the S1 item 10 ambiguity rule): the ones it judges
 * ambiguous must be refused with KOOSIGN_AMBIGUOUS, the others verify; the
 * canonical string and the token are checked for all.
 * It prints a count per kind (sorted by kind) and, last, `N passed, M failed`;
 * the exit status is 1 on any failure or unknown kind, 2 on bad usage.
 * Kinds: v1_query, body_sign, aes_cbc, v2_basic, v2_kit, apig, apig_url
 * (reference/python/apig_ref.py urls: whole URLs signed by Huawei's SDK), licence, and
 * those of the repository's vectors/stages.jsonl (per-stage goldens: a
 * failure names the stage that differs), vectors/invalid.jsonl (each request
 * must be refused with the status KOOSIGN_<expect_error>) and
 * vectors/published.jsonl (vectors written by others).
 * Failures go to standard error, the first five per kind (all with --verbose).
 *
 * JSON is read with cJSON (Debian's libcjson-dev).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "koosign.h"
#include "helpers.h"

#define WHY_LEN 1024
typedef char why_t[WHY_LEN];

/* ---- helpers ------------------------------------------------------------ */

static bool fail(why_t why, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, WHY_LEN, fmt, ap);
    va_end(ap);
    return false;
}

/* A string field of the case, or a failure naming it. */
static bool field(const cJSON *c, const char *name, const char **out, why_t why) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, name);
    if (!cJSON_IsString(f) || f->valuestring == NULL) {
        return fail(why, "field `%s` missing or not a string", name);
    }
    *out = f->valuestring;
    return true;
}

static const char *name_of(koosign_status st) { return koosign_status_name((uint32_t)st); }

/* Compares an output (p, n) with the expected NUL-terminated text. */
static bool expect_eq(const char *what, const uint8_t *p, size_t n, const char *want, why_t why) {
    if (n == strlen(want) && memcmp(p, want, n) == 0) {
        return true;
    }
    return fail(why, "%s: got \"%.*s\", expected \"%s\"", what, (int)n, (const char *)p, want);
}

static bool expect_status(const char *what, koosign_status got, koosign_status want, why_t why) {
    if (got == want) {
        return true;
    }
    if (got == KOOSIGN_OK) {
        return fail(why, "%s: a one-character change was accepted", what);
    }
    return fail(why, "%s: expected %s, got %s", what, name_of(want), name_of(got));
}

/* Changes one character of s (the first ASCII alphanumeric at or after `at`,
 * wrapping) to another alphanumeric: the same rule as the Rust runner. The
 * result is malloc'd. */
static char *dup(const char *s) {
    size_t n = strlen(s);
    char *b = malloc(n + 1);
    if (b == NULL) {
        abort();
    }
    memcpy(b, s, n + 1);
    return b;
}

static char *alter(const char *s, size_t at) {
    size_t n = strlen(s);
    char *b = dup(s);
    for (size_t k = 0; k < n; k++) {
        size_t i = (at + k) % n;
        unsigned char c = (unsigned char)b[i];
        if (c < 128 && isalnum(c)) {
            unsigned char r;
            if (c == 'A' || c == 'a') {
                r = (unsigned char)(c + 1);
            } else if (c == '0') {
                r = '1';
            } else if (isdigit(c)) {
                r = '0';
            } else {
                r = 'A';
            }
            if (r == c) {
                r = 'z';
            }
            b[i] = (char)r;
            break;
        }
    }
    return b;
}

static void to_upper(char *s) {
    for (; *s; s++) {
        *s = (char)toupper((unsigned char)*s);
    }
}

/* ---- the kinds ---------------------------------------------------------- */

/* ---- S1 reference: the runner's own reading of a V1 query --------------- */
/* Independent of the library (SCHEMES.md S1 steps 1–5 and item 10), so the
 * runner decides by itself which cases are ambiguous and what their
 * canonical string is. */

/* One decoded query pair (malloc'd; lengths kept since a decoded value may
 * hold a NUL). */
typedef struct {
    char *name, *value;
    size_t name_len, value_len;
} pair_t;

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Form-decodes s[0..n) (`%XY` → byte, `+` → space) into a malloc'd buffer;
 * false on an invalid escape. */
static bool form_decode(const char *s, size_t n, char **out, size_t *out_len) {
    char *d = malloc(n + 1);
    if (d == NULL) {
        abort();
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[w++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return false;
            }
            d[w++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[w++] = s[i];
        }
    }
    d[w] = '\0';
    *out = d;
    *out_len = w;
    return true;
}

static void free_pairs(pair_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

/* S1 step 1: split on `&`, then on the first `=`, form-decode both sides
 * (a leading `?` skipped). The array is malloc'd; NULL on a bad escape. */
static pair_t *decode_query(const char *q, size_t *count) {
    if (*q == '?') {
        q++;
    }
    size_t cap = 1;
    for (const char *c = q; *c; c++) {
        cap += *c == '&';
    }
    pair_t *p = calloc(cap, sizeof *p);
    if (p == NULL) {
        abort();
    }
    size_t n = 0;
    for (const char *at = q;;) {
        const char *end = strchr(at, '&');
        size_t len = end != NULL ? (size_t)(end - at) : strlen(at);
        if (len > 0) {
            const char *eq = memchr(at, '=', len);
            size_t nl = eq != NULL ? (size_t)(eq - at) : len;
            const char *v = eq != NULL ? eq + 1 : at + len;
            size_t vl = eq != NULL ? len - nl - 1 : 0;
            if (!form_decode(at, nl, &p[n].name, &p[n].name_len) ||
                !form_decode(v, vl, &p[n].value, &p[n].value_len)) {
                free(p[n].name);
                free_pairs(p, n);
                return NULL;
            }
            n++;
        }
        if (end == NULL) {
            break;
        }
        at = end + 1;
    }
    *count = n;
    return p;
}

static bool is_name(const pair_t *p, const char *name) {
    return p->name_len == strlen(name) && memcmp(p->name, name, p->name_len) == 0;
}

/* S1 item 10: a name with `&` or `=`, or a value with `&` followed later
 * by `=` (the text `&x=`, x free of `&` and `=`), authToken excepted. */
static bool s1_ambiguous(const pair_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (is_name(&p[i], "authToken")) {
            continue;
        }
        if (memchr(p[i].name, '&', p[i].name_len) != NULL || memchr(p[i].name, '=', p[i].name_len) != NULL) {
            return true;
        }
        const char *amp = memchr(p[i].value, '&', p[i].value_len);
        if (amp != NULL && memchr(amp, '=', p[i].value_len - (size_t)(amp - p[i].value)) != NULL) {
            return true;
        }
    }
    return false;
}

/* The next UTF-16 code unit of UTF-8 text (Java's String.compareTo order);
 * *pending holds a low surrogate still to come. Returns -1 at the end. */
static long next_unit(const unsigned char *s, size_t n, size_t *i, long *pending) {
    if (*pending >= 0) {
        long u = *pending;
        *pending = -1;
        return u;
    }
    if (*i >= n) {
        return -1;
    }
    unsigned char c = s[*i];
    long cp;
    int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= extra && *i + (size_t)k < n; k++) {
        cp = (cp << 6) | (s[*i + (size_t)k] & 0x3F);
    }
    *i += (size_t)extra + 1;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *pending = 0xDC00 + (cp & 0x3FF);
        return 0xD800 + (cp >> 10);
    }
    return cp;
}

static int java_cmp(const pair_t *a, const pair_t *b) {
    size_t i = 0, j = 0;
    long pa = -1, pb = -1;
    for (;;) {
        long x = next_unit((const unsigned char *)a->name, a->name_len, &i, &pa);
        long y = next_unit((const unsigned char *)b->name, b->name_len, &j, &pb);
        if (x != y) {
            return x < y ? -1 : 1;
        }
        if (x < 0) {
            return 0;
        }
    }
}

/* S1 steps 2–5: authToken out, first of a repeated name, sorted (stable),
 * `name=value` joined with `&`. Malloc'd; its length in *len. */
static char *s1_canonical(const pair_t *p, size_t n, size_t *len) {
    const pair_t **keep = calloc(n + 1, sizeof *keep);
    size_t total = 1, k = 0;
    if (keep == NULL) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = is_name(&p[i], "authToken");
        for (size_t j = 0; j < k && !seen; j++) {
            seen = keep[j]->name_len == p[i].name_len && memcmp(keep[j]->name, p[i].name, p[i].name_len) == 0;
        }
        if (!seen) {
            keep[k++] = &p[i];
            total += p[i].name_len + p[i].value_len + 2;
        }
    }
    /* insertion sort: stable, and k is at most a few dozen */
    for (size_t i = 1; i < k; i++) {
        const pair_t *x = keep[i];
        size_t j = i;
        while (j > 0 && java_cmp(keep[j - 1], x) > 0) {
            keep[j] = keep[j - 1];
            j--;
        }
        keep[j] = x;
    }
    char *out = malloc(total);
    if (out == NULL) {
        abort();
    }
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (i > 0) {
            out[w++] = '&';
        }
        memcpy(out + w, keep[i]->name, keep[i]->name_len);
        w += keep[i]->name_len;
        out[w++] = '=';
        memcpy(out + w, keep[i]->value, keep[i]->value_len);
        w += keep[i]->value_len;
    }
    free(keep);
    *len = w;
    return out;
}

static size_t g_v1_ambiguous; /* cases the runner judged ambiguous */

/* v1_query: the canonical string (the runner's own, and the library's when
 * the query is unambiguous), the token (the library's signing side, and an
 * HMAC of the expected canonical string under access key + timeStamp), then
 * verification: KOOSIGN_OK, or KOOSIGN_AMBIGUOUS exactly when the runner's
 * own S1 item 10 check says so; a changed token is KOOSIGN_SIGNATURE_MISMATCH
 * (or, for an ambiguous query, still KOOSIGN_AMBIGUOUS: refused before the
 * token is looked at). */
static bool v1_query(const cJSON *c, why_t why) {
    const char *key = NULL, *query = NULL, *canonical = NULL, *token = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "query", &query, why) ||
        !field(c, "canonical", &canonical, why) || !field(c, "auth_token", &token, why)) {
        return false;
    }
    size_t np = 0, mine_len = 0;
    pair_t *pairs = decode_query(query, &np);
    if (pairs == NULL) {
        return fail(why, "query has an invalid percent escape");
    }
    bool ambiguous = s1_ambiguous(pairs, np);
    const pair_t *ts = NULL;
    for (size_t i = 0; i < np && ts == NULL; i++) {
        ts = is_name(&pairs[i], "timeStamp") ? &pairs[i] : NULL;
    }
    char *mine = s1_canonical(pairs, np, &mine_len);
    size_t qn = strlen(query);
    uint8_t *out = malloc(qn + 1);
    char *mac_key = malloc(strlen(key) + (ts != NULL ? ts->value_len : 0) + 1);
    if (out == NULL || mac_key == NULL) {
        abort();
    }
    size_t n = 0;
    bool ok = false;
    koosign_status st;
    koosign_str keys[1] = {ks_str(key)};
    if (!expect_eq("canonical (runner's own)", (const uint8_t *)mine, mine_len, canonical, why)) {
        goto done;
    }
    if (ts == NULL) {
        fail(why, "no timeStamp in query");
        goto done;
    }
    /* the expected canonical string is what the token signs */
    memcpy(mac_key, key, strlen(key));
    memcpy(mac_key + strlen(key), ts->value, ts->value_len);
    mac_key[strlen(key) + ts->value_len] = '\0';
    uint8_t tok[KOOSIGN_AUTH_TOKEN_LEN];
    st = koosign_body_signature((const uint8_t *)canonical, strlen(canonical), mac_key, strlen(mac_key), tok,
                                sizeof tok, &n);
    if (st != KOOSIGN_OK || !expect_eq("HMAC(key + timeStamp, canonical)", tok, n, token, why)) {
        if (st != KOOSIGN_OK) {
            fail(why, "HMAC: %s", koosign_status_message(st));
        }
        goto done;
    }
    st = koosign_v1_auth_token(query, qn, key, strlen(key), tok, sizeof tok, &n);
    if (st != KOOSIGN_OK) {
        fail(why, "v1_auth_token: %s", koosign_status_message(st));
        goto done;
    }
    if (!expect_eq("authToken", tok, n, token, why)) {
        goto done;
    }
    koosign_status want = ambiguous ? KOOSIGN_AMBIGUOUS : KOOSIGN_OK;
    st = koosign_v1_canonical(query, qn, out, qn + 1, &n);
    if (st != want) {
        fail(why, "v1_canonical: expected %s, got %s", name_of(want), name_of(st));
        goto done;
    }
    if (!ambiguous && !expect_eq("canonical", out, n, canonical, why)) {
        goto done;
    }
    st = koosign_verify_v1(query, qn, keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL);
    if (st != want) {
        fail(why, "verify: expected %s, got %s", name_of(want), name_of(st));
        goto done;
    }
    const char *at = strstr(query, "authToken=");
    if (at == NULL) {
        fail(why, "no authToken in query");
        goto done;
    }
    size_t start = (size_t)(at - query) + strlen("authToken=");
    char *tail = alter(query + start, 0);
    size_t an = start + strlen(tail);
    char *altered = malloc(an + 1);
    if (altered == NULL) {
        abort();
    }
    memcpy(altered, query, start);
    memcpy(altered + start, tail, strlen(tail) + 1);
    free(tail);
    ok = expect_status("altered authToken", koosign_verify_v1(altered, an, keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL),
                       ambiguous ? KOOSIGN_AMBIGUOUS : KOOSIGN_SIGNATURE_MISMATCH, why);
    free(altered);
    g_v1_ambiguous += ok && ambiguous;
done:
    free(mac_key);
    free(out);
    free(mine);
    free_pairs(pairs, np);
    return ok;
}

static bool body_sign_case(const cJSON *c, why_t why) {
    const char *key = NULL, *body = NULL, *want = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "body", &body, why) ||
        !field(c, "signature", &want, why)) {
        return false;
    }
    const uint8_t *b = (const uint8_t *)body;
    size_t bn = strlen(body), kn = strlen(key), n = 0;
    uint8_t sig[KOOSIGN_BODY_SIGNATURE_LEN];
    koosign_status st = koosign_body_signature(b, bn, key, kn, sig, sizeof sig, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "signature: %s", koosign_status_message(st));
    }
    if (!expect_eq("signature", sig, n, want, why)) {
        return false;
    }
    uint8_t header[KOOSIGN_BODY_SIGN_VALUE_LEN];
    st = koosign_body_sign(b, bn, key, kn, header, sizeof header, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "%s", koosign_status_message(st));
    }
    koosign_str keys[1] = {ks_str(key)};
    st = koosign_verify_body_sign((const char *)header, n, b, bn, keys, 1, NULL);
    if (st != KOOSIGN_OK) {
        return fail(why, "verify: %s", koosign_status_message(st));
    }
    char *alt = alter(want, 3);
    char value[256];
    snprintf(value, sizeof value, "sign_type=\"HMAC-SHA256\", signature=\"%s\"", alt);
    free(alt);
    return expect_status("altered signature",
                         koosign_verify_body_sign(value, strlen(value), b, bn, keys, 1, NULL),
                         KOOSIGN_SIGNATURE_MISMATCH, why);
}

static bool aes_cbc(const cJSON *c, why_t why) {
    const char *key = NULL, *key_hex = NULL, *iv = NULL, *plaintext = NULL, *wire = NULL;
    if (!field(c, "access_key", &key, why)) {
        return false;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "encrypt_type");
    koosign_encrypt_type ty;
    if (cJSON_IsNumber(t) && t->valuedouble == 1.0) {
        ty = KOOSIGN_AES256;
    } else if (cJSON_IsNumber(t) && t->valuedouble == 2.0) {
        ty = KOOSIGN_AES128;
    } else {
        return fail(why, "encrypt_type must be 1 or 2");
    }
    if (!field(c, "derived_key_hex", &key_hex, why) || !field(c, "iv", &iv, why)) {
        return false;
    }
    size_t kn = strlen(key), n = 0;
    uint8_t dk[KOOSIGN_AES256_KEY_LEN];
    koosign_status st = koosign_derive_key(key, kn, ty, dk, sizeof dk, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "derive: %s", koosign_status_message(st));
    }
    char hex[2 * KOOSIGN_AES256_KEY_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", dk[i]);
    }
    hex[2 * n] = '\0';
    if (!expect_eq("derived key", (const uint8_t *)hex, 2 * n, key_hex, why)) {
        return false;
    }
    if (strlen(iv) != KOOSIGN_IV_LEN) {
        return fail(why, "iv is not 16 bytes");
    }
    if (!field(c, "plaintext", &plaintext, why) || !field(c, "ciphertext", &wire, why)) {
        return false;
    }
    uint8_t out[256];
    st = koosign_encrypt_field_with_iv(plaintext, strlen(plaintext), key, kn, ty, iv, KOOSIGN_IV_LEN,
                                       out, sizeof out, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "%s", koosign_status_message(st));
    }
    if (!expect_eq("ciphertext", out, n, wire, why)) {
        return false;
    }
    size_t wn = strlen(wire);
    uint8_t *plain = malloc(wn + 1);
    if (plain == NULL) {
        abort();
    }
    bool ok = false;
    st = koosign_decrypt_field(wire, wn, key, kn, ty, plain, wn + 1, &n);
    if (st != KOOSIGN_OK) {
        fail(why, "%s", koosign_status_message(st));
        goto done;
    }
    if (!expect_eq("decrypt", plain, n, plaintext, why)) {
        goto done;
    }
    /* One Base64 character changed: CBC has no MAC, so the check is that the
     * change never yields the original plaintext. */
    if (wn < KOOSIGN_IV_LEN) {
        fail(why, "ciphertext shorter than its IV");
        goto done;
    }
    char *tail = alter(wire + KOOSIGN_IV_LEN, 0);
    char *altered = malloc(wn + 1);
    if (altered == NULL) {
        abort();
    }
    memcpy(altered, wire, KOOSIGN_IV_LEN);
    memcpy(altered + KOOSIGN_IV_LEN, tail, strlen(tail) + 1);
    free(tail);
    st = koosign_decrypt_field(altered, strlen(altered), key, kn, ty, plain, wn + 1, &n);
    if (st == KOOSIGN_OK && n == strlen(plaintext) && memcmp(plain, plaintext, n) == 0) {
        fail(why, "altered ciphertext decrypted to the original plaintext");
    } else if (st == KOOSIGN_OK || st == KOOSIGN_DECRYPT) {
        ok = true;
    } else {
        fail(why, "altered ciphertext: unexpected %s", name_of(st));
    }
    free(altered);
done:
    free(plain);
    return ok;
}

static bool v2(const cJSON *c, koosign_v2_scheme scheme, why_t why) {
    const char *key = NULL, *body = NULL, *sig = NULL, *ts = NULL, *nonce = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "body", &body, why) ||
        !field(c, "signature", &sig, why) || !field(c, "timestamp", &ts, why) ||
        !field(c, "nonce", &nonce, why)) {
        return false;
    }
    const uint8_t *b = (const uint8_t *)body;
    size_t bn = strlen(body), n = 0;
    char mine[KOOSIGN_V2_SIGNATURE_LEN + 1];
    koosign_status st = koosign_sign_v2(scheme, b, bn, key, strlen(key), nonce, strlen(nonce), ts,
                                        strlen(ts), (uint8_t *)mine, KOOSIGN_V2_SIGNATURE_LEN, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "%s", koosign_status_message(st));
    }
    mine[n] = '\0';
    char *want = dup(sig);
    to_upper(mine);
    to_upper(want);
    bool same = strcmp(mine, want) == 0;
    if (!same) {
        fail(why, "signature (case-insensitive): got \"%s\", expected \"%s\"", mine, want);
    }
    free(want);
    if (!same) {
        return false;
    }
    koosign_str keys[1] = {ks_str(key)};
    st = koosign_verify_v2(scheme, sig, strlen(sig), ts, strlen(ts), nonce, strlen(nonce), b, bn, keys, 1,
                           koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL);
    if (st != KOOSIGN_OK) {
        return fail(why, "verify: %s", koosign_status_message(st));
    }
    char *altered = alter(sig, 7);
    st = koosign_verify_v2(scheme, altered, strlen(altered), ts, strlen(ts), nonce, strlen(nonce), b, bn,
                           keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL);
    free(altered);
    return expect_status("altered signature", st, KOOSIGN_SIGNATURE_MISMATCH, why);
}

static bool licence(const cJSON *c, why_t why) {
    const char *key = NULL, *ts = NULL, *nonce = NULL, *body = NULL, *sig = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "ts", &ts, why) ||
        !field(c, "nonce", &nonce, why) || !field(c, "body", &body, why) ||
        !field(c, "signature", &sig, why)) {
        return false;
    }
    const uint8_t *b = (const uint8_t *)body;
    size_t bn = strlen(body), n = 0;
    uint8_t out[KOOSIGN_LICENCE_SIGNATURE_LEN];
    koosign_status st = koosign_licence_sign(ts, strlen(ts), nonce, strlen(nonce), b, bn, key,
                                             strlen(key), out, sizeof out, &n);
    if (st != KOOSIGN_OK) {
        return fail(why, "%s", koosign_status_message(st));
    }
    if (!expect_eq("signature", out, n, sig, why)) {
        return false;
    }
    koosign_str keys[1] = {ks_str(key)};
    st = koosign_verify_licence(ts, strlen(ts), nonce, strlen(nonce), b, bn, sig, strlen(sig), keys, 1,
                                koosign_freshness_unchecked(), NULL);
    if (st != KOOSIGN_OK) {
        return fail(why, "verify: %s", koosign_status_message(st));
    }
    char *altered = alter(sig, 5);
    st = koosign_verify_licence(ts, strlen(ts), nonce, strlen(nonce), b, bn, altered, strlen(altered),
                                keys, 1, koosign_freshness_unchecked(), NULL);
    free(altered);
    return expect_status("altered signature", st, KOOSIGN_SIGNATURE_MISMATCH, why);
}

static bool kstr_eq(koosign_str a, const char *b) {
    return a.len == strlen(b) && (a.len == 0 || memcmp(a.data, b, a.len) == 0);
}

/* apig_url (reference/python/apig_ref.py urls): a whole URL signed with
 * koosign_sign_apig_url must give the SDK's Authorization and Host. */
static bool apig_url(const cJSON *c, why_t why) {
    const char *ak = NULL, *sk = NULL, *method = NULL, *url = NULL, *body = NULL, *want_auth = NULL, *want_host = NULL;
    if (!field(c, "ak", &ak, why) || !field(c, "sk", &sk, why) || !field(c, "method", &method, why) ||
        !field(c, "url", &url, why) || !field(c, "body", &body, why) || !field(c, "authorization", &want_auth, why) ||
        !field(c, "host", &want_host, why)) {
        return false;
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
    if (!cJSON_IsObject(h)) {
        return fail(why, "headers must be an object");
    }
    int nh = cJSON_GetArraySize(h);
    koosign_pair *headers = calloc((size_t)nh + 1, sizeof *headers);
    uint8_t *buf = malloc(16 * 1024);
    if (headers == NULL || buf == NULL) {
        abort();
    }
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, h) {
        headers[i].name = ks_str(p->string);
        headers[i].value = ks_str(cJSON_IsString(p) ? p->valuestring : "");
        i++;
    }
    koosign_apig_url_request req = {ks_str(method), ks_str(url), headers, (size_t)nh, (const uint8_t *)body, strlen(body)};
    koosign_apig_signed s;
    size_t used = 0;
    bool ok = false;
    koosign_status st = koosign_sign_apig_url(&req, ak, strlen(ak), sk, strlen(sk), NULL, buf, 16 * 1024, &used, &s);
    if (st != KOOSIGN_OK) {
        fail(why, "sign: %s", koosign_status_message(st));
    } else if (expect_eq("Authorization", (const uint8_t *)s.authorization.data, s.authorization.len, want_auth, why)) {
        bool seen = false;
        for (size_t k = 0; k < s.headers_to_add_len; k++) {
            if (s.headers_to_add[k].name.len == 4 && memcmp(s.headers_to_add[k].name.data, "Host", 4) == 0) {
                seen = true;
                ok = expect_eq("Host", (const uint8_t *)s.headers_to_add[k].value.data, s.headers_to_add[k].value.len,
                               want_host, why);
            }
        }
        if (!seen) {
            fail(why, "no Host among the headers to add");
        }
    }
    free(headers);
    free(buf);
    return ok;
}

static bool apig(const cJSON *c, why_t why) {
    const char *ak = NULL, *sk = NULL, *method = NULL, *host = NULL, *path = NULL, *body = NULL, *want_query = NULL, *want_auth = NULL;
    if (!field(c, "ak", &ak, why) || !field(c, "sk", &sk, why)) {
        return false;
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(c, "query");
    if (!cJSON_IsArray(q)) {
        return fail(why, "query must be an array");
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "headers");
    if (!cJSON_IsObject(h)) {
        return fail(why, "headers must be an object");
    }
    if (!field(c, "method", &method, why) || !field(c, "host", &host, why) ||
        !field(c, "path", &path, why) || !field(c, "body", &body, why)) {
        return false;
    }
    int nq = cJSON_GetArraySize(q), nh = cJSON_GetArraySize(h);
    /* Query pairs, given headers, and room for the request as sent (given
     * headers plus up to 4 added ones). */
    koosign_pair *query = calloc((size_t)nq + 1, sizeof *query);
    koosign_pair *headers = calloc((size_t)nh + 1, sizeof *headers);
    koosign_pair *sent = calloc((size_t)nh + KOOSIGN_APIG_MAX_ADDED_HEADERS + 1, sizeof *sent);
    uint8_t *buf = malloc(16 * 1024);
    if (query == NULL || headers == NULL || sent == NULL || buf == NULL) {
        abort();
    }
    bool ok = false;
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, q) {
        const cJSON *pn = cJSON_GetArrayItem(p, 0), *pv = cJSON_GetArrayItem(p, 1);
        query[i].name = ks_str(cJSON_IsString(pn) ? pn->valuestring : "");
        query[i].value = ks_str(cJSON_IsString(pv) ? pv->valuestring : "");
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(p, h) {
        headers[i].name = ks_str(p->string);
        headers[i].value = ks_str(cJSON_IsString(p) ? p->valuestring : "");
        i++;
    }
    koosign_apig_request req = {ks_str(method), ks_str(host), ks_str(path), query, (size_t)nq, headers,
                                (size_t)nh, (const uint8_t *)body, strlen(body)};
    koosign_apig_signed s;
    size_t used = 0;
    koosign_status st =
        koosign_sign_apig(&req, ak, strlen(ak), sk, strlen(sk), NULL, buf, 16 * 1024, &used, &s);
    if (st != KOOSIGN_OK) {
        fail(why, "sign: %s", koosign_status_message(st));
        goto done;
    }
    if (!field(c, "canonical_query", &want_query, why) || !field(c, "authorization", &want_auth, why)) {
        goto done;
    }
    if (!expect_eq("canonical query", (const uint8_t *)s.canonical_query.data, s.canonical_query.len,
                   want_query, why) ||
        !expect_eq("Authorization", (const uint8_t *)s.authorization.data, s.authorization.len, want_auth,
                   why)) {
        goto done;
    }
    /* Server side: the request as sent (an added header replaces a given one
     * of the same name) verifies. */
    size_t ns = 0;
    for (int k = 0; k < nh; k++) {
        bool replaced = false;
        for (size_t a = 0; a < s.headers_to_add_len; a++) {
            koosign_str an = s.headers_to_add[a].name;
            if (an.len == headers[k].name.len && memcmp(an.data, headers[k].name.data, an.len) == 0) {
                replaced = true;
            }
        }
        if (!replaced) {
            sent[ns++] = headers[k];
        }
    }
    size_t auth_at = (size_t)-1;
    for (size_t a = 0; a < s.headers_to_add_len; a++) {
        if (kstr_eq(s.headers_to_add[a].name, "Authorization")) {
            auth_at = ns;
        }
        sent[ns++] = s.headers_to_add[a];
    }
    koosign_apig_request sent_req = req;
    sent_req.headers = sent;
    sent_req.headers_len = ns;
    koosign_pair cred[1] = {{ks_str(ak), ks_str(sk)}};
    st = koosign_verify_apig(&sent_req, cred, 1, koosign_freshness_unchecked(), NULL, NULL);
    if (st != KOOSIGN_OK) {
        fail(why, "verify: %s", koosign_status_message(st));
        goto done;
    }
    if (auth_at == (size_t)-1) {
        fail(why, "no Authorization added");
        goto done;
    }
    /* One character of the signature changed. */
    koosign_str auth = sent[auth_at].value;
    char *auth_text = malloc(auth.len + 1);
    if (auth_text == NULL) {
        abort();
    }
    memcpy(auth_text, auth.data, auth.len);
    auth_text[auth.len] = '\0';
    char *sig = NULL;
    for (char *f = strstr(auth_text, "Signature="); f != NULL; f = strstr(f + 1, "Signature=")) {
        sig = f + strlen("Signature=");
    }
    if (sig == NULL) {
        free(auth_text);
        fail(why, "no Signature=");
        goto done;
    }
    char *alt = alter(sig, 0);
    strcpy(sig, alt);
    free(alt);
    /* Authorization removed, then the altered one appended. */
    size_t nt = 0;
    for (size_t k = 0; k < ns; k++) {
        if (!kstr_eq(sent[k].name, "Authorization")) {
            sent[nt++] = sent[k];
        }
    }
    sent[nt].name = ks_str("Authorization");
    sent[nt].value = ks_str(auth_text);
    nt++;
    sent_req.headers_len = nt;
    ok = expect_status("altered signature", koosign_verify_apig(&sent_req, cred, 1, koosign_freshness_unchecked(), NULL, NULL),
                       KOOSIGN_SIGNATURE_MISMATCH, why);
    free(auth_text);
done:
    free(query);
    free(headers);
    free(sent);
    free(buf);
    return ok;
}

/* ---- vectors/stages.jsonl, vectors/invalid.jsonl, vectors/published.jsonl */

/* A string field of `over` if it has one, else of `c` (a replay's prior
 * request overrides some fields of the case). NULL if neither has it. */
static const char *sfield(const cJSON *over, const cJSON *c, const char *name) {
    const cJSON *f = over != NULL ? cJSON_GetObjectItemCaseSensitive(over, name) : NULL;
    if (!cJSON_IsString(f)) {
        f = cJSON_GetObjectItemCaseSensitive(c, name);
    }
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

static const char *or_empty(const char *s) { return s != NULL ? s : ""; }

static bool stage_eq(const char *name, const uint8_t *got, size_t n, const char *want, why_t why) {
    if (n == strlen(want) && memcmp(got, want, n) == 0) {
        return true;
    }
    return fail(why, "stage %s: got \"%.*s\", expected \"%s\"", name, (int)n, (const char *)got, want);
}

static bool stage_ok(const char *name, koosign_status st, why_t why) {
    if (st == KOOSIGN_OK) {
        return true;
    }
    return fail(why, "stage %s: %s (%s)", name, name_of(st), koosign_status_message(st));
}

/* hmac_hex (helpers.h) with the failure described in `why`. */
static bool mac_hex(const uint8_t *msg, size_t n, const char *key, char out[65], why_t why) {
    koosign_status st = hmac_hex(msg, n, key, out);
    return st == KOOSIGN_OK || fail(why, "MAC: %s", name_of(st));
}

/* A case with a "prior" request checks replays in `cache`; one without
 * names no replay check. */
#define REPLAY_OF(cache) ((cache) != NULL ? KOOSIGN_REPLAY_STORE : KOOSIGN_REPLAY_UNCHECKED)

static const koosign_freshness *fresh_of(const cJSON *c, koosign_freshness *f) {
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(c, "now_ms");
    if (!cJSON_IsNumber(now)) {
        return koosign_freshness_unchecked(); /* the case names no clock */
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "window_ms");
    f->now_ms = (uint64_t)now->valuedouble;
    f->window_ms = cJSON_IsNumber(w) ? (uint64_t)w->valuedouble : KOOSIGN_DEFAULT_WINDOW_MS;
    return f;
}

/* The status must be the one named by the core code `want`
 * (KOOSIGN_<code>, e.g. KOOSIGN_AMBIGUOUS for AMBIGUOUS). */
static bool expect_code(const char *what, koosign_status st, const char *want, why_t why) {
    char name[64];
    snprintf(name, sizeof name, "KOOSIGN_%s", want);
    if (st != KOOSIGN_OK && strcmp(name_of(st), name) == 0) {
        return true;
    }
    if (st == KOOSIGN_OK) {
        return fail(why, "%sexpected %s, but the request was accepted", what, name);
    }
    return fail(why, "%sexpected %s, got %s (%s)", what, name, name_of(st), koosign_status_message(st));
}

static bool v1_stages(const cJSON *c, why_t why) {
    const char *key = NULL, *query = NULL, *canonical = NULL, *token = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "query", &query, why) ||
        !field(c, "canonical", &canonical, why) || !field(c, "auth_token", &token, why)) {
        return false;
    }
    size_t qn = strlen(query), n = 0;
    uint8_t *out = malloc(qn + 1);
    if (out == NULL) {
        abort();
    }
    uint8_t tok[KOOSIGN_AUTH_TOKEN_LEN];
    koosign_str keys[1] = {ks_str(key)};
    bool ok = stage_ok("canonical", koosign_v1_canonical(query, qn, out, qn + 1, &n), why) &&
              stage_eq("canonical", out, n, canonical, why) &&
              stage_ok("auth_token", koosign_v1_auth_token(query, qn, key, strlen(key), tok, sizeof tok, &n), why) &&
              stage_eq("auth_token", tok, n, token, why) &&
              stage_ok("verify", koosign_verify_v1(query, qn, keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL), why);
    free(out);
    return ok;
}

static bool v2_stages(const cJSON *c, why_t why) {
    const char *key = NULL, *nonce = NULL, *ts = NULL, *body = NULL, *inner_hex = NULL, *canonical = NULL,
               *sig = NULL, *kit = NULL;
    if (!field(c, "access_key", &key, why) || !field(c, "nonce", &nonce, why) ||
        !field(c, "timestamp", &ts, why) || !field(c, "body", &body, why) ||
        !field(c, "inner_hex", &inner_hex, why) || !field(c, "canonical", &canonical, why) ||
        !field(c, "signature", &sig, why) || !field(c, "kit_signature", &kit, why)) {
        return false;
    }
    const uint8_t *b = (const uint8_t *)body;
    size_t bn = strlen(body), kn = strlen(key), nn = strlen(nonce), tn = strlen(ts), n = 0;
    char inner[65], outer[65];
    if (!mac_hex(b, bn, key, inner, why) || !stage_eq("inner", (const uint8_t *)inner, 64, inner_hex, why)) {
        return false;
    }
    char *canon = malloc(kn + nn + tn + 64 + 1);
    if (canon == NULL) {
        abort();
    }
    snprintf(canon, kn + nn + tn + 64 + 1, "%s%s%s%s", key, nonce, ts, inner);
    bool ok = stage_eq("canonical", (const uint8_t *)canon, strlen(canon), canonical, why) &&
              mac_hex((const uint8_t *)canon, strlen(canon), key, outer, why);
    free(canon);
    if (!ok) {
        return false;
    }
    to_upper(outer);
    if (!stage_eq("signature (HMAC of the canonical string)", (const uint8_t *)outer, 64, sig, why)) {
        return false;
    }
    uint8_t mine[KOOSIGN_V2_SIGNATURE_LEN];
    koosign_str keys[1] = {ks_str(key)};
    return stage_ok("signature", koosign_sign_v2(KOOSIGN_V2_BASIC, b, bn, key, kn, nonce, nn, ts, tn, mine, sizeof mine, &n), why) &&
           stage_eq("signature", mine, n, sig, why) &&
           stage_ok("verify", koosign_verify_v2(KOOSIGN_V2_BASIC, sig, strlen(sig), ts, tn, nonce, nn, b, bn, keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL), why) &&
           stage_ok("kit_signature", koosign_sign_v2(KOOSIGN_V2_KIT, b, bn, key, kn, nonce, nn, ts, tn, mine, sizeof mine, &n), why) &&
           stage_eq("kit_signature", mine, n, kit, why) &&
           stage_ok("kit verify", koosign_verify_v2(KOOSIGN_V2_KIT, kit, strlen(kit), ts, tn, nonce, nn, b, bn, keys, 1, koosign_freshness_unchecked(), KOOSIGN_REPLAY_UNCHECKED, NULL, NULL), why);
}

static bool apig_stages(const cJSON *c, why_t why) {
    const char *ak = NULL, *sk = NULL, *method = NULL, *host = NULL, *path = NULL, *body = NULL;
    if (!field(c, "ak", &ak, why) || !field(c, "sk", &sk, why) || !field(c, "method", &method, why) ||
        !field(c, "host", &host, why) || !field(c, "path", &path, why) || !field(c, "body", &body, why)) {
        return false;
    }
    static const char *const STAGES[] = {"canonical_query", "canonical_request", "string_to_sign", "signature",
                                         "authorization"};
    const char *want[5];
    for (int i = 0; i < 5; i++) {
        if (!field(c, STAGES[i], &want[i], why)) {
            return false;
        }
    }
    size_t nq = 0, nh = 0;
    koosign_pair *query = pairs_of(cJSON_GetObjectItemCaseSensitive(c, "query"), &nq);
    koosign_pair *headers = pairs_of(cJSON_GetObjectItemCaseSensitive(c, "headers"), &nh);
    koosign_pair *sent = calloc(nh + KOOSIGN_APIG_MAX_ADDED_HEADERS + 1, sizeof *sent);
    uint8_t *buf = malloc(16 * 1024);
    if (sent == NULL || buf == NULL) {
        abort();
    }
    koosign_apig_request req = {ks_str(method), ks_str(host), ks_str(path), query, nq, headers, nh,
                                (const uint8_t *)body, strlen(body)};
    koosign_apig_signed s;
    size_t used = 0;
    bool ok = stage_ok("sign", koosign_sign_apig(&req, ak, strlen(ak), sk, strlen(sk), NULL, buf, 16 * 1024, &used, &s), why);
    if (ok) {
        koosign_str got[5] = {s.canonical_query, s.canonical_request, s.string_to_sign, s.signature, s.authorization};
        for (int i = 0; i < 5 && ok; i++) {
            ok = stage_eq(STAGES[i], (const uint8_t *)got[i].data, got[i].len, want[i], why);
        }
    }
    if (ok) {
        /* The request as sent: an added header replaces a given one of the same name. */
        size_t ns = 0;
        for (size_t k = 0; k < nh; k++) {
            bool replaced = false;
            for (size_t a = 0; a < s.headers_to_add_len; a++) {
                koosign_str an = s.headers_to_add[a].name;
                replaced |= an.len == headers[k].name.len && memcmp(an.data, headers[k].name.data, an.len) == 0;
            }
            if (!replaced) {
                sent[ns++] = headers[k];
            }
        }
        for (size_t a = 0; a < s.headers_to_add_len; a++) {
            sent[ns++] = s.headers_to_add[a];
        }
        koosign_apig_request sent_req = req;
        sent_req.headers = sent;
        sent_req.headers_len = ns;
        koosign_pair cred[1] = {{ks_str(ak), ks_str(sk)}};
        ok = stage_ok("verify", koosign_verify_apig(&sent_req, cred, 1, koosign_freshness_unchecked(), NULL, NULL), why);
    }
    free(query);
    free(headers);
    free(sent);
    free(buf);
    return ok;
}

static bool s4_key(const cJSON *c, why_t why) {
    const char *seed = NULL, *k128 = NULL, *k256 = NULL;
    if (!field(c, "seed", &seed, why) || !field(c, "aes128_hex", &k128, why) || !field(c, "aes256_hex", &k256, why)) {
        return false;
    }
    uint8_t k[KOOSIGN_AES256_KEY_LEN];
    char h[2 * KOOSIGN_AES256_KEY_LEN + 1];
    size_t n = 0;
    if (!stage_ok("aes128", koosign_derive_key(seed, strlen(seed), KOOSIGN_AES128, k, sizeof k, &n), why)) {
        return false;
    }
    hex_of(k, n, h);
    if (!stage_eq("aes128", (const uint8_t *)h, 2 * n, k128, why) ||
        !stage_ok("aes256", koosign_derive_key(seed, strlen(seed), KOOSIGN_AES256, k, sizeof k, &n), why)) {
        return false;
    }
    hex_of(k, n, h);
    return stage_eq("aes256", (const uint8_t *)h, 2 * n, k256, why);
}

/* One invalid case's verification; `over` is NULL, or the prior request's
 * fields (for a replay), `cache` NULL or the replay's nonce cache. */
typedef koosign_status (*verify_fn)(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache);

static koosign_status v1_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    const char *query = or_empty(sfield(over, c, "query"));
    koosign_str keys[1] = {ks_str(or_empty(sfield(over, c, "access_key")))};
    koosign_freshness f;
    return koosign_verify_v1(query, strlen(query), keys, 1, fresh_of(c, &f), REPLAY_OF(cache), cache, NULL);
}

static koosign_status v1_json_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    const char *tok = or_empty(sfield(over, c, "auth_token")), *body = or_empty(sfield(over, c, "body"));
    koosign_str keys[1] = {ks_str(or_empty(sfield(over, c, "access_key")))};
    koosign_freshness f;
    return koosign_verify_v1_json(tok, strlen(tok), (const uint8_t *)body, strlen(body), keys, 1, fresh_of(c, &f), REPLAY_OF(cache), cache, NULL);
}

static koosign_status v2_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    const char *body = or_empty(sfield(over, c, "body")), *scheme = or_empty(sfield(over, c, "scheme"));
    koosign_str keys[1] = {ks_str(or_empty(sfield(over, c, "access_key")))};
    koosign_freshness f;
    const koosign_freshness *fr = fresh_of(c, &f);
    const char *query = sfield(over, c, "query");
    if (query != NULL) {
        return koosign_verify_v2_query(query, strlen(query), (const uint8_t *)body, strlen(body), keys, 1, fr, REPLAY_OF(cache), cache, NULL);
    }
    const char *sig = or_empty(sfield(over, c, "signature")), *ts = or_empty(sfield(over, c, "timestamp")),
               *nonce = or_empty(sfield(over, c, "nonce"));
    koosign_v2_scheme s = strcmp(scheme, "kit") == 0 ? KOOSIGN_V2_KIT : KOOSIGN_V2_BASIC;
    return koosign_verify_v2(s, sig, strlen(sig), ts, strlen(ts), nonce, strlen(nonce), (const uint8_t *)body,
                             strlen(body), keys, 1, fr, REPLAY_OF(cache), cache, NULL);
}

static koosign_status licence_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    (void)cache;
    const char *ts = or_empty(sfield(over, c, "ts")), *nonce = or_empty(sfield(over, c, "nonce")),
               *body = or_empty(sfield(over, c, "body")), *sig = or_empty(sfield(over, c, "signature"));
    koosign_str keys[1] = {ks_str(or_empty(sfield(over, c, "access_key")))};
    koosign_freshness f;
    return koosign_verify_licence(ts, strlen(ts), nonce, strlen(nonce), (const uint8_t *)body, strlen(body), sig,
                                  strlen(sig), keys, 1, fresh_of(c, &f), NULL);
}

static koosign_status body_sign_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    (void)cache;
    const char *value = or_empty(sfield(over, c, "value")), *body = or_empty(sfield(over, c, "body"));
    koosign_str keys[1] = {ks_str(or_empty(sfield(over, c, "access_key")))};
    return koosign_verify_body_sign(value, strlen(value), (const uint8_t *)body, strlen(body), keys, 1, NULL);
}

static koosign_status apig_verify(const cJSON *c, const cJSON *headers_json, const cJSON *creds_json,
                                  const koosign_freshness *fr, koosign_pair *extra) {
    const char *method = or_empty(sfield(NULL, c, "method")), *host = or_empty(sfield(NULL, c, "host")),
               *path = or_empty(sfield(NULL, c, "path")), *body = or_empty(sfield(NULL, c, "body"));
    size_t nq = 0, nh = 0, nc = 0;
    koosign_pair *query = pairs_of(cJSON_GetObjectItemCaseSensitive(c, "query"), &nq);
    koosign_pair *headers = pairs_of(headers_json, &nh);
    koosign_pair *creds = pairs_of(creds_json, &nc);
    if (extra != NULL) {
        headers[nh++] = *extra; /* pairs_of leaves one spare slot */
    }
    koosign_apig_request req = {ks_str(method), ks_str(host), ks_str(path), query, nq, headers, nh,
                                (const uint8_t *)body, strlen(body)};
    koosign_status st = koosign_verify_apig(&req, creds, nc, fr, NULL, NULL);
    free(query);
    free(headers);
    free(creds);
    return st;
}

static koosign_status apig_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    (void)over;
    (void)cache;
    koosign_freshness f;
    return apig_verify(c, cJSON_GetObjectItemCaseSensitive(c, "headers"),
                       cJSON_GetObjectItemCaseSensitive(c, "credentials"), fresh_of(c, &f), NULL);
}

static koosign_status aes_invalid(const cJSON *c, const cJSON *over, koosign_nonce_cache *cache) {
    (void)over;
    (void)cache;
    const char *wire = or_empty(sfield(NULL, c, "ciphertext")), *key = or_empty(sfield(NULL, c, "access_key"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "encrypt_type");
    koosign_encrypt_type ty = cJSON_IsNumber(t) && t->valuedouble == 2.0 ? KOOSIGN_AES128 : KOOSIGN_AES256;
    size_t wn = strlen(wire), n = 0;
    uint8_t *out = malloc(wn + 1);
    if (out == NULL) {
        abort();
    }
    koosign_status st = koosign_decrypt_field(wire, wn, key, strlen(key), ty, out, wn + 1, &n);
    free(out);
    return st;
}

/* An invalid case: a replay first verifies `prior` into a fresh nonce cache
 * (it must pass), then the case with the same cache. */
static bool invalid_case(const cJSON *c, verify_fn f, why_t why) {
    const char *want = NULL;
    if (!field(c, "expect_error", &want, why)) {
        return false;
    }
    const cJSON *prior = cJSON_GetObjectItemCaseSensitive(c, "prior");
    koosign_nonce_cache *cache = NULL;
    if (cJSON_IsObject(prior)) {
        koosign_status st = koosign_nonce_cache_new(64, &cache);
        if (st != KOOSIGN_OK) {
            return fail(why, "nonce cache: %s", name_of(st));
        }
        st = f(c, prior, cache);
        if (st != KOOSIGN_OK) {
            koosign_nonce_cache_free(cache);
            return fail(why, "the prior request was refused: %s", name_of(st));
        }
    }
    bool ok = expect_code("", f(c, NULL, cache), want, why);
    koosign_nonce_cache_free(cache);
    return ok;
}

static bool apig_canonical_query(const cJSON *c, why_t why) {
    const char *want = NULL;
    if (!field(c, "canonical_query", &want, why)) {
        return false;
    }
    size_t nq = 0;
    koosign_pair *query = pairs_of(cJSON_GetObjectItemCaseSensitive(c, "query"), &nq);
    koosign_pair date[1] = {{ks_str("X-Sdk-Date"), ks_str("20200101T000000Z")}};
    koosign_apig_request req = {ks_str("GET"), ks_str("example.com"), ks_str("/"), query, nq, date, 1, NULL, 0};
    uint8_t *buf = malloc(16 * 1024);
    if (buf == NULL) {
        abort();
    }
    koosign_apig_signed s;
    size_t used = 0;
    bool ok = stage_ok("sign", koosign_sign_apig(&req, "AccessKey", 9, "SecretKey", 9, NULL, buf, 16 * 1024, &used, &s), why) &&
              stage_eq("canonical_query", (const uint8_t *)s.canonical_query.data, s.canonical_query.len, want, why);
    free(buf);
    free(query);
    return ok;
}

static bool apig_host_unsigned(const cJSON *c, why_t why) {
    const char *ak = NULL, *sk = NULL, *sts = NULL, *sig = NULL, *auth = NULL, *want = NULL;
    if (!field(c, "ak", &ak, why) || !field(c, "sk", &sk, why) || !field(c, "string_to_sign", &sts, why) ||
        !field(c, "signature", &sig, why) || !field(c, "authorization", &auth, why) ||
        !field(c, "verify_error", &want, why)) {
        return false;
    }
    char mac[65];
    if (!mac_hex((const uint8_t *)sts, strlen(sts), sk, mac, why) ||
        !stage_eq("signature (HMAC of the string to sign)", (const uint8_t *)mac, 64, sig, why)) {
        return false;
    }
    cJSON *creds = cJSON_CreateArray();
    cJSON *pair = cJSON_CreateArray();
    if (creds == NULL || pair == NULL) {
        abort();
    }
    cJSON_AddItemToArray(pair, cJSON_CreateString(ak));
    cJSON_AddItemToArray(pair, cJSON_CreateString(sk));
    cJSON_AddItemToArray(creds, pair);
    koosign_pair authz = {ks_str("Authorization"), ks_str(auth)};
    koosign_status st = apig_verify(c, cJSON_GetObjectItemCaseSensitive(c, "headers"), creds, koosign_freshness_unchecked(), &authz);
    cJSON_Delete(creds);
    return expect_code("stage verify: ", st, want, why);
}

static bool hmac_sha256(const cJSON *c, why_t why) {
    const char *key = NULL, *data_hex = NULL, *want = NULL;
    if (!field(c, "key", &key, why) || !field(c, "data_hex", &data_hex, why) || !field(c, "mac_hex", &want, why)) {
        return false;
    }
    uint8_t *data = NULL;
    size_t n = 0;
    if (!unhex(data_hex, &data, &n)) {
        return fail(why, "bad data_hex");
    }
    char mac[65];
    bool ok = mac_hex(data, n, key, mac, why);
    free(data);
    size_t wn = strlen(want);
    return ok && stage_eq("mac", (const uint8_t *)mac, wn < 64 ? wn : 64, want, why);
}

static bool aes_cbc_raw(const cJSON *c, why_t why) {
    const char *kh = NULL, *ivh = NULL, *cth = NULL, *msg = NULL, *result = NULL;
    if (!field(c, "key_hex", &kh, why) || !field(c, "iv_hex", &ivh, why) || !field(c, "ct_hex", &cth, why) ||
        !field(c, "msg_hex", &msg, why) || !field(c, "result", &result, why)) {
        return false;
    }
    uint8_t *key = NULL, *iv = NULL, *ct = NULL;
    size_t kn = 0, ivn = 0, ctn = 0, n = 0;
    if (!unhex(kh, &key, &kn) || !unhex(ivh, &iv, &ivn) || !unhex(cth, &ct, &ctn)) {
        free(key);
        free(iv);
        return fail(why, "bad hex");
    }
    uint8_t *out = malloc(ctn + 1);
    if (out == NULL) {
        abort();
    }
    koosign_status st = koosign_decrypt_raw(key, kn, iv, ivn, ct, ctn, out, ctn + 1, &n);
    bool ok;
    if (strcmp(result, "valid") == 0) {
        char *h = malloc(2 * n + 1);
        if (h == NULL) {
            abort();
        }
        hex_of(out, n, h);
        ok = stage_ok("decrypt", st, why) && stage_eq("plaintext", (const uint8_t *)h, 2 * n, msg, why);
        free(h);
    } else {
        ok = expect_code("", st, "DECRYPT", why);
    }
    free(key);
    free(iv);
    free(ct);
    free(out);
    return ok;
}

/* ---- vectors/answers.jsonl: whole requests through koosign_merchant_verify */

/* A caller's replay store that is down (the case's store {"unavailable": true}). */
static int store_down(void *ctx, const uint8_t *key, size_t key_len, uint64_t now_ms, uint64_t expires_ms) {
    (void)ctx, (void)key, (void)key_len, (void)now_ms, (void)expires_ms;
    return KOOSIGN_STORE_DOWN;
}

/* The V2 notification fields koosign_verified_get reads (the Rust runner's
 * list): the expected `fields` must be exactly those present. */
static const char *const V2_FIELDS[] = {"activity",   "orderId",    "orderLineId", "businessId",   "testFlag",
                                        "instanceId", "scene",      "status",      "productId",    "expireTime",
                                        "trialFlag",  "customerId", "customerName", "chargingMode", "skuCode"};

/* One request of a case (the case itself, or one of its `prior` ones):
 * verifies it into `v` with `m` and `store`; the status. The request's
 * memory stays in *body / *hs / *scratch for the caller to free. */
static koosign_status answer_verify(const koosign_merchant *m, const cJSON *r, uint64_t now_ms,
                                    const koosign_nonce_store *store, koosign_verified *v, uint8_t **body,
                                    koosign_pair **hs, uint8_t **scratch) {
    const char *method = or_empty(sfield(NULL, r, "method")), *query = or_empty(sfield(NULL, r, "query"));
    size_t body_len = 0, n_hs = 0;
    *body = body_of(r, &body_len);
    *hs = pairs_of(cJSON_GetObjectItemCaseSensitive(r, "headers"), &n_hs);
    size_t need = koosign_merchant_scratch_len(query, strlen(query), *hs, n_hs, *body, body_len);
    *scratch = xmalloc(need);
    return koosign_merchant_verify(m, method, strlen(method), query, strlen(query), *hs, n_hs, *body, body_len, now_ms,
                                   KOOSIGN_REPLAY_STORE, store, *scratch, need, v);
}

/* Are the verified fields exactly the expected ones? */
static bool answer_fields(const koosign_verified *v, const cJSON *want, why_t why) {
    size_t n_want = (size_t)cJSON_GetArraySize(want), n_got = 0;
    size_t params = koosign_verified_param_count(v);
    for (size_t i = 0; i < params; i++) {
        const char *n, *val;
        size_t nl, vl;
        if (koosign_verified_param(v, i, &n, &nl, &val, &vl) != KOOSIGN_OK) {
            return fail(why, "param %zu unreadable", i);
        }
        if ((nl == 9 && memcmp(n, "authToken", 9) == 0) || (nl == 9 && memcmp(n, "timeStamp", 9) == 0)) {
            continue;
        }
        bool first = true; /* the first value of a repeated name counts */
        for (size_t j = 0; j < i; j++) {
            const char *n2, *v2;
            size_t nl2, vl2;
            if (koosign_verified_param(v, j, &n2, &nl2, &v2, &vl2) == KOOSIGN_OK && nl2 == nl && memcmp(n, n2, nl) == 0) {
                first = false;
            }
        }
        if (!first) {
            continue;
        }
        n_got++;
        char *name = xmalloc(nl + 1);
        memcpy(name, n, nl);
        name[nl] = '\0';
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, name);
        bool ok = cJSON_IsString(w) && strlen(w->valuestring) == vl && memcmp(w->valuestring, val, vl) == 0;
        if (!ok) {
            fail(why, "V1 field %s = \"%.*s\" not expected", name, (int)vl, val);
        }
        free(name);
        if (!ok) {
            return false;
        }
    }
    if (params == 0) {
        for (size_t i = 0; i < sizeof V2_FIELDS / sizeof V2_FIELDS[0]; i++) {
            const char *val;
            size_t vl;
            koosign_status st = koosign_verified_get(v, V2_FIELDS[i], strlen(V2_FIELDS[i]), &val, &vl);
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, V2_FIELDS[i]);
            if (st == KOOSIGN_MISSING_PARAMETER && w == NULL) {
                continue;
            }
            if (st != KOOSIGN_OK || !cJSON_IsString(w) || strlen(w->valuestring) != vl ||
                memcmp(w->valuestring, val, vl) != 0) {
                return fail(why, "V2 field %s: %s, expected %s", V2_FIELDS[i], name_of(st),
                            cJSON_IsString(w) ? w->valuestring : "(absent)");
            }
            n_got++;
        }
    }
    return n_got == n_want || fail(why, "%zu fields verified, %zu expected", n_got, n_want);
}

/* The refusal of `v` is signed over its exact bytes and carries `code`. */
static bool answer_refusal(const koosign_merchant *m, const koosign_verified *v, const char *key, const char *code,
                           why_t why) {
    uint8_t body[KOOSIGN_REFUSAL_MAX_LEN], sign[KOOSIGN_BODY_SIGN_VALUE_LEN];
    size_t bn = 0, sn = 0;
    koosign_status st = koosign_merchant_refusal(m, v, body, sizeof body, &bn, sign, sizeof sign, &sn);
    if (st != KOOSIGN_OK) {
        return fail(why, "refusal: %s", name_of(st));
    }
    char want[40];
    snprintf(want, sizeof want, "{\"resultCode\":\"%s\",", code);
    if (bn < strlen(want) || memcmp(body, want, strlen(want)) != 0) {
        return fail(why, "refusal body \"%.*s\" lacks %s", (int)bn, (const char *)body, want);
    }
    /* Body-Sign over the exact bytes: the independent HMAC of helpers.h. */
    char mac[65];
    uint8_t raw[32];
    if (hmac_hex(body, bn, key, mac) != KOOSIGN_OK) {
        return fail(why, "MAC failed");
    }
    /* sign = sign_type="HMAC-SHA256", signature="<44 b64>" */
    const size_t at = sizeof "sign_type=\"HMAC-SHA256\", signature=\"" - 1;
    char got[65];
    if (sn != KOOSIGN_BODY_SIGN_VALUE_LEN || b64_decode(sign + at, 44, raw, sizeof raw) != 32) {
        return fail(why, "Body-Sign \"%.*s\" malformed", (int)sn, (const char *)sign);
    }
    hex_of(raw, 32, got);
    return strcmp(got, mac) == 0 || fail(why, "Body-Sign does not cover the refusal's bytes");
}

static bool answer_case(const cJSON *c, why_t why) {
    const cJSON *keys_json = cJSON_GetObjectItemCaseSensitive(c, "access_keys");
    const cJSON *policy_json = cJSON_GetObjectItemCaseSensitive(c, "policy");
    const cJSON *store_json = cJSON_GetObjectItemCaseSensitive(c, "store");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    uint64_t now_ms = 0;
    if (!u64_of(c, "now_ms", &now_ms) || !cJSON_IsObject(expect)) {
        return fail(why, "case lacks now_ms or expect");
    }
    size_t n_keys = 0;
    const char *keys[8];
    size_t key_lens[8];
    const cJSON *k;
    cJSON_ArrayForEach(k, keys_json) {
        if (n_keys < 8 && cJSON_IsString(k)) {
            keys[n_keys] = k->valuestring;
            key_lens[n_keys++] = strlen(k->valuestring);
        }
    }
    koosign_policy policy = koosign_policy_default();
    if (!u64_of(policy_json, "v2_window_ms", &policy.v2_window_ms) ||
        !u64_of(policy_json, "v1_window_ms", &policy.v1_window_ms)) {
        return fail(why, "policy lacks a window");
    }
    const char *want_error = sfield(NULL, expect, "error"), *want_code = sfield(NULL, expect, "result_code");
    koosign_merchant *m = NULL;
    koosign_status st = koosign_merchant_new(keys, key_lens, n_keys, &policy, &m);
    if (st != KOOSIGN_OK) {
        /* No context (no key): the refusal is the merchant's own failure. */
        const char *code = koosign_result_code_text(koosign_result_code(st, 0));
        bool ok = want_error != NULL && expect_code("new: ", st, want_error, why) && want_code != NULL &&
                  (strcmp(code, want_code) == 0 || fail(why, "resultCode %s, expected %s", code, want_code));
        return ok;
    }
    koosign_nonce_cache *cache = NULL;
    koosign_nonce_store store = {NULL, store_down};
    uint64_t capacity = 0;
    if (u64_of(store_json, "capacity", &capacity)) {
        if (koosign_nonce_cache_new((size_t)capacity, &cache) != KOOSIGN_OK ||
            koosign_nonce_cache_store(cache, &store) != KOOSIGN_OK) {
            koosign_merchant_free(m);
            return fail(why, "nonce cache of %llu", (unsigned long long)capacity);
        }
    }
    koosign_verified *v = NULL;
    if (koosign_verified_new(&v) != KOOSIGN_OK) {
        abort();
    }
    bool ok = true;
    uint8_t *body = NULL, *scratch = NULL;
    koosign_pair *hs = NULL;
    const cJSON *prior;
    cJSON_ArrayForEach(prior, cJSON_GetObjectItemCaseSensitive(c, "prior")) {
        st = answer_verify(m, prior, now_ms, &store, v, &body, &hs, &scratch);
        free(body), free(hs), free(scratch);
        if (st != KOOSIGN_OK) {
            ok = fail(why, "prior request refused: %s", name_of(st));
            break;
        }
    }
    if (ok) {
        st = answer_verify(m, c, now_ms, &store, v, &body, &hs, &scratch);
        const char *code = koosign_result_code_text(koosign_verified_result_code(v));
        if (want_error != NULL) {
            ok = expect_code("verify: ", st, want_error, why) && want_code != NULL &&
                 (strcmp(code, want_code) == 0 || fail(why, "resultCode %s, expected %s", code, want_code)) &&
                 strcmp(koosign_result_code_text(koosign_result_code(st, koosign_verified_authenticated(v))), code) ==
                     0 &&
                 answer_refusal(m, v, keys[0], code, why);
        } else if (st != KOOSIGN_OK) {
            ok = fail(why, "refused: %s (resultCode %s)", name_of(st), code);
        } else {
            const char *p, *a;
            size_t pn, an;
            uint64_t want_index = 0;
            ok = koosign_verified_protocol(v, &p, &pn) == KOOSIGN_OK &&
                 koosign_verified_activity(v, &a, &an) == KOOSIGN_OK && u64_of(expect, "key_index", &want_index) &&
                 expect_eq("protocol", (const uint8_t *)p, pn, or_empty(sfield(NULL, expect, "protocol")), why) &&
                 expect_eq("activity", (const uint8_t *)a, an, or_empty(sfield(NULL, expect, "activity")), why) &&
                 (koosign_verified_key_index(v) == want_index ||
                  fail(why, "key index %zu, expected %llu", koosign_verified_key_index(v),
                       (unsigned long long)want_index)) &&
                 answer_fields(v, cJSON_GetObjectItemCaseSensitive(expect, "fields"), why);
        }
        /* The outcome refers to the request's memory: free it first. */
        koosign_verified_free(v);
        v = NULL;
        free(body), free(hs), free(scratch);
    }
    koosign_verified_free(v);
    koosign_nonce_cache_free(cache);
    koosign_merchant_free(m);
    return ok;
}

static bool check_new_kind(const char *kind, const cJSON *c, bool *known, why_t why) {
    *known = true;
    if (strcmp(kind, "v1_stages") == 0) return v1_stages(c, why);
    if (strcmp(kind, "v2_stages") == 0) return v2_stages(c, why);
    if (strcmp(kind, "apig_stages") == 0) return apig_stages(c, why);
    if (strcmp(kind, "s4_key") == 0) return s4_key(c, why);
    if (strcmp(kind, "v1_invalid") == 0) return invalid_case(c, v1_invalid, why);
    if (strcmp(kind, "v1_json_invalid") == 0) return invalid_case(c, v1_json_invalid, why);
    if (strcmp(kind, "v2_invalid") == 0) return invalid_case(c, v2_invalid, why);
    if (strcmp(kind, "licence_invalid") == 0) return invalid_case(c, licence_invalid, why);
    if (strcmp(kind, "body_sign_invalid") == 0) return invalid_case(c, body_sign_invalid, why);
    if (strcmp(kind, "apig_invalid") == 0) return invalid_case(c, apig_invalid, why);
    if (strcmp(kind, "aes_invalid") == 0) return invalid_case(c, aes_invalid, why);
    if (strcmp(kind, "apig_canonical_query") == 0) return apig_canonical_query(c, why);
    if (strcmp(kind, "apig_host_unsigned") == 0) return apig_host_unsigned(c, why);
    if (strcmp(kind, "hmac_sha256") == 0) return hmac_sha256(c, why);
    if (strcmp(kind, "aes_cbc_raw") == 0) return aes_cbc_raw(c, why);
    if (strcmp(kind, "answer") == 0) return answer_case(c, why);
    *known = false;
    return false;
}

static bool check_known_case(const char *kind, const cJSON *c, why_t why) {
    if (strcmp(kind, "v1_query") == 0) return v1_query(c, why);
    if (strcmp(kind, "body_sign") == 0) return body_sign_case(c, why);
    if (strcmp(kind, "aes_cbc") == 0) return aes_cbc(c, why);
    if (strcmp(kind, "v2_basic") == 0) return v2(c, KOOSIGN_V2_BASIC, why);
    if (strcmp(kind, "v2_kit") == 0) return v2(c, KOOSIGN_V2_KIT, why);
    if (strcmp(kind, "apig") == 0) return apig(c, why);
    if (strcmp(kind, "apig_url") == 0) return apig_url(c, why);
    if (strcmp(kind, "licence") == 0) return licence(c, why);
    bool known = false;
    bool ok = check_new_kind(kind, c, &known, why);
    return known ? ok : fail(why, "unknown kind `%s`", kind);
}

/* A failure starts with the case's `id` (invalid cases) or `source`
 * (published ones). */
static bool check_case(const char *kind, const cJSON *c, why_t why) {
    if (check_known_case(kind, c, why)) {
        return true;
    }
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(c, "id");
    if (!cJSON_IsString(label)) {
        label = cJSON_GetObjectItemCaseSensitive(c, "source");
    }
    if (cJSON_IsString(label)) {
        /* "<label>: <why>", cut to WHY_LEN - 1 bytes. */
        size_t ln = strlen(label->valuestring), wn = strlen(why);
        if (ln > WHY_LEN / 4) {
            ln = WHY_LEN / 4;
        }
        if (ln + 2 + wn > WHY_LEN - 1) {
            wn = WHY_LEN - 1 - ln - 2;
        }
        memmove(why + ln + 2, why, wn);
        memcpy(why, label->valuestring, ln);
        why[ln] = ':';
        why[ln + 1] = ' ';
        why[ln + 2 + wn] = '\0';
    }
    return false;
}

/* ---- tally and main ----------------------------------------------------- */

typedef struct {
    char *kind;
    size_t passed, failed;
} tally;

static tally *tallies;
static size_t n_tallies;

static tally *tally_of(const char *kind) {
    for (size_t i = 0; i < n_tallies; i++) {
        if (strcmp(tallies[i].kind, kind) == 0) {
            return &tallies[i];
        }
    }
    tally *t = realloc(tallies, (n_tallies + 1) * sizeof *tallies);
    if (t == NULL) {
        abort();
    }
    tallies = t;
    tallies[n_tallies] = (tally){dup(kind), 0, 0};
    return &tallies[n_tallies++];
}

static int by_kind(const void *a, const void *b) {
    return strcmp(((const tally *)a)->kind, ((const tally *)b)->kind);
}

/* Whole file into memory (NUL-terminated), or NULL. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        abort();
    }
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                abort();
            }
            buf = nb;
        }
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!isspace((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv) {
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        }
    }
    size_t passed = 0, failed = 0, files = 0;
    for (int a = 1; a < argc; a++) {
        const char *path = argv[a];
        if (strcmp(path, "--verbose") == 0) {
            continue;
        }
        files++;
        size_t len = 0;
        char *text = read_file(path, &len);
        if (text == NULL) {
            fprintf(stderr, "%s: cannot read\n", path);
            failed++;
            continue;
        }
        size_t lineno = 0;
        char *line = text;
        while (line < text + len) {
            char *nl = memchr(line, '\n', (size_t)(text + len - line));
            char *end = nl != NULL ? nl : text + len;
            lineno++;
            size_t n = (size_t)(end - line);
            if (n > 0 && line[n - 1] == '\r') {
                n--;
            }
            if (!blank(line, n)) {
                why_t why = "";
                const char *kind;
                bool ok;
                /* The whole line must be one JSON value (as serde_json):
                 * cJSON checks that a NUL follows it, so end the line with one
                 * (over its '\r' or '\n', or the file's final NUL). */
                line[n] = '\0';
                cJSON *c = cJSON_ParseWithLengthOpts(line, n + 1, NULL, true);
                if (c == NULL) {
                    kind = "<invalid json>";
                    ok = fail(why, "not JSON");
                } else {
                    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "kind");
                    kind = cJSON_IsString(k) ? k->valuestring : "<none>";
                    ok = check_case(kind, c, why);
                }
                tally *t = tally_of(kind);
                if (ok) {
                    t->passed++;
                    passed++;
                } else {
                    t->failed++;
                    failed++;
                    if (verbose || t->failed <= 5) {
                        fprintf(stderr, "FAIL %s:%zu [%s] %s\n", path, lineno, kind, why);
                    }
                }
                cJSON_Delete(c);
            }
            line = end + 1;
        }
        free(text);
    }
    if (files == 0) {
        fprintf(stderr, "usage: koosign-conformance [--verbose] FILE...\n");
        return 2;
    }
    qsort(tallies, n_tallies, sizeof *tallies, by_kind);
    for (size_t i = 0; i < n_tallies; i++) {
        printf("%s: %zu passed, %zu failed\n", tallies[i].kind, tallies[i].passed, tallies[i].failed);
        free(tallies[i].kind);
    }
    free(tallies);
    if (g_v1_ambiguous > 0) {
        printf("(v1_query: %zu of them ambiguous by SCHEMES.md S1 item 10, refused as KOOSIGN_AMBIGUOUS)\n",
               g_v1_ambiguous);
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
