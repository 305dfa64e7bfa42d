// KooRef: JDK reference implementation of the KooGallery notification schemes
// (docs/SCHEMES.md S1, S2, S2b, S3, S4, S5), used for live differential testing
// and to generate vectors/notifications.jsonl (scripts/gen-vectors.sh).
//
// It deliberately does what the marketplace's Java sample code does, with the
// JDK only: javax.crypto.Mac "HmacSHA256", SecureRandom "SHA1PRNG" seeded with
// the access key + KeyGenerator "AES", Cipher "AES/CBC/PKCS5Padding",
// java.net.URLEncoder / URLDecoder, java.util.Base64, TreeMap<String, ...>.
//
// Usage (Java 17 source launcher, no build step):
//   java reference/java/KooRef.java gen SEED COUNT [--kinds k1,k2,...]
//       prints COUNT cases of each kind as JSON Lines (same kinds and field
//       names as vectors/notifications.jsonl, plus kind "licence").
//       Deterministic for a given SEED. Every case is a positive one under
//       the rules of docs/SCHEMES.md: no ambiguous V1 name or value (S1
//       item 10), 13-digit timestamps without a leading zero (S2, S5), no
//       kit body not starting with '{' (S2b), no '&' in a licence nonce (S5).
//   java reference/java/KooRef.java check FILE...   ("-" = stdin)
//       recomputes every case of a known kind with the JDK, prints
//       "N passed, M failed" (and how many lines of unknown kinds were
//       skipped), exits 1 on any failure. It also knows the stage kinds
//       below and the published kinds hmac_sha256 and aes_cbc_raw.
//   java reference/java/KooRef.java stages SEED COUNT
//       prints COUNT per-stage goldens of each stage kind (vectors/stages.jsonl):
//       v1_stages (query -> canonical string -> authToken), v2_stages (body ->
//       inner hex -> canonical string -> signature, plus the S2b x-sign of the
//       same inputs), s4_key (seed -> AES-128 and AES-256 keys). The inputs
//       obey the SCHEMES.md decisions (no S1 ambiguity, 13-digit timestamps,
//       printable nonces, no S2b body starting with a digit), so every case
//       must also verify. Deterministic for a given SEED.
//   java reference/java/KooRef.java sign FILE     ("-" = stdin)
//       signs the request described by each line (what vectors/gen_invalid.py
//       then damages) and prints one JSON line per input line with the
//       reference's outputs; see sign() for the kinds.
//
// Test tooling only: the JSON writer/reader below are minimal on purpose.
//
// The source is pure ASCII (non-ASCII literals are written as backslash-u
// escapes): the source launcher decodes the file with the platform charset,
// so this keeps the generated cases identical under any locale (LANG=C too).
// Input and output are always UTF-8.

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public class KooRef {

    static final List<String> KINDS =
            List.of("v1_query", "body_sign", "aes_cbc", "v2_basic", "v2_kit", "licence");

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("gen")) {
            long seed = Long.parseLong(args[1]);
            int count = Integer.parseInt(args[2]);
            List<String> kinds = KINDS;
            for (int i = 3; i < args.length; i++) {
                if (args[i].equals("--kinds") && i + 1 < args.length) {
                    kinds = Arrays.asList(args[++i].split(","));
                    for (String k : kinds) {
                        if (!KINDS.contains(k)) {
                            System.err.println("unknown kind: " + k);
                            System.exit(2);
                        }
                    }
                } else {
                    usage();
                }
            }
            gen(seed, count, kinds);
        } else if (args.length >= 2 && args[0].equals("check")) {
            System.exit(check(Arrays.copyOfRange(args, 1, args.length)) ? 0 : 1);
        } else if (args.length == 3 && args[0].equals("stages")) {
            stages(Long.parseLong(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 2 && args[0].equals("sign")) {
            sign(args[1]);
        } else {
            usage();
        }
    }

    static void usage() {
        System.err.println("usage: java KooRef.java gen SEED COUNT [--kinds k1,k2]\n"
                + "       java KooRef.java check FILE...   (FILE may be - for stdin)\n"
                + "       java KooRef.java stages SEED COUNT\n"
                + "       java KooRef.java sign FILE       (FILE may be - for stdin)");
        System.exit(2);
    }

    // ------------------------------------------------------------------
    // The reference computations (what the marketplace's Java sample does)
    // ------------------------------------------------------------------

    static byte[] hmacSHA256(String macKey, String macData) throws Exception {
        SecretKeySpec secret = new SecretKeySpec(macKey.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(secret);
        return mac.doFinal(macData.getBytes(StandardCharsets.UTF_8));
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
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

    /** S1: canonical string from (already decoded) pairs, in wire order; authToken excluded. */
    static String v1Canonical(List<String[]> pairs) {
        // Servlet getParameterMap() + values[0]: the first occurrence of a name wins.
        TreeMap<String, String> sorted = new TreeMap<>();
        for (String[] p : pairs) {
            if (p[0].equals("authToken")) continue;
            sorted.putIfAbsent(p[0], p[1]);
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (sb.length() > 0) sb.append('&');
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /** S1: authToken = b64(HMAC(accessKey + timeStamp, canonical)). */
    static String v1Token(String accessKey, String timeStamp, String canonical) throws Exception {
        return b64(hmacSHA256(accessKey + timeStamp, canonical));
    }

    /** S3 / Body-Sign. */
    static String bodySign(String accessKey, String body) throws Exception {
        return b64(hmacSHA256(accessKey, body));
    }

    /** S2 (inner HMAC), outer hex in lower case. */
    static String v2Basic(String accessKey, String nonce, String timestamp, String body) throws Exception {
        String inner = hex(hmacSHA256(accessKey, body));
        return hex(hmacSHA256(accessKey, accessKey + nonce + timestamp + inner));
    }

    /** S2b (Kit, no inner HMAC), upper-case hex. */
    static String v2Kit(String accessKey, String nonce, String timestamp, String body) throws Exception {
        return hex(hmacSHA256(accessKey, accessKey + nonce + timestamp + body)).toUpperCase();
    }

    /** S5 licence ts/nonce/signature. */
    static String licence(String accessKey, String ts, String nonce, String body) throws Exception {
        return b64(hmacSHA256(accessKey, "ts=" + ts + "&nonce=" + nonce + "&body=" + body));
    }

    /** S4 key: KeyGenerator("AES") fed by SecureRandom("SHA1PRNG") seeded with the key bytes. */
    static SecretKey aesKey(String accessKey, int encryptType) throws Exception {
        KeyGenerator keyGenerator = KeyGenerator.getInstance("AES");
        SecureRandom secureRandom = SecureRandom.getInstance("SHA1PRNG");
        secureRandom.setSeed(accessKey.getBytes(StandardCharsets.UTF_8));
        keyGenerator.init(encryptType == 2 ? 128 : 256, secureRandom);
        return keyGenerator.generateKey();
    }

    static String aesEncrypt(SecretKey key, String iv, String plaintext) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
        cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv.getBytes(StandardCharsets.UTF_8)));
        return iv + b64(cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8)));
    }

    static String aesDecrypt(SecretKey key, String wire) throws Exception {
        String iv = wire.substring(0, 16);
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
        cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv.getBytes(StandardCharsets.UTF_8)));
        return new String(cipher.doFinal(Base64.getDecoder().decode(wire.substring(16))), StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------
    // gen
    // ------------------------------------------------------------------

    static void gen(long seed, int count, List<String> kinds) throws Exception {
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        for (String kind : KINDS) {
            if (!kinds.contains(kind)) continue;
            // One independent stream per kind: adding a kind never changes the others.
            Random r = new Random(seed * 1_000_003L + KINDS.indexOf(kind));
            for (int i = 0; i < count; i++) {
                Map<String, Object> c;
                switch (kind) {
                    case "v1_query": c = genV1(r); break;
                    case "body_sign": c = genBodySign(r); break;
                    case "aes_cbc": c = genAes(r); break;
                    case "v2_basic": c = genV2(r, false); break;
                    case "v2_kit": c = genV2(r, true); break;
                    case "licence": c = genLicence(r); break;
                    default: throw new IllegalStateException(kind);
                }
                out.write(toJson(c));
                out.write('\n');
            }
        }
        out.flush();
    }

    static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static final String HEXU = "0123456789ABCDEF";

    static String alnum(Random r, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(ALNUM.charAt(r.nextInt(ALNUM.length())));
        return sb.toString();
    }

    static String hexUpper(Random r, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(HEXU.charAt(r.nextInt(16)));
        return sb.toString();
    }

    static <T> T pick(Random r, T[] a) {
        return a[r.nextInt(a.length)];
    }

    static String uuid(Random r) {
        String h = hexUpper(r, 32).toLowerCase();
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                + h.substring(16, 20) + "-" + h.substring(20);
    }

    /** Fragments that break naive encoders, sorters and parsers. */
    static final String[] NASTY = {
        "+", "%", "%41", "%2B", "%%", "&", "=", "a=b", "a&b=c", "?", "#frag", "/", "x/y?z",
        " ", "  ", "a b", "a+b", "\n", "\r\n", "\t", "\u000b", "\u0001", "\u007f", "\\", "\"", "'\"<>",
        "~-._", "*", "!'()", ",;:@$", "[]{}|^`",
        "\u4E2D\u6587", "\u5BC6\u94A5", "\u540D\u79F0", "\u00DCn\u00EFc\u00F6d\u00E9", "\u00E9", "\u00DF", "\u00a0", "\u3000", "\u2028",
        "\uD83D\uDE00", "\uD834\uDD1E", "\uFFFD", "\uFF01", "\uE000", "\uD7FF", "\uFF71", "\u200b",
    };

    /** Mostly-nasty string of roughly up to maxChars chars. */
    static String nasty(Random r, int maxChars) {
        StringBuilder sb = new StringBuilder();
        int target = r.nextInt(maxChars + 1);
        while (sb.length() < target) {
            int m = r.nextInt(10);
            if (m < 4) sb.append(alnum(r, 1 + r.nextInt(8)));
            else if (m < 5) sb.append(uuid(r));
            else sb.append(pick(r, NASTY));
        }
        return sb.toString();
    }

    static final String[] CJK = {"\u5BC6", "\u94A5", "\u4E2D", "\u6587", "\u540D", "\u79F0", "\u6D4B", "\u8BD5", "\u8BA2", "\u5355", "\u952E", "\u503C"};

    static String accessKey(Random r) {
        String k;
        switch (r.nextInt(10)) {
            case 0: k = uuid(r); break;
            case 1: k = alnum(r, 1 + r.nextInt(100)); break;
            case 2: k = alnum(r, 8) + "\u5BC6\u94A5" + alnum(r, 4); break;
            case 3: k = alnum(r, 63 + r.nextInt(3)); break; // around the 64-byte HMAC block
            case 4: k = pick(r, new String[] {"a", "A", "0", "\u5BC6", "\uD83D\uDE00", " ", "+", "\u00E9"}); break;
            case 5: { // long non-ASCII: up to 300 UTF-8 bytes
                StringBuilder sb = new StringBuilder();
                int n = 1 + r.nextInt(100);
                while (sb.length() < n) sb.append(r.nextInt(3) == 0 ? alnum(r, 1) : pick(r, CJK));
                k = sb.toString();
                break;
            }
            case 6: { // printable ASCII incl. specials and spaces
                StringBuilder sb = new StringBuilder();
                int n = 1 + r.nextInt(100);
                for (int i = 0; i < n; i++) sb.append((char) (0x20 + r.nextInt(0x5f)));
                k = sb.toString();
                break;
            }
            case 7: k = nasty(r, 60); if (k.isEmpty()) k = "k"; break;
            default: k = alnum(r, 16 + r.nextInt(30)); break;
        }
        // 1..100 UTF-16 chars, never a lone surrogate
        if (k.length() > 100) {
            int cut = 100;
            if (Character.isHighSurrogate(k.charAt(cut - 1))) cut--;
            k = k.substring(0, cut);
        }
        return k;
    }

    static final DateTimeFormatter V1_TS =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS").withZone(ZoneOffset.UTC);

    static long randomMillis(Random r) {
        long lo = 1546300800000L;  // 2019-01-01
        long hi = 1830297600000L;  // 2028-01-01
        return lo + (long) (r.nextDouble() * (hi - lo));
    }

    static final String[] V1_ACTIVITIES = {
        "newInstance", "refreshInstance", "expireInstance", "releaseInstance", "upgrade",
        "instanceStatus", "getLicense", "releaseLicense",
    };

    static final String[] V1_NAMES = {
        "orderId", "orderLineId", "businessId", "customerId", "customerName", "expireTime",
        "productId", "testFlag", "trialToFormal", "instanceId", "saasExtendParams", "userId",
        "userName", "mobilePhone", "email", "chargingMode", "periodType", "periodNumber",
        "provisionType", "amount", "extendParams", "license", "status",
        // look-alikes of the special names: ordinary parameters, must be signed
        "OrderId", "orderid", "ORDERID", "AuthToken", "authtoken", "authToken ", "timestamp",
        "TimeStamp", "Activity", "activity ",
        "a", "A", "b", "B", "Z", "z", "_", "-", ".", "~", "0", "9", "\u4E2D\u6587", "\u540D\u79F0", "\u00DCn\u00EFc\u00F6d\u00E9",
        "a b", "a+b", "a%b", "a;b", "a,b", "k\n", "\uD83D\uDE00",
        // (no "a=b" / "a&b": a decoded name with '&' or '=' is refused as
        // ambiguous, docs/SCHEMES.md S1 item 10, so it is no positive case)
    };

    /** Names whose relative order differs between UTF-16 code units, code points and case. */
    static final String[] ORDER_PROBES = {
        "k\uD83D\uDE00", "k\uFFFD", "k\uE000", "k\uFF01", "k\uFF71", "k\uD7FF", "k\uD834\uDD1E", "k\u4E2D", "kZ", "kz", "k_", "k~",
        "K", "k", "kA", "ka", "k", "k ", "k+", "k%",
    };

    static Map<String, Object> genV1(Random r) throws Exception {
        String ak = accessKey(r);
        String ts = V1_TS.format(Instant.ofEpochMilli(randomMillis(r)));
        List<String[]> pairs = new ArrayList<>();
        pairs.add(new String[] {"activity", pick(r, V1_ACTIVITIES)});
        pairs.add(new String[] {"timeStamp", ts});
        int extra = r.nextInt(13);
        for (int i = 0; i < extra; i++) {
            String name;
            do {
                name = r.nextInt(3) == 0 ? alnum(r, 1 + r.nextInt(12)) : pick(r, V1_NAMES);
            } while (v1AmbiguousName(name));
            pairs.add(new String[] {name, v1Value(r)});
        }
        if (r.nextInt(10) < 4) { // ordering probes: UTF-16 order != code-point/byte order here
            pairs.add(new String[] {pick(r, new String[] {"k\uD83D\uDE00", "k\uD834\uDD1E"}), v1Value(r)});
            pairs.add(new String[] {pick(r, new String[] {"k\uFFFD", "k\uE000", "k\uFF01", "k\uFF71"}), v1Value(r)});
            int n = r.nextInt(4);
            for (int i = 0; i < n; i++) pairs.add(new String[] {pick(r, ORDER_PROBES), v1Value(r)});
        }
        // shuffle (Collections.shuffle(list, r) is deterministic too, but keep it explicit)
        for (int i = pairs.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            String[] t = pairs.get(i); pairs.set(i, pairs.get(j)); pairs.set(j, t);
        }
        if (r.nextInt(10) < 3) { // repeated names: a later duplicate with another value
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                String name = pairs.get(r.nextInt(pairs.size()))[0];
                if (name.equals("timeStamp")) continue;
                pairs.add(r.nextInt(pairs.size() + 1), new String[] {name, v1Value(r)});
            }
        }
        String canonical = v1Canonical(pairs);
        String token = v1Token(ak, ts, canonical);
        pairs.add(r.nextInt(pairs.size() + 1), new String[] {"authToken", token});

        StringBuilder q = new StringBuilder();
        for (String[] p : pairs) {
            if (q.length() > 0) q.append('&');
            q.append(URLEncoder.encode(p[0], StandardCharsets.UTF_8));
            // a bare name (no '=') means an empty value
            if (!(p[1].isEmpty() && r.nextInt(4) == 0)) {
                q.append('=').append(URLEncoder.encode(p[1], StandardCharsets.UTF_8));
            }
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "v1_query");
        c.put("access_key", ak);
        c.put("query", q.toString());
        c.put("canonical", canonical);
        c.put("auth_token", token);
        return c;
    }

    /**
     * docs/SCHEMES.md S1 item 10 (decision): a decoded name containing '&' or
     * '=' makes a request ambiguous (refused, so never a positive case).
     */
    static boolean v1AmbiguousName(String name) {
        return name.indexOf('&') >= 0 || name.indexOf('=') >= 0;
    }

    /** The value half of S1 item 10: '&', then characters free of '&' and '=', then '='. */
    static final java.util.regex.Pattern V1_AMBIGUOUS_VALUE = java.util.regex.Pattern.compile("&[^&=]*=");

    static boolean v1AmbiguousValue(String value) {
        return V1_AMBIGUOUS_VALUE.matcher(value).find();
    }

    /**
     * A random V1 value that is not ambiguous: '&', '=', '+', '%' and
     * non-ASCII text still occur ("a=b", "x&y", "=&", "a+b c&d \u5BA2"), only
     * the text "&name=" does not.
     */
    static String v1Value(Random r) {
        String v;
        do {
            switch (r.nextInt(8)) {
                case 0: v = ""; break;
                case 1: v = uuid(r); break;
                case 2: v = alnum(r, 1 + r.nextInt(30)); break;
                default: v = nasty(r, 40); break;
            }
        } while (v1AmbiguousValue(v));
        return v;
    }

    /** A JSON string literal for body text, with randomly chosen escaping styles. */
    static String jsonLit(Random r, String s) {
        boolean asciiOnly = r.nextInt(4) == 0;   // Jackson ESCAPE_NON_ASCII style
        boolean slash = r.nextInt(4) == 0;       // escape '/' as "\/"
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '/': sb.append(slash ? "\\/" : "/"); break;
                default:
                    if (c < 0x20 || (asciiOnly && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** JSON-looking body text from ordered fields, in a random layout. */
    static String jsonBody(Random r, List<String[]> fields) {
        int layout = r.nextInt(5);
        String nl = layout == 2 ? "\r\n" : "\n";
        String ind = layout == 3 ? "\t" : "  ";
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < fields.size(); i++) {
            String[] f = fields.get(i);
            String v = f[1] == null ? "null" : (f[1].startsWith("#raw:") ? f[1].substring(5) : jsonLit(r, f[1]));
            if (layout >= 2) sb.append(nl).append(ind);
            sb.append(jsonLit(r, f[0])).append(layout == 1 || layout >= 2 ? ": " : ":").append(v);
            if (i + 1 < fields.size()) sb.append(layout == 1 ? ", " : ",");
        }
        if (layout >= 2 && !fields.isEmpty()) sb.append(nl);
        sb.append('}');
        if (r.nextInt(6) == 0) sb.append(pick(r, new String[] {"\n", "\r\n", " ", "\n\n"}));
        if (r.nextInt(10) == 0) sb.insert(0, pick(r, new String[] {" ", "\n", "\uFEFF"}));
        return sb.toString();
    }

    static String fieldValue(Random r) {
        switch (r.nextInt(6)) {
            case 0: return uuid(r);
            case 1: return alnum(r, 1 + r.nextInt(20));
            case 2: return "";
            default: return nasty(r, 30);
        }
    }

    static String responseBody(Random r) {
        switch (r.nextInt(10)) {
            case 0: return "";
            case 1: return nasty(r, 120);                   // not JSON at all
            case 2: return pick(r, new String[] {" ", "\n", "{}", "[]", "null", "\r\n"});
            default: break;
        }
        List<String[]> f = new ArrayList<>();
        f.add(new String[] {"resultCode", pick(r, new String[] {"000000", "000001", "000002", "000004", "000100"})});
        f.add(new String[] {"resultMsg", r.nextBoolean() ? "success." : nasty(r, 30)});
        if (r.nextBoolean()) f.add(new String[] {"instanceId", fieldValue(r)});
        if (r.nextInt(3) == 0) {
            f.add(new String[] {"encryptType", pick(r, new String[] {"1", "2"})});
            List<String[]> app = new ArrayList<>();
            app.add(new String[] {"frontEndUrl", "https://" + alnum(r, 6).toLowerCase() + ".example.com/?a=b&c=" + nasty(r, 8)});
            app.add(new String[] {"adminUrl", "https://admin.example.com/" + alnum(r, 4)});
            app.add(new String[] {"userName", alnum(r, 16) + b64(alnum(r, 20).getBytes(StandardCharsets.UTF_8))});
            app.add(new String[] {"password", alnum(r, 16) + b64(alnum(r, 30).getBytes(StandardCharsets.UTF_8))});
            app.add(new String[] {"memo", nasty(r, 30)});
            f.add(new String[] {"appInfo", "#raw:" + jsonBody(r, app).trim()});
        }
        if (r.nextInt(5) == 0) f.add(new String[] {nasty(r, 10), nasty(r, 20)});
        return jsonBody(r, f);
    }

    static Map<String, Object> genBodySign(Random r) throws Exception {
        String ak = accessKey(r);
        String body = responseBody(r);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "body_sign");
        c.put("access_key", ak);
        c.put("body", body);
        c.put("signature", bodySign(ak, body));
        return c;
    }

    static int utf8Len(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    static Map<String, Object> genAes(Random r) throws Exception {
        String ak = accessKey(r);
        int type = r.nextBoolean() ? 1 : 2;
        String iv = alnum(r, 16);
        // plaintext of 0..79 UTF-8 bytes, so that iv + b64(ct) <= 128 chars
        int budget = r.nextInt(80);
        StringBuilder pt = new StringBuilder();
        int bytes = 0;
        int stuck = 0;
        while (bytes < budget && stuck < 5) {
            String piece;
            switch (r.nextInt(6)) {
                case 0: piece = alnum(r, 1 + r.nextInt(10)); break;
                case 1: piece = pick(r, CJK); break;
                case 2: piece = "1" + (3 + r.nextInt(7)) + alnum(r, 9).replaceAll("[^0-9]", "7"); break;
                default: piece = pick(r, NASTY); break;
            }
            int pl = utf8Len(piece);
            if (bytes + pl > budget) { stuck++; continue; }
            pt.append(piece);
            bytes += pl;
        }
        String plaintext = pt.toString();
        SecretKey key = aesKey(ak, type);
        String wire = aesEncrypt(key, iv, plaintext);
        if (wire.length() > 128) throw new IllegalStateException("wire too long: " + wire.length());
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "aes_cbc");
        c.put("access_key", ak);
        c.put("encrypt_type", type);
        c.put("derived_key_hex", hex(key.getEncoded()));
        c.put("iv", iv);
        c.put("plaintext", plaintext);
        c.put("ciphertext", wire);
        return c;
    }

    static final String[] SCENES = {"TRIAL_TO_FORMAL", "RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD", "RENEWAL_CHANGE"};

    static String requestBody(Random r) {
        switch (r.nextInt(12)) {
            case 0: return "";
            case 1: return nasty(r, 120);
            case 2: return pick(r, new String[] {" ", "\n", "{}", "{ }", "[]", "null", "\r\n", "{\"a\":1,\"a\":2}"});
            default: break;
        }
        List<String[]> f = new ArrayList<>();
        String act = pick(r, new String[] {"newInstance", "queryInstance", "refreshInstance",
            "updateInstanceStatus", "releaseInstance", "upgradeInstance"});
        f.add(new String[] {"activity", act});
        switch (act) {
            case "newInstance":
                f.add(new String[] {"businessId", fieldValue(r)});
                f.add(new String[] {"orderId", "CS" + alnum(r, 15).toUpperCase()});
                f.add(new String[] {"orderLineId", fieldValue(r)});
                break;
            case "queryInstance": {
                StringBuilder ids = new StringBuilder();
                int n = 1 + r.nextInt(5);
                for (int i = 0; i < n; i++) ids.append(i > 0 ? "," : "").append(uuid(r));
                f.add(new String[] {"instanceId", ids.toString()});
                break;
            }
            case "refreshInstance":
                f.add(new String[] {"scene", pick(r, SCENES)});
                f.add(new String[] {"orderId", fieldValue(r)});
                f.add(new String[] {"orderLineId", fieldValue(r)});
                f.add(new String[] {"instanceId", fieldValue(r)});
                f.add(new String[] {"productId", "00301-" + alnum(r, 6) + "-0--0"});
                f.add(new String[] {"expireTime", V1_TS.format(Instant.ofEpochMilli(randomMillis(r))).substring(0, 14)});
                break;
            case "updateInstanceStatus":
                f.add(new String[] {"instanceId", fieldValue(r)});
                f.add(new String[] {"status", pick(r, new String[] {"FREEZE", "UNFREEZE"})});
                break;
            default:
                f.add(new String[] {"instanceId", fieldValue(r)});
                f.add(new String[] {"orderId", fieldValue(r)});
                f.add(new String[] {"orderLineId", fieldValue(r)});
                break;
        }
        if (r.nextBoolean()) f.add(new String[] {"testFlag", pick(r, new String[] {"0", "1"})});
        if (r.nextInt(4) == 0) f.add(new String[] {nasty(r, 10), nasty(r, 30)});
        if (r.nextInt(6) == 0) f.add(new String[] {"extendParams", null});
        // The marketplace does not promise key order: shuffle sometimes.
        if (r.nextInt(3) == 0) {
            for (int i = f.size() - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                String[] t = f.get(i); f.set(i, f.get(j)); f.set(j, t);
            }
        }
        return jsonBody(r, f);
    }

    static String nonce(Random r) {
        return hexUpper(r, pick(r, new Integer[] {16, 32, 64}));
    }

    /** A Unix-millisecond timestamp: exactly 13 digits, no leading zero (docs/SCHEMES.md S2). */
    static String ts13(Random r) {
        String ts = Long.toString(randomMillis(r));
        if (ts.length() != 13 || ts.charAt(0) == '0') throw new IllegalStateException("timestamp " + ts);
        return ts;
    }

    /** S2b (decision): a kit body must start with '{' (and the nonce, hex here, holds none). */
    static boolean kitBodyOk(String body) {
        return body.startsWith("{");
    }

    static Map<String, Object> genV2(Random r, boolean kit) throws Exception {
        String ak = accessKey(r);
        String nonce = nonce(r);
        String ts = ts13(r);
        String body;
        do {
            body = requestBody(r);
        } while (kit && !kitBodyOk(body));
        String sig = kit ? v2Kit(ak, nonce, ts, body) : v2Basic(ak, nonce, ts, body);
        if (!kit && r.nextBoolean()) sig = sig.toUpperCase(); // SaaS: upper; licence: lower
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", kit ? "v2_kit" : "v2_basic");
        c.put("access_key", ak);
        c.put("nonce", nonce);
        c.put("timestamp", ts);
        c.put("body", body);
        c.put("signature", sig);
        return c;
    }

    static Map<String, Object> genLicence(Random r) throws Exception {
        String ak = accessKey(r);
        String ts = ts13(r);
        String nonce;
        switch (r.nextInt(4)) {
            case 0: nonce = alnum(r, 16 + r.nextInt(17)); break;
            case 1: nonce = uuid(r); break;
            default: nonce = nonce(r); break;
        }
        // S5 (decision): a nonce containing '&' is refused as ambiguous.
        if (nonce.indexOf('&') >= 0) throw new IllegalStateException("licence nonce with '&'");
        String body = requestBody(r);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "licence");
        c.put("access_key", ak);
        c.put("ts", ts);
        c.put("nonce", nonce);
        c.put("body", body);
        c.put("signature", licence(ak, ts, nonce, body));
        return c;
    }

    // ------------------------------------------------------------------
    // check
    // ------------------------------------------------------------------

    static boolean check(String[] files) throws Exception {
        int passed = 0, failed = 0, skipped = 0;
        Map<String, Integer> perKind = new TreeMap<>();
        Set<String> skippedKinds = new LinkedHashSet<>();
        for (String file : files) {
            BufferedReader in = file.equals("-")
                    ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                    : Files.newBufferedReader(Paths.get(file), StandardCharsets.UTF_8);
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                Map<String, Object> c;
                try {
                    c = asObject(new Json(line).parseTop());
                } catch (RuntimeException e) {
                    System.err.println(file + ":" + lineNo + ": bad JSON: " + e.getMessage());
                    failed++;
                    continue;
                }
                String kind = String.valueOf(c.get("kind"));
                if (!KINDS.contains(kind) && !CHECK_ONLY_KINDS.contains(kind)) {
                    skipped++;
                    skippedKinds.add(kind);
                    continue;
                }
                String err;
                try {
                    err = checkCase(kind, c);
                } catch (Exception e) {
                    err = "exception: " + e;
                }
                if (err == null) {
                    passed++;
                    perKind.merge(kind, 1, Integer::sum);
                } else {
                    failed++;
                    System.err.println(file + ":" + lineNo + ": " + kind + ": " + err);
                }
            }
            in.close();
        }
        System.out.println("per kind passed: " + perKind
                + (skipped > 0 ? "; skipped " + skipped + " line(s) of unknown kind " + skippedKinds : ""));
        System.out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        return failed == 0;
    }

    static String str(Map<String, Object> c, String k) {
        Object v = c.get(k);
        if (!(v instanceof String)) throw new IllegalArgumentException("field " + k + " missing or not a string");
        return (String) v;
    }

    static String mismatch(String what, String want, String got) {
        return what + " mismatch: file " + want + " / jdk " + got;
    }

    static String checkCase(String kind, Map<String, Object> c) throws Exception {
        if (CHECK_ONLY_KINDS.contains(kind)) return checkExtra(kind, c);
        String ak = str(c, "access_key");
        switch (kind) {
            case "v1_query": {
                // Parse the wire query the way the servlet container does.
                List<String[]> pairs = new ArrayList<>();
                String token = null, ts = null;
                for (String seg : str(c, "query").split("&", -1)) {
                    if (seg.isEmpty()) continue;
                    int eq = seg.indexOf('=');
                    String n = URLDecoder.decode(eq < 0 ? seg : seg.substring(0, eq), StandardCharsets.UTF_8);
                    String v = eq < 0 ? "" : URLDecoder.decode(seg.substring(eq + 1), StandardCharsets.UTF_8);
                    if (n.equals("authToken") && token == null) token = v;
                    if (n.equals("timeStamp") && ts == null) ts = v;
                    pairs.add(new String[] {n, v});
                }
                if (token == null || ts == null) return "query lacks authToken or timeStamp";
                String canonical = v1Canonical(pairs);
                if (!canonical.equals(str(c, "canonical"))) return mismatch("canonical", str(c, "canonical"), canonical);
                String want = str(c, "auth_token");
                if (!token.equals(want)) return mismatch("authToken in query vs auth_token", want, token);
                String got = v1Token(ak, ts, canonical);
                return got.equals(want) ? null : mismatch("auth_token", want, got);
            }
            case "body_sign": {
                String got = bodySign(ak, str(c, "body"));
                return got.equals(str(c, "signature")) ? null : mismatch("signature", str(c, "signature"), got);
            }
            case "aes_cbc": {
                Object t = c.get("encrypt_type");
                int type = t instanceof Number ? ((Number) t).intValue() : Integer.parseInt(String.valueOf(t));
                if (type != 1 && type != 2) return "bad encrypt_type " + t;
                SecretKey key = aesKey(ak, type);
                String kh = hex(key.getEncoded());
                if (!kh.equals(str(c, "derived_key_hex"))) return mismatch("derived_key_hex", str(c, "derived_key_hex"), kh);
                String wire = aesEncrypt(key, str(c, "iv"), str(c, "plaintext"));
                if (!wire.equals(str(c, "ciphertext"))) return mismatch("ciphertext", str(c, "ciphertext"), wire);
                String back = aesDecrypt(key, wire);
                return back.equals(str(c, "plaintext")) ? null : "decrypt round trip failed";
            }
            case "v2_basic": {
                String got = v2Basic(ak, str(c, "nonce"), str(c, "timestamp"), str(c, "body"));
                String want = str(c, "signature");
                return want.equals(got) || want.equals(got.toUpperCase()) ? null : mismatch("signature", want, got);
            }
            case "v2_kit": {
                String got = v2Kit(ak, str(c, "nonce"), str(c, "timestamp"), str(c, "body"));
                return got.equals(str(c, "signature")) ? null : mismatch("signature", str(c, "signature"), got);
            }
            case "licence": {
                String got = licence(ak, str(c, "ts"), str(c, "nonce"), str(c, "body"));
                return got.equals(str(c, "signature")) ? null : mismatch("signature", str(c, "signature"), got);
            }
            default:
                throw new IllegalStateException(kind);
        }
    }

    // ------------------------------------------------------------------
    // stages: per-stage goldens (vectors/stages.jsonl)
    // ------------------------------------------------------------------

    static final List<String> STAGE_KINDS = List.of("v1_stages", "v2_stages", "s4_key");
    static final List<String> CHECK_ONLY_KINDS =
            List.of("v1_stages", "v2_stages", "s4_key", "hmac_sha256", "aes_cbc_raw");

    /** SCHEMES.md S1.10: a decoded `&` followed by a run free of `&` and `=`, then `=`. */
    static boolean ambiguousValue(String v) {
        for (int i = v.indexOf('&'); i >= 0; i = v.indexOf('&', i + 1)) {
            for (int j = i + 1; j < v.length(); j++) {
                char c = v.charAt(j);
                if (c == '=') return true;
                if (c == '&') break;
            }
        }
        return false;
    }

    static boolean ambiguousPair(String n, String v) {
        return n.indexOf('&') >= 0 || n.indexOf('=') >= 0 || ambiguousValue(v);
    }

    static String wireQuery(List<String[]> pairs, Random r) {
        StringBuilder q = new StringBuilder();
        for (String[] p : pairs) {
            if (q.length() > 0) q.append('&');
            q.append(URLEncoder.encode(p[0], StandardCharsets.UTF_8));
            if (!(p[1].isEmpty() && r != null && r.nextInt(4) == 0)) {
                q.append('=').append(URLEncoder.encode(p[1], StandardCharsets.UTF_8));
            }
        }
        return q.toString();
    }

    static void stages(long seed, int count) throws Exception {
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        for (String kind : STAGE_KINDS) {
            Random r = new Random(seed * 1_000_033L + STAGE_KINDS.indexOf(kind));
            for (int i = 0; i < count; i++) {
                Map<String, Object> c;
                switch (kind) {
                    case "v1_stages": c = stageV1(r); break;
                    case "v2_stages": c = stageV2(r); break;
                    case "s4_key": c = stageS4(r); break;
                    default: throw new IllegalStateException(kind);
                }
                out.write(toJson(c));
                out.write('\n');
            }
        }
        out.flush();
    }

    static Map<String, Object> stageV1(Random r) throws Exception {
        String ak = accessKey(r);
        String ts = V1_TS.format(Instant.ofEpochMilli(randomMillis(r)));
        List<String[]> pairs = new ArrayList<>();
        pairs.add(new String[] {"activity", pick(r, V1_ACTIVITIES)});
        pairs.add(new String[] {"timeStamp", ts});
        int extra = r.nextInt(13);
        while (pairs.size() < extra + 2) {
            String name = r.nextInt(3) == 0 ? alnum(r, 1 + r.nextInt(12)) : pick(r, V1_NAMES);
            String value = v1Value(r);
            if (name.equals("authToken") || name.equals("timeStamp") || ambiguousPair(name, value)) continue;
            pairs.add(new String[] {name, value});
        }
        if (r.nextInt(10) < 4) { // ordering probes (UTF-16 order)
            pairs.add(new String[] {pick(r, ORDER_PROBES), "probe" + alnum(r, 3)});
            pairs.add(new String[] {pick(r, ORDER_PROBES), "a&b c+d \u5BA2\u6237"}); // `&` without `=`: valid
        }
        for (int i = pairs.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            String[] t = pairs.get(i); pairs.set(i, pairs.get(j)); pairs.set(j, t);
        }
        if (r.nextInt(10) < 3) { // a repeated name: the first occurrence wins
            String name = pairs.get(r.nextInt(pairs.size()))[0];
            if (!name.equals("timeStamp")) pairs.add(new String[] {name, "later-" + alnum(r, 4)});
        }
        String canonical = v1Canonical(pairs);
        String token = v1Token(ak, ts, canonical);
        pairs.add(r.nextInt(pairs.size() + 1), new String[] {"authToken", token});
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "v1_stages");
        c.put("access_key", ak);
        c.put("query", wireQuery(pairs, r));
        c.put("canonical", canonical);
        c.put("auth_token", token);
        return c;
    }

    static Map<String, Object> stageV2(Random r) throws Exception {
        String ak = accessKey(r);
        String nonce;
        switch (r.nextInt(4)) {
            case 0: nonce = alnum(r, 1 + r.nextInt(40)); break;
            case 1: nonce = uuid(r); break;
            default: nonce = nonce(r); break;
        }
        String ts = ts13(r);
        String body;
        do {
            body = requestBody(r);
        } while (!kitBodyOk(body)); // the case also carries the S2b x-sign, which must verify
        String inner = hex(hmacSHA256(ak, body));
        String canonical = ak + nonce + ts + inner;
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "v2_stages");
        c.put("access_key", ak);
        c.put("nonce", nonce);
        c.put("timestamp", ts);
        c.put("body", body);
        c.put("inner_hex", inner);
        c.put("canonical", canonical);
        c.put("signature", hex(hmacSHA256(ak, canonical)).toUpperCase());
        c.put("kit_signature", v2Kit(ak, nonce, ts, body));
        return c;
    }

    static Map<String, Object> stageS4(Random r) throws Exception {
        String seed = accessKey(r);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", "s4_key");
        c.put("seed", seed);
        c.put("aes128_hex", hex(aesKey(seed, 2).getEncoded()));
        c.put("aes256_hex", hex(aesKey(seed, 1).getEncoded()));
        return c;
    }

    static byte[] unhex(String h) {
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    /** check for the stage kinds and the published kinds the JDK can recompute. */
    static String checkExtra(String kind, Map<String, Object> c) throws Exception {
        switch (kind) {
            case "v1_stages": {
                Map<String, Object> q = new LinkedHashMap<>(c);
                q.put("kind", "v1_query");
                String e = checkCase("v1_query", q);
                if (e != null) return e;
                List<String[]> pairs = new ArrayList<>();
                for (String seg : str(c, "query").split("&", -1)) {
                    int eq = seg.indexOf('=');
                    String n = URLDecoder.decode(eq < 0 ? seg : seg.substring(0, eq), StandardCharsets.UTF_8);
                    String v = eq < 0 ? "" : URLDecoder.decode(seg.substring(eq + 1), StandardCharsets.UTF_8);
                    if (ambiguousPair(n, v)) return "stage input is ambiguous (S1.10): " + n;
                }
                return null;
            }
            case "v2_stages": {
                String ak = str(c, "access_key"), body = str(c, "body");
                String inner = hex(hmacSHA256(ak, body));
                if (!inner.equals(str(c, "inner_hex"))) return mismatch("inner_hex", str(c, "inner_hex"), inner);
                String canonical = ak + str(c, "nonce") + str(c, "timestamp") + inner;
                if (!canonical.equals(str(c, "canonical"))) return mismatch("canonical", str(c, "canonical"), canonical);
                String sig = hex(hmacSHA256(ak, canonical)).toUpperCase();
                if (!sig.equals(str(c, "signature"))) return mismatch("signature", str(c, "signature"), sig);
                String kit = v2Kit(ak, str(c, "nonce"), str(c, "timestamp"), body);
                return kit.equals(str(c, "kit_signature")) ? null : mismatch("kit_signature", str(c, "kit_signature"), kit);
            }
            case "s4_key": {
                String k128 = hex(aesKey(str(c, "seed"), 2).getEncoded());
                if (!k128.equals(str(c, "aes128_hex"))) return mismatch("aes128_hex", str(c, "aes128_hex"), k128);
                String k256 = hex(aesKey(str(c, "seed"), 1).getEncoded());
                return k256.equals(str(c, "aes256_hex")) ? null : mismatch("aes256_hex", str(c, "aes256_hex"), k256);
            }
            case "hmac_sha256": {
                SecretKeySpec secret = new SecretKeySpec(str(c, "key").getBytes(StandardCharsets.UTF_8), "HmacSHA256");
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(secret);
                String got = hex(mac.doFinal(unhex(str(c, "data_hex"))));
                String want = str(c, "mac_hex");
                return got.startsWith(want) ? null : mismatch("mac_hex", want, got);
            }
            case "aes_cbc_raw": {
                Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
                cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(unhex(str(c, "key_hex")), "AES"),
                        new IvParameterSpec(unhex(str(c, "iv_hex"))));
                boolean valid = str(c, "result").equals("valid");
                byte[] pt;
                try {
                    pt = cipher.doFinal(unhex(str(c, "ct_hex")));
                } catch (javax.crypto.BadPaddingException | javax.crypto.IllegalBlockSizeException e) {
                    return valid ? "valid case refused by the JDK: " + e : null;
                }
                if (!valid) return "invalid case decrypted by the JDK";
                return hex(pt).equals(str(c, "msg_hex")) ? null : mismatch("msg_hex", str(c, "msg_hex"), hex(pt));
            }
            default:
                throw new IllegalStateException(kind);
        }
    }

    // ------------------------------------------------------------------
    // sign: the reference's outputs for given inputs (vectors/gen_invalid.py)
    // ------------------------------------------------------------------

    /**
     * One JSON line in, one out. Input kinds and the fields added:
     *   v1_pairs  {access_key, pairs: [[name, value], ...] (decoded, wire order, timeStamp included)}
     *             -> canonical, auth_token, query (URLEncoder, `&authToken=` last)
     *   v2_basic / v2_kit  {access_key, nonce, timestamp, body} -> signature (upper-case hex)
     *   licence   {access_key, ts, nonce, body} -> signature
     *   body_sign {access_key, body} -> signature
     *   aes_cbc   {access_key, encrypt_type, iv, plaintext} -> derived_key_hex, ciphertext
     *   aes_decrypt {access_key, encrypt_type, ciphertext} -> jdk ("ok:" + plaintext, or "error:" + exception)
     * Every output line carries the input's `id`.
     */
    static void sign(String file) throws Exception {
        BufferedReader in = file.equals("-")
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Paths.get(file), StandardCharsets.UTF_8);
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            Map<String, Object> c = asObject(new Json(line).parseTop());
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", str(c, "id"));
            String kind = str(c, "kind");
            String ak = str(c, "access_key");
            switch (kind) {
                case "v1_pairs": {
                    List<String[]> pairs = new ArrayList<>();
                    String ts = null;
                    for (Object p : (List<?>) c.get("pairs")) {
                        List<?> l = (List<?>) p;
                        pairs.add(new String[] {(String) l.get(0), (String) l.get(1)});
                        if (l.get(0).equals("timeStamp") && ts == null) ts = (String) l.get(1);
                    }
                    String canonical = v1Canonical(pairs);
                    String token = v1Token(ak, ts == null ? "" : ts, canonical);
                    pairs.add(new String[] {"authToken", token});
                    o.put("canonical", canonical);
                    o.put("auth_token", token);
                    o.put("query", wireQuery(pairs, null));
                    break;
                }
                case "v2_basic":
                    o.put("signature", v2Basic(ak, str(c, "nonce"), str(c, "timestamp"), str(c, "body")).toUpperCase());
                    break;
                case "v2_kit":
                    o.put("signature", v2Kit(ak, str(c, "nonce"), str(c, "timestamp"), str(c, "body")));
                    break;
                case "licence":
                    o.put("signature", licence(ak, str(c, "ts"), str(c, "nonce"), str(c, "body")));
                    break;
                case "body_sign":
                    o.put("signature", bodySign(ak, str(c, "body")));
                    break;
                case "aes_cbc": {
                    int type = ((Number) c.get("encrypt_type")).intValue();
                    SecretKey key = aesKey(ak, type);
                    o.put("derived_key_hex", hex(key.getEncoded()));
                    o.put("ciphertext", aesEncrypt(key, str(c, "iv"), str(c, "plaintext")));
                    break;
                }
                case "aes_decrypt": {
                    int type = ((Number) c.get("encrypt_type")).intValue();
                    String res;
                    try {
                        res = "ok:" + aesDecrypt(aesKey(ak, type), str(c, "ciphertext"));
                    } catch (Exception e) {
                        res = "error:" + e.getClass().getSimpleName();
                    }
                    o.put("jdk", res);
                    break;
                }
                default:
                    throw new IllegalArgumentException("sign: unknown kind " + kind);
            }
            out.write(toJson(o));
            out.write('\n');
        }
        out.flush();
        in.close();
    }

    // ------------------------------------------------------------------
    // Minimal JSON
    // ------------------------------------------------------------------

    static String toJson(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!first) sb.append(',');
            first = false;
            jsonString(sb, e.getKey());
            sb.append(':');
            Object v = e.getValue();
            if (v instanceof String) jsonString(sb, (String) v);
            else sb.append(v);
        }
        return sb.append('}').toString();
    }

    /** Escapes '"', '\\' and control characters (as \\u00xx); everything else raw UTF-8. */
    static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') sb.append("\\\"");
            else if (c == '\\') sb.append("\\\\");
            else if (c < 0x20) {
                sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            } else {
                if (Character.isSurrogate(c)) {
                    boolean ok = Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1));
                    if (!ok) throw new IllegalStateException("lone surrogate in generated text");
                    sb.append(c).append(s.charAt(++i));
                    continue;
                }
                sb.append(c);
            }
        }
        sb.append('"');
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asObject(Object o) {
        if (!(o instanceof Map)) throw new IllegalArgumentException("line is not a JSON object");
        return (Map<String, Object>) o;
    }

    /** Small recursive-descent JSON parser (objects, arrays, strings, numbers, literals). */
    static final class Json {
        final String s;
        int i;

        Json(String s) { this.s = s; }

        Object parseTop() {
            Object v = value();
            ws();
            if (i != s.length()) throw err("trailing characters");
            return v;
        }

        RuntimeException err(String m) { return new IllegalArgumentException(m + " at " + i); }

        void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        Object value() {
            ws();
            if (i >= s.length()) throw err("unexpected end");
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    if (s.charAt(i) != '"') throw err("expected key");
                    String k = string();
                    ws();
                    if (s.charAt(i++) != ':') throw err("expected ':'");
                    m.put(k, value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == '}') return m;
                    if (d != ',') throw err("expected ',' or '}'");
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == ']') return l;
                    if (d != ',') throw err("expected ',' or ']'");
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int st = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            if (st == i) throw err("unexpected character");
            String num = s.substring(st, i);
            if (num.matches("-?\\d+")) return Long.parseLong(num);
            return Double.parseDouble(num);
        }

        String string() {
            i++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw err("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c != '\\') {
                    if (c < 0x20) throw err("raw control character in string");
                    sb.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: throw err("bad escape");
                }
            }
        }
    }
}
