/*
 * helpers.h — the test programs' shared helpers (tests/test_koosign.c,
 * tools/koosign-conformance.c, tests/redis_replay.c): hex and Base64
 * decoding, an HMAC-SHA256 in hex, and (when cJSON is included first) the
 * JSON readers of the vector runners. Header-only (static functions), so
 * each program stays one translation unit.
 */
#ifndef KOOSIGN_TEST_HELPERS_H
#define KOOSIGN_TEST_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "koosign.h"

#if defined(__GNUC__)
#define KS_UNUSED __attribute__((unused))
#else
#define KS_UNUSED
#endif

/* malloc that never returns NULL (the test programs stop on exhaustion). */
KS_UNUSED static void *xmalloc(size_t n) {
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        abort();
    }
    return p;
}

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
KS_UNUSED static void hex_of(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    }
    out[2 * n] = '\0';
}

/* Hex text to bytes (malloc'd, at least 1 byte); false on bad hex. */
KS_UNUSED static bool unhex(const char *h, uint8_t **out, size_t *n) {
    size_t len = strlen(h);
    if (len % 2 != 0) {
        return false;
    }
    uint8_t *b = xmalloc(len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[2 * i + (size_t)k];
            unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
            if (d == 16u) {
                free(b);
                return false;
            }
            v = v * 16 + d;
        }
        b[i] = (uint8_t)v;
    }
    *out = b;
    *n = len / 2;
    return true;
}

/* Standard Base64 (padding ignored, no other validation) into out (cap
 * bytes); the bytes written, or 0 on a character outside the alphabet. */
KS_UNUSED static size_t b64_decode(const uint8_t *s, size_t n, uint8_t *out, size_t cap) {
    uint32_t acc = 0;
    int bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        uint8_t c = s[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+'             ? 62
                : c == '/'             ? 63
                                       : -1;
        if (v < 0) {
            return 0;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (w < cap) {
                out[w++] = (uint8_t)(acc >> bits);
            }
        }
    }
    return w;
}

/* hex(HMAC-SHA256(key, msg)) through the core's MAC path
 * (koosign_body_signature = b64(HMAC(key, body))); the status on failure
 * (KOOSIGN_MALFORMED_ENCODING when the Base64 is not 32 bytes). */
KS_UNUSED static koosign_status hmac_hex(const uint8_t *msg, size_t n, const char *key, char out[65]) {
    uint8_t sig[KOOSIGN_BODY_SIGNATURE_LEN], raw[32];
    size_t sn = 0;
    koosign_status st = koosign_body_signature(msg, n, key, strlen(key), sig, sizeof sig, &sn);
    if (st != KOOSIGN_OK) {
        return st;
    }
    if (b64_decode(sig, sn, raw, sizeof raw) != 32) {
        return KOOSIGN_MALFORMED_ENCODING;
    }
    hex_of(raw, 32, out);
    return KOOSIGN_OK;
}

#ifdef cJSON__h
static koosign_str ks_str(const char *s) {
    koosign_str k = {s, strlen(s)};
    return k;
}

/* Pairs from a JSON array of [name, value] or an object; the strings are
 * borrowed from the cJSON tree. The array is malloc'd (one spare slot). */
KS_UNUSED static koosign_pair *pairs_of(const cJSON *v, size_t *n) {
    int count = cJSON_IsArray(v) || cJSON_IsObject(v) ? cJSON_GetArraySize(v) : 0;
    koosign_pair *p = calloc((size_t)count + 1, sizeof *p);
    if (p == NULL) {
        abort();
    }
    size_t i = 0;
    const cJSON *e;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(e, v) {
            const cJSON *pn = cJSON_GetArrayItem(e, 0), *pv = cJSON_GetArrayItem(e, 1);
            p[i].name = ks_str(cJSON_IsString(pn) ? pn->valuestring : "");
            p[i].value = ks_str(cJSON_IsString(pv) ? pv->valuestring : "");
            i++;
        }
    } else if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(e, v) {
            p[i].name = ks_str(e->string);
            p[i].value = ks_str(cJSON_IsString(e) ? e->valuestring : "");
            i++;
        }
    }
    *n = i;
    return p;
}

/* A non-negative integer member (JSON numbers up to 2^53 are exact). */
KS_UNUSED static bool u64_of(const cJSON *c, const char *name, uint64_t *out) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, name);
    if (!cJSON_IsNumber(f) || f->valuedouble < 0) {
        return false;
    }
    *out = (uint64_t)f->valuedouble;
    return true;
}

/* A request body from `body` (UTF-8 text), `body_b64` (Base64) or
 * `body_gen` ([[text, repeat], ...]); malloc'd, *n bytes (empty when none). */
KS_UNUSED static uint8_t *body_of(const cJSON *c, size_t *n) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "body");
    if (cJSON_IsString(b)) {
        *n = strlen(b->valuestring);
        uint8_t *out = xmalloc(*n);
        memcpy(out, b->valuestring, *n);
        return out;
    }
    b = cJSON_GetObjectItemCaseSensitive(c, "body_b64");
    if (cJSON_IsString(b)) {
        size_t len = strlen(b->valuestring);
        uint8_t *out = xmalloc(len);
        *n = b64_decode((const uint8_t *)b->valuestring, len, out, len);
        return out;
    }
    b = cJSON_GetObjectItemCaseSensitive(c, "body_gen");
    size_t total = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, b) {
        const cJSON *t = cJSON_GetArrayItem(part, 0), *r = cJSON_GetArrayItem(part, 1);
        if (cJSON_IsString(t) && cJSON_IsNumber(r)) {
            total += strlen(t->valuestring) * (size_t)r->valuedouble;
        }
    }
    uint8_t *out = xmalloc(total);
    size_t at = 0;
    cJSON_ArrayForEach(part, b) {
        const cJSON *t = cJSON_GetArrayItem(part, 0), *r = cJSON_GetArrayItem(part, 1);
        if (cJSON_IsString(t) && cJSON_IsNumber(r)) {
            size_t tl = strlen(t->valuestring);
            for (size_t k = 0; k < (size_t)r->valuedouble; k++) {
                memcpy(out + at, t->valuestring, tl);
                at += tl;
            }
        }
    }
    *n = at;
    return out;
}
#endif /* cJSON__h */

#endif /* KOOSIGN_TEST_HELPERS_H */
