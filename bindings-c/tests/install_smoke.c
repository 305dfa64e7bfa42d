/* Built by scripts/test-c.sh against an installed libkoosign found through
 * pkg-config (once dynamically, once statically): the install is usable. */
#include <koosign.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    static const char body[] = "{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}";
    static const char want[] = "sign_type=\"HMAC-SHA256\", signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\"";
    uint8_t out[KOOSIGN_BODY_SIGN_VALUE_LEN];
    size_t n = 0;
    koosign_status st = koosign_body_sign((const uint8_t *)body, sizeof body - 1, "testAccessKey123", 16, out,
                                          sizeof out, &n);
    int ok = st == KOOSIGN_OK && n == sizeof want - 1 && memcmp(out, want, n) == 0;
    printf("libkoosign %s\n%d passed, %d failed\n", koosign_version(), ok, !ok);
    return ok ? 0 : 1;
}
