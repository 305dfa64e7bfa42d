// KooBench: the JDK peer of koosign's benchmarks (issue 8).
//
// Times what the KooGallery marketplace's Java sample code does, with the
// JDK only (the same calls as reference/java/KooRef.java): parse the V1
// query with URLDecoder into a TreeMap, HMAC with javax.crypto.Mac
// "HmacSHA256" (Mac.getInstance + init per call, as the sample does),
// java.util.Base64, hex by hand; field encryption with Cipher
// "AES/CBC/PKCS5Padding" and the key from KeyGenerator("AES") fed by
// SecureRandom("SHA1PRNG") seeded with the access key.
//
// Same inputs as the Rust benches (benches/src/lib.rs): the documented S1
// notification, the documented S2 newInstance body, a 200-byte response,
// an 11-digit phone number. Each result is checked against the SCHEMES.md
// vectors before anything is timed.
//
// Usage (Java 17 source launcher, no build step):
//   java benches/java/KooBench.java [--quick] [--seconds WARM MEASURE]
// Prints one JSON object per line: {"peer":"jdk","op":...,"ns_per_op":...}.
// Timing: each op is warmed up (JIT) for at least 3 s and 200,000 calls
// (0.2 s and 2,000 calls with --quick: with both cores busy the JIT's own
// threads are slow to finish), then timed in batches of about 0.5 ms for
// 3 s (0.1 s); the median batch is reported, as the Rust `ratios` bench
// and the OpenSSL peer do.

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public class KooBench {
    static final String KEY = "testAccessKey123";
    static final String[][] V1_PARAMS = {
        {"activity", "newInstance"},
        {"businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"},
        {"customerId", "68cbc86abc2018ab880d92f36422fa0e"},
        {"expireTime", "20200727153156"},
        {"orderId", "CS1906666666ABCDE"},
        {"productId", "00301-666666-0--0"},
        {"testFlag", "1"},
        {"timeStamp", "20200727073711903"},
    };
    static final String V1_TOKEN = "IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY=";
    static final String V2_BODY = "{\"activity\":\"newInstance\",\"businessId\":\"87b94795-0603-4e24-8ae5-69420d60e3c8\",\"orderId\":\"CS2211181819B4LVS\",\"orderLineId\":\"CS2211181819B4LVS-000001\",\"testFlag\":\"1\"}";
    static final String V2_NONCE = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
    static final String V2_TIMESTAMP = "1680508066618";
    static final String V2_SIGNATURE = "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25";
    static final String PHONE = "13812345678";
    static final String IV = "abcdefgh12345678";

    static volatile Object sink;

    // ---------------------------------------------------------------- the sample's calls

    static byte[] hmacSHA256(String macKey, String macData) throws Exception {
        SecretKeySpec secret = new SecretKeySpec(macKey.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(secret);
        return mac.doFinal(macData.getBytes(StandardCharsets.UTF_8));
    }

    static final char[] HEX = "0123456789abcdef".toCharArray();

    static String hex(byte[] b) {
        char[] out = new char[b.length * 2];
        for (int i = 0; i < b.length; i++) {
            out[2 * i] = HEX[(b[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[b[i] & 0xf];
        }
        return new String(out);
    }

    /** S1 verify: the servlet's parameter map (first value wins), TreeMap, HMAC(key + timeStamp), Base64, compare. */
    static boolean v1Verify(String query, String accessKey) throws Exception {
        Map<String, String> params = new TreeMap<>();
        String token = null;
        for (String seg : query.split("&")) {
            if (seg.isEmpty()) continue;
            int i = seg.indexOf('=');
            String n = URLDecoder.decode(i < 0 ? seg : seg.substring(0, i), StandardCharsets.UTF_8);
            String v = i < 0 ? "" : URLDecoder.decode(seg.substring(i + 1), StandardCharsets.UTF_8);
            if (n.equals("authToken")) {
                if (token == null) token = v;
                continue;
            }
            params.putIfAbsent(n, v);
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (sb.length() > 0) sb.append('&');
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        String expected = Base64.getEncoder().encodeToString(hmacSHA256(accessKey + params.get("timeStamp"), sb.toString()));
        return token != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    /** S2 verify: inner hex HMAC over the body, outer over key + nonce + timestamp + inner, compare ignoring case. */
    static boolean v2Verify(String signature, String timestamp, String nonce, String body, String accessKey) throws Exception {
        String inner = hex(hmacSHA256(accessKey, body));
        String expected = hex(hmacSHA256(accessKey, accessKey + nonce + timestamp + inner));
        return expected.equalsIgnoreCase(signature);
    }

    /** S3 Body-Sign header value. */
    static String bodySign(String body, String accessKey) throws Exception {
        return "sign_type=\"HMAC-SHA256\", signature=\"" + Base64.getEncoder().encodeToString(hmacSHA256(accessKey, body)) + "\"";
    }

    /** S4 key derivation, as the sample does it (per call). */
    static SecretKey aesKey(String accessKey, int bits) throws Exception {
        KeyGenerator keyGenerator = KeyGenerator.getInstance("AES");
        SecureRandom secureRandom = SecureRandom.getInstance("SHA1PRNG");
        secureRandom.setSeed(accessKey.getBytes(StandardCharsets.UTF_8));
        keyGenerator.init(bits, secureRandom);
        return keyGenerator.generateKey();
    }

    static String aesEncrypt(SecretKey key, String iv, String plaintext) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
        cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv.getBytes(StandardCharsets.UTF_8)));
        return iv + Base64.getEncoder().encodeToString(cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8)));
    }

    static String aesDecrypt(SecretKey key, String wire) throws Exception {
        String iv = wire.substring(0, 16);
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
        cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv.getBytes(StandardCharsets.UTF_8)));
        return new String(cipher.doFinal(Base64.getDecoder().decode(wire.substring(16))), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- fixtures

    static String v1Query() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String[] p : V1_PARAMS) {
            sb.append(URLEncoder.encode(p[0], StandardCharsets.UTF_8)).append('=')
              .append(URLEncoder.encode(p[1], StandardCharsets.UTF_8)).append('&');
        }
        return sb.append("authToken=").append(URLEncoder.encode(V1_TOKEN, StandardCharsets.UTF_8)).toString();
    }

    static String bodyOfLen(int len) {
        String head = "{\"resultCode\":\"000000\",\"resultMsg\":\"";
        String tail = "\"}";
        StringBuilder sb = new StringBuilder(head);
        String fill = "success. ";
        for (int i = 0; i < len - head.length() - tail.length(); i++) sb.append(fill.charAt(i % 9));
        return sb.append(tail).toString();
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("KooBench: self-check failed: " + what);
            System.exit(1);
        }
    }

    // ---------------------------------------------------------------- timing

    static double warmSeconds = 3.0, measureSeconds = 3.0;
    static long warmCalls = 200_000;

    static void time(String op, Callable<Object> f) throws Exception {
        long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
        long calls = 0;
        while (System.nanoTime() < warmEnd || calls < warmCalls) {
            for (int i = 0; i < 100; i++) sink = f.call();
            calls += 100;
        }
        // Calls per batch of about 0.5 ms, from the call rate over 50 ms.
        long c = 0, c0 = System.nanoTime(), e;
        do {
            sink = f.call();
            c++;
            e = System.nanoTime() - c0;
        } while (e < 50_000_000L);
        long n = Math.max(1, (long) (500_000.0 * c / e));
        double[] per = new double[1 << 16];
        int k = 0;
        long end = System.nanoTime() + (long) (measureSeconds * 1e9);
        while ((System.nanoTime() < end || k < 5) && k < per.length) {
            long t0 = System.nanoTime();
            for (long i = 0; i < n; i++) sink = f.call();
            per[k++] = (double) (System.nanoTime() - t0) / n;
        }
        double[] s = Arrays.copyOf(per, k);
        Arrays.sort(s);
        System.out.printf("{\"peer\":\"jdk\",\"op\":\"%s\",\"ns_per_op\":%.2f,\"min\":%.2f,\"p75\":%.2f,\"batches\":%d}%n",
                op, s[k / 2], s[0], s[(3 * k) / 4], k);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--quick")) {
            warmSeconds = 0.2;
            warmCalls = 2_000;
            measureSeconds = 0.1;
        }
        // --seconds WARM MEASURE: the full run's budget (scripts/bench.sh).
        for (int i = 0; i + 2 < args.length; i++) {
            if (args[i].equals("--seconds")) {
                warmSeconds = Double.parseDouble(args[i + 1]);
                measureSeconds = Double.parseDouble(args[i + 2]);
            }
        }
        final String query = v1Query();
        final String resp = bodyOfLen(200);
        check(resp.length() == 200, "200-byte body");
        check(v1Verify(query, KEY), "S1 documented token");
        check(v2Verify(V2_SIGNATURE, V2_TIMESTAMP, V2_NONCE, V2_BODY, KEY), "S2 documented signature");
        check(bodySign("{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}", KEY)
                .endsWith("signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\""), "S3 documented signature");
        check(aesEncrypt(aesKey(KEY, 256), IV, "admin").equals("abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="), "S4 AES-256 vector");
        check(aesEncrypt(aesKey(KEY, 128), IV, "admin").equals("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA=="), "S4 AES-128 vector");

        time("v1_verify", () -> v1Verify(query, KEY));
        time("v2_verify", () -> v2Verify(V2_SIGNATURE, V2_TIMESTAMP, V2_NONCE, V2_BODY, KEY));
        time("body_sign_200B", () -> bodySign(resp, KEY));
        for (int bits : new int[] {128, 256}) {
            final SecretKey key = aesKey(KEY, bits);
            final String wire = aesEncrypt(key, IV, PHONE);
            check(aesDecrypt(key, wire).equals(PHONE), "S4 round trip");
            time("field_encrypt_aes" + bits + "/uncached", () -> aesEncrypt(aesKey(KEY, bits), IV, PHONE));
            time("field_encrypt_aes" + bits + "/cached", () -> aesEncrypt(key, IV, PHONE));
            time("field_decrypt_aes" + bits + "/uncached", () -> aesDecrypt(aesKey(KEY, bits), wire));
            time("field_decrypt_aes" + bits + "/cached", () -> aesDecrypt(key, wire));
        }
        time("derive_key/aes256", () -> aesKey(KEY, 256));
    }
}
