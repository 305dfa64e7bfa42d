// A C++ translation unit that includes koosign.h (g++ -std=c++11 -Wall
// -Wextra -Werror -Wundef -pedantic) and calls it through C++ types: the
// header must be usable from C++ as it is.
#include "koosign.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static_assert(sizeof(koosign_status) == 4, "koosign_status is a uint32_t");
static_assert(KOOSIGN_BODY_SIGN_VALUE_LEN == 81, "Body-Sign value length");

namespace {

std::string body_sign(const std::string &body, const std::string &key) {
    std::vector<uint8_t> out(KOOSIGN_BODY_SIGN_VALUE_LEN);
    size_t n = 0;
    koosign_status st = koosign_body_sign(reinterpret_cast<const uint8_t *>(body.data()), body.size(), key.data(),
                                          key.size(), out.data(), out.size(), &n);
    if (st != KOOSIGN_OK) {
        return std::string("error: ") + koosign_status_message(st);
    }
    return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace

int main() {
    int passed = 0, failed = 0;
    const std::string header = body_sign("{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}", "testAccessKey123");
    (header == "sign_type=\"HMAC-SHA256\", signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\"" ? passed
                                                                                                        : failed)++;
    koosign_str key = {"testAccessKey123", 16};
    koosign_status st = koosign_verify_body_sign(header.data(), header.size(),
                                                 reinterpret_cast<const uint8_t *>("{}"), 2, &key, 1, nullptr);
    (st == KOOSIGN_SIGNATURE_MISMATCH ? passed : failed)++;
    koosign_nonce_cache *cache = nullptr;
    (koosign_nonce_cache_new(64, &cache) == KOOSIGN_OK && cache != nullptr ? passed : failed)++;
    koosign_nonce_cache_free(cache);
    (std::strcmp(koosign_status_name(KOOSIGN_PANIC), "KOOSIGN_PANIC") == 0 ? passed : failed)++;
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
