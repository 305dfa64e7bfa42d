/*
 * redis_replay PORT — a replay store over Redis for koosign_merchant_verify
 * (a koosign_nonce_store the caller implements with hiredis), and the
 * proof that two merchants sharing one Redis refuse each other's replays.
 *
 *   redis_replay PORT first    verify the S2 vector once: KOOSIGN_OK
 *   redis_replay PORT again    the same request from another process: replayed
 *   redis_replay PORT pair     in one process, two handles on two connections
 *                              (fresh kit request on A, its replay on B)
 *   redis_replay PORT down     nothing listens on PORT: KOOSIGN_STORE_UNAVAILABLE,
 *                              answered 000005, never accepted unchecked
 *   redis_replay PORT recover  starts its own redis-server on PORT, accepts, has
 *                              it shut down (000005 meanwhile), starts it again:
 *                              the same store reconnects, no restart of the process
 *
 * scripts/test-c.sh starts a redis-server on 127.0.0.1 and runs the four.
 * Prints `N passed, M failed`; exit status 1 on any failure.
 *
 * The store is the part a merchant copies: SET <prefix><key> 1 NX PX <ttl>,
 * keyed on koosign's replay key (the V2 / kit nonce, or `v1:` + the V1
 * token), with a bounded command timeout; anything but "OK" or a nil reply
 * is KOOSIGN_STORE_DOWN (fail closed).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis.h>

#include "helpers.h"
#include "koosign.h"

/* ---- the store -------------------------------------------------------- */

typedef struct {
    redisContext *redis; /* one connection per thread (hiredis is not thread-safe) */
    const char *prefix;
    int port;
} redis_store;

static redisContext *connect_to(int port);

static int redis_check_and_insert(void *ctx, const uint8_t *key, size_t key_len, uint64_t now_ms,
                                  uint64_t expires_ms) {
    redis_store *s = ctx;
    if (s->redis == NULL || s->redis->err) {
        /* Redis went away: try once to come back, else fail closed. */
        if (s->redis != NULL) {
            redisFree(s->redis);
        }
        s->redis = connect_to(s->port);
        if (s->redis == NULL || s->redis->err) {
            return KOOSIGN_STORE_DOWN;
        }
    }
    unsigned long long ttl = expires_ms > now_ms ? (unsigned long long)(expires_ms - now_ms) : 1ULL;
    redisReply *r = redisCommand(s->redis, "SET %s%b 1 NX PX %llu", s->prefix, key, key_len, ttl);
    if (r == NULL) {
        return KOOSIGN_STORE_DOWN; /* connection lost or timed out: fail closed */
    }
    int answer = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0 ? KOOSIGN_STORE_FRESH
                 : r->type == REDIS_REPLY_NIL                               ? KOOSIGN_STORE_REPLAYED
                                                                            : KOOSIGN_STORE_DOWN;
    freeReplyObject(r);
    return answer;
}

static redisContext *connect_to(int port) {
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c != NULL && !c->err) {
        redisSetTimeout(c, tv); /* a bounded wait per command, then KOOSIGN_STORE_DOWN */
    }
    return c;
}

/* ---- the checks ------------------------------------------------------- */

static size_t g_passed, g_failed;

static void check(bool ok, const char *what) {
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

#define KEY "testAccessKey123"
#define V2_BODY                                                                                    \
    "{\"activity\":\"newInstance\",\"businessId\":\"87b94795-0603-4e24-8ae5-69420d60e3c8\","       \
    "\"orderId\":\"CS2211181819B4LVS\",\"orderLineId\":\"CS2211181819B4LVS-000001\","              \
    "\"testFlag\":\"1\"}"
#define V2_QUERY                                                                                   \
    "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25"                   \
    "&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
#define V2_TS_MS 1680508066618ULL

/* Verifies a request with `m` and the Redis store `s`; the status and the
 * resultCode of its outcome. */
static koosign_status verify(const koosign_merchant *m, redis_store *s, const char *query, const koosign_pair *hs,
                             size_t nh, const char *body, uint64_t now_ms, koosign_result *code) {
    koosign_nonce_store store = {s, redis_check_and_insert};
    koosign_verified *v = NULL;
    if (koosign_verified_new(&v) != KOOSIGN_OK) {
        abort();
    }
    size_t need = koosign_merchant_scratch_len(query, strlen(query), hs, nh, (const uint8_t *)body, strlen(body));
    uint8_t *scratch = xmalloc(need);
    koosign_status st =
        koosign_merchant_verify(m, "POST", 4, query, strlen(query), hs, nh, (const uint8_t *)body, strlen(body),
                                now_ms, KOOSIGN_REPLAY_STORE, &store, scratch, need, v);
    *code = koosign_verified_result_code(v);
    if (st != KOOSIGN_OK) {
        /* the signed refusal a handler sends */
        uint8_t out[KOOSIGN_REFUSAL_MAX_LEN], sign[KOOSIGN_BODY_SIGN_VALUE_LEN];
        size_t on = 0, sn = 0;
        check(koosign_merchant_refusal(m, v, out, sizeof out, &on, sign, sizeof sign, &sn) == KOOSIGN_OK &&
                  sn == KOOSIGN_BODY_SIGN_VALUE_LEN,
              "refusal signed");
    }
    koosign_verified_free(v);
    free(scratch);
    return st;
}

/* A fresh kit (S2b) request: headers into hs (3), nonce unique per call. */
static void kit_request(char nonce[64], uint8_t sig[KOOSIGN_V2_SIGNATURE_LEN], koosign_pair hs[3]) {
    static int n;
    struct timeval tv;
    size_t sn = 0;
    const char *ts = "1680508066618";
    gettimeofday(&tv, NULL);
    snprintf(nonce, 64, "kit-%lld-%lld-%d", (long long)tv.tv_sec, (long long)tv.tv_usec, n++);
    check(koosign_sign_v2(KOOSIGN_V2_KIT, (const uint8_t *)V2_BODY, strlen(V2_BODY), KEY, strlen(KEY), nonce,
                          strlen(nonce), ts, strlen(ts), sig, KOOSIGN_V2_SIGNATURE_LEN, &sn) == KOOSIGN_OK,
          "kit request signed");
    hs[0] = (koosign_pair){{"x-sign", 6}, {(const char *)sig, sn}};
    hs[1] = (koosign_pair){{"x-timestamp", 11}, {ts, strlen(ts)}};
    hs[2] = (koosign_pair){{"x-nonce", 7}, {nonce, strlen(nonce)}};
}

static bool run(const char *cmd) {
    return system(cmd) == 0;
}

static koosign_merchant *merchant(void) {
    const char *keys[] = {KEY};
    size_t lens[] = {sizeof KEY - 1};
    koosign_policy p = koosign_policy_default();
    koosign_merchant *m = NULL;
    if (koosign_merchant_new(keys, lens, 1, &p, &m) != KOOSIGN_OK) {
        abort();
    }
    return m;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: redis_replay PORT first|again|pair|down\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *mode = argv[2];
    const uint64_t now = V2_TS_MS + 2000;
    koosign_result code;
    koosign_merchant *m = merchant();
    if (strcmp(mode, "first") == 0 || strcmp(mode, "again") == 0) {
        redis_store s = {connect_to(port), "koosign:test:", port};
        check(s.redis != NULL && !s.redis->err, "connected to redis");
        koosign_status st = verify(m, &s, V2_QUERY, NULL, 0, V2_BODY, now, &code);
        if (strcmp(mode, "first") == 0) {
            check(st == KOOSIGN_OK && code == KOOSIGN_RESULT_SUCCESS, "first delivery accepted");
        } else {
            check(st == KOOSIGN_REPLAYED_NONCE && code == KOOSIGN_RESULT_UNAUTHENTICATED,
                  "replay from another process refused (000001)");
        }
        redisFree(s.redis);
    } else if (strcmp(mode, "pair") == 0) {
        /* Two endpoints: each its own handle and connection, one Redis. */
        koosign_merchant *m2 = merchant();
        redis_store a = {connect_to(port), "koosign:test:", port}, b = {connect_to(port), "koosign:test:", port};
        check(a.redis != NULL && !a.redis->err && b.redis != NULL && !b.redis->err, "two connections");
        char nonce[64], query[256];
        uint8_t sig[KOOSIGN_V2_SIGNATURE_LEN];
        size_t sn = 0;
        struct timeval tv;
        gettimeofday(&tv, NULL);
        snprintf(nonce, sizeof nonce, "pair-%lld-%lld", (long long)tv.tv_sec, (long long)tv.tv_usec);
        const char *ts = "1680508066618";
        check(koosign_sign_v2(KOOSIGN_V2_KIT, (const uint8_t *)V2_BODY, strlen(V2_BODY), KEY, strlen(KEY), nonce,
                              strlen(nonce), ts, strlen(ts), sig, sizeof sig, &sn) == KOOSIGN_OK,
              "kit request signed");
        koosign_pair hs[] = {{{"x-sign", 6}, {(const char *)sig, sn}},
                             {{"x-timestamp", 11}, {ts, strlen(ts)}},
                             {{"x-nonce", 7}, {nonce, strlen(nonce)}}};
        query[0] = '\0';
        check(verify(m, &a, query, hs, 3, V2_BODY, now, &code) == KOOSIGN_OK, "kit request accepted by A");
        check(verify(m2, &b, query, hs, 3, V2_BODY, now, &code) == KOOSIGN_REPLAYED_NONCE &&
                  code == KOOSIGN_RESULT_UNAUTHENTICATED,
              "its replay refused by B");
        check(verify(m, &a, query, hs, 3, V2_BODY, now, &code) == KOOSIGN_REPLAYED_NONCE, "and by A");
        redisFree(a.redis);
        redisFree(b.redis);
        koosign_merchant_free(m2);
    } else if (strcmp(mode, "recover") == 0) {
        char up[256], stop[128], nonce[64];
        uint8_t sig[KOOSIGN_V2_SIGNATURE_LEN];
        koosign_pair hs[3];
        snprintf(up, sizeof up,
                 "redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null && "
                 "for i in $(seq 50); do redis-cli -p %d ping 2>/dev/null | grep -q PONG && exit 0; sleep 0.1; done; "
                 "exit 1",
                 port, port);
        snprintf(stop, sizeof stop, "redis-cli -p %d shutdown nosave >/dev/null 2>&1; sleep 0.2", port);
        check(run(up), "redis-server started");
        redis_store s = {connect_to(port), "koosign:test:", port};
        kit_request(nonce, sig, hs);
        check(verify(m, &s, "", hs, 3, V2_BODY, now, &code) == KOOSIGN_OK, "accepted while Redis is up");
        run(stop);
        kit_request(nonce, sig, hs);
        check(verify(m, &s, "", hs, 3, V2_BODY, now, &code) == KOOSIGN_STORE_UNAVAILABLE &&
                  code == KOOSIGN_RESULT_MERCHANT_FAILURE,
              "Redis gone: 000005, not accepted");
        check(run(up), "redis-server started again");
        check(verify(m, &s, "", hs, 3, V2_BODY, now, &code) == KOOSIGN_OK, "the same request accepted once Redis is back");
        check(verify(m, &s, "", hs, 3, V2_BODY, now, &code) == KOOSIGN_REPLAYED_NONCE, "and then a replay");
        run(stop);
        redisFree(s.redis);
    } else if (strcmp(mode, "down") == 0) {
        redis_store s = {connect_to(port), "koosign:test:", port};
        check(s.redis == NULL || s.redis->err, "nothing listens");
        koosign_status st = verify(m, &s, V2_QUERY, NULL, 0, V2_BODY, now, &code);
        check(st == KOOSIGN_STORE_UNAVAILABLE && code == KOOSIGN_RESULT_MERCHANT_FAILURE,
              "store down: KOOSIGN_STORE_UNAVAILABLE, 000005");
        redisFree(s.redis);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    koosign_merchant_free(m);
    printf("%zu passed, %zu failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
