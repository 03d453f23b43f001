/*
 * reel's CRC-32C (Castagnoli) as a Node-API module: the checksum of a Kafka RecordBatch v2.
 *
 * CRC-32C: reflected polynomial 0x82F63B78, initial value 0xFFFFFFFF, final xor 0xFFFFFFFF;
 * crc32c("123456789") = 0xE3069283 (RFC 3720, appendix B.4).
 *
 * On x86-64 with SSE 4.2 the CRC32 instruction does 8 bytes per call with a latency of about three
 * cycles but a throughput of one per cycle, so one dependent chain uses a third of it. This module
 * runs three chains over three adjacent blocks at once and joins their results with the CRC's
 * linearity: for blocks A, B, C,
 *
 *   reg(A B C) = reg(A) * x^(8(|B|+|C|)) ^ reg0(B) * x^(8|C|) ^ reg0(C)     (mod P)
 *
 * where reg0 starts from a zero register. The multiplications by the fixed powers of x take one
 * carry-less multiplication (PCLMULQDQ) and one CRC32 instruction each where the CPU has
 * PCLMULQDQ, 32 shift-and-add steps in software otherwise; they are cheap enough that blocks of
 * 64 bytes pay, so a batch of 1 KiB runs at several GB/s, not only a batch of 1 MiB (about 19 GB/s
 * on 1 MiB). Where the CPU has AVX-512 with VPCLMULQDQ, inputs of 256 bytes and more are instead
 * folded 256 bytes at a time with carry-less multiplications (crc_fold): about 80 GB/s on 1 MiB and
 * 27 GB/s on 1151 bytes on an x86-64 server, the speed of its cache. Without SSE 4.2 the module
 * exports nothing and reel uses its other implementations (see src/record/crc32c.ts).
 *
 * JavaScript interface (Node-API): crc32c(bytes: Uint8Array, start: number, end: number): number,
 * the finished CRC-32C (unsigned) of bytes[start, end). The caller checks the range. For tests,
 * crc32cChains (the same, by the three chains alone: the path of CPUs without VPCLMULQDQ, so that
 * both are checked on a CPU that has it) and crc32cLevel() (the path crc32c takes: 1, the CRC32
 * instruction; 2, and PCLMULQDQ; 3, and VPCLMULQDQ from 256 bytes).
 *
 * C interface, for a runtime's FFI (Bun's bun:ffi and Deno.dlopen, where a call costs a fifth and a
 * half of a Node-API call): reel_crc32c_available() is 1 when the CPU has the instruction, and only
 * then may reel_crc32c(data, start, end) be called; it returns the same value as crc32c().
 *
 * Built by native/crc32c/build.sh into native/prebuilt/<platform>-<arch>/reel_crc32c.node.
 */
#define NAPI_VERSION 3
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define POLY 0x82f63b78u

/* A CRC register function: the register after n bytes from p, starting from reg. */
typedef uint32_t (*register_fn)(uint32_t reg, const uint8_t* p, size_t n);

/* a * b mod P, both in the reflected representation (bit 31 is x^0). */
static uint32_t multiply_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = 0x80000000u; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
  }
  return product;
}

/* x^bits mod P, reflected. */
static uint32_t x_pow_bits(uint64_t bits) {
  uint32_t result = 0x80000000u; /* x^0 */
  uint32_t square = 0x40000000u; /* x^1, then x^2, x^4, ... */
  while (bits != 0) {
    if (bits & 1) result = multiply_mod_p(square, result);
    square = multiply_mod_p(square, square);
    bits >>= 1;
  }
  return result;
}

/* Block sizes (bytes, multiples of 8) of the three-chain loop, largest first. */
#define BLOCK_SIZES 4
static const size_t block_bytes[BLOCK_SIZES] = {8192, 1024, 256, 64};
/* Per block size, the constants that move a chain's register past one and past two blocks: the
 * powers x^(8 * block) and x^(16 * block) for the software multiplication, or, with PCLMULQDQ,
 * x^(8 * block - 33) and x^(16 * block - 33) (see shift_clmul). */
static uint32_t shift_one[BLOCK_SIZES];
static uint32_t shift_two[BLOCK_SIZES];
static int hardware = 0; /* 1: CRC32 instruction; 2: and PCLMULQDQ; 3: and AVX-512 VPCLMULQDQ */

/*
 * Inputs of at least this many bytes are folded with VPCLMULQDQ where the CPU has it (see
 * crc_fold); shorter ones take the three chains, whose start costs less.
 */
#define FOLD_MIN_BYTES 256

/*
 * Folding constants (see crc_fold), per fold distance of 16, 32, 48, 64 and 256 bytes: for a
 * distance of F bytes, {x^(8F + 63), x^(8F - 1)} mod P, reflected, in the top 32 bits of a
 * 64-bit word.
 */
enum { FOLD_16, FOLD_32, FOLD_48, FOLD_64, FOLD_256, FOLD_DISTANCES };
static const size_t fold_bytes[FOLD_DISTANCES] = {16, 32, 48, 64, 256};
static uint64_t fold_low[FOLD_DISTANCES];  /* multiplies a 16-byte block's first 8 bytes */
static uint64_t fold_high[FOLD_DISTANCES]; /* multiplies its last 8 bytes */

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <immintrin.h>
#include <wmmintrin.h>

/*
 * reg * x^(8n) mod P in a few cycles, for k = x^(8n - 33) mod P. The carry-less product of two
 * reflected 32-bit values, read as a reflected 64-bit value, is x * reg * k (one degree more than
 * the product: the reflection's offset); the CRC32 instruction on a 64-bit word w from a zero
 * register gives w * x^32 mod P. Together: reg * k * x^33 = reg * x^(8n).
 */
__attribute__((target("sse4.2,pclmul"))) static inline uint32_t shift_clmul(uint32_t reg, uint32_t k) {
  const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)reg), _mm_cvtsi32_si128((int)k), 0);
  return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(product));
}

/* The register after the last n bytes, one chain: 8 bytes per instruction, then single bytes. */
__attribute__((target("sse4.2"))) static inline uint32_t crc_tail(uint32_t reg, const uint8_t* p, size_t n) {
  uint64_t r = reg;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    r = _mm_crc32_u64(r, w);
    p += 8;
    n -= 8;
  }
  reg = (uint32_t)r;
  while (n > 0) {
    reg = _mm_crc32_u8(reg, *p++);
    n--;
  }
  return reg;
}

__attribute__((target("sse4.2,pclmul"))) static uint32_t crc_register(uint32_t reg, const uint8_t* p,
                                                                      size_t n) {
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    reg = _mm_crc32_u8(reg, *p++);
    n--;
  }
  uint64_t r0 = reg;
  const int clmul = hardware >= 2;
  for (int k = 0; k < BLOCK_SIZES; k++) {
    const size_t block = block_bytes[k];
    while (n >= 3 * block) {
      const uint8_t* a = p;
      const uint8_t* b = p + block;
      const uint8_t* c = p + 2 * block;
      uint64_t r1 = 0, r2 = 0;
      for (size_t i = 0; i < block; i += 8) {
        uint64_t wa, wb, wc;
        memcpy(&wa, a + i, 8);
        memcpy(&wb, b + i, 8);
        memcpy(&wc, c + i, 8);
        r0 = _mm_crc32_u64(r0, wa);
        r1 = _mm_crc32_u64(r1, wb);
        r2 = _mm_crc32_u64(r2, wc);
      }
      if (clmul) {
        r0 = shift_clmul((uint32_t)r0, shift_two[k]) ^ shift_clmul((uint32_t)r1, shift_one[k]) ^ (uint32_t)r2;
      } else {
        r0 = multiply_mod_p(shift_two[k], (uint32_t)r0) ^ multiply_mod_p(shift_one[k], (uint32_t)r1) ^
             (uint32_t)r2;
      }
      p += 3 * block;
      n -= 3 * block;
    }
  }
  return crc_tail((uint32_t)r0, p, n);
}

/*
 * The CRC register after n >= FOLD_MIN_BYTES bytes, folded 256 bytes at a time with AVX-512's
 * VPCLMULQDQ (sixteen 16-byte blocks in flight), then finished with the CRC32 instruction.
 *
 * Read 16 bytes as a polynomial A of degree < 128, its first byte's low bit the highest term (the
 * reflected order). A block F bytes before a block B adds A * x^(8F) to the message where B adds B,
 * so B may be replaced by B ^ A' for any A' = A * x^(8F) mod P of degree < 128. With A's first 8
 * bytes L and last 8 bytes H, A = L * x^64 + H, and a carry-less product of two reflected 64-bit
 * words, read as a reflected 128-bit value, is x times the product of the polynomials; so
 *
 *   A' = clmul(L, x^(8F + 63) mod P) ^ clmul(H, x^(8F - 1) mod P)
 *
 * (degree at most 95), with each constant reflected into the top 32 bits of its 64-bit word. The
 * sixteen blocks are folded onto the next 256 bytes until fewer than 256 remain; then onto each
 * other and onto the next 64 and 16 bytes, down to one 16-byte block S followed by fewer than 16
 * bytes T. The register is then that of the message S T from a zero register: the initial
 * register was added into the first 4 bytes, as the CRC32 instruction adds it.
 */
__attribute__((target("sse4.2,pclmul,avx512f,avx512vl,vpclmulqdq"))) static uint32_t crc_fold(uint32_t reg,
                                                                                            const uint8_t* p,
                                                                                            size_t n) {
  const __m512i k256 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)fold_high[FOLD_256],
                                                             (long long)fold_low[FOLD_256]));
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)reg)));
  __m512i x1 = _mm512_loadu_si512(p + 64);
  __m512i x2 = _mm512_loadu_si512(p + 128);
  __m512i x3 = _mm512_loadu_si512(p + 192);
  p += 256;
  n -= 256;
#define FOLD512(x, k, next) \
  _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96)
  while (n >= 256) {
    x0 = FOLD512(x0, k256, _mm512_loadu_si512(p));
    x1 = FOLD512(x1, k256, _mm512_loadu_si512(p + 64));
    x2 = FOLD512(x2, k256, _mm512_loadu_si512(p + 128));
    x3 = FOLD512(x3, k256, _mm512_loadu_si512(p + 192));
    p += 256;
    n -= 256;
  }
  const __m512i k64 =
      _mm512_broadcast_i32x4(_mm_set_epi64x((long long)fold_high[FOLD_64], (long long)fold_low[FOLD_64]));
  x1 = FOLD512(x0, k64, x1);
  x2 = FOLD512(x1, k64, x2);
  x3 = FOLD512(x2, k64, x3);
  while (n >= 64) {
    x3 = FOLD512(x3, k64, _mm512_loadu_si512(p));
    p += 64;
    n -= 64;
  }
#undef FOLD512
  /* The four blocks of x3 onto its last: by 48, 32 and 16 bytes (the last block's constants are 0). */
  const __m512i k_lanes = _mm512_set_epi64(0, 0, (long long)fold_high[FOLD_16], (long long)fold_low[FOLD_16],
                                           (long long)fold_high[FOLD_32], (long long)fold_low[FOLD_32],
                                           (long long)fold_high[FOLD_48], (long long)fold_low[FOLD_48]);
  const __m512i y = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x3, k_lanes, 0x00),
                                              _mm512_clmulepi64_epi128(x3, k_lanes, 0x11),
                                              _mm512_maskz_mov_epi64(0xc0, x3), 0x96);
  const __m256i y4 = _mm256_xor_si256(_mm512_castsi512_si256(y), _mm512_extracti64x4_epi64(y, 1));
  __m128i s = _mm_xor_si128(_mm256_castsi256_si128(y4), _mm256_extracti128_si256(y4, 1));
  const __m128i k16 = _mm_set_epi64x((long long)fold_high[FOLD_16], (long long)fold_low[FOLD_16]);
  while (n >= 16) {
    s = _mm_ternarylogic_epi64(_mm_clmulepi64_si128(s, k16, 0x00), _mm_clmulepi64_si128(s, k16, 0x11),
                               _mm_loadu_si128((const __m128i*)p), 0x96);
    p += 16;
    n -= 16;
  }
  uint64_t r = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(s));
  r = _mm_crc32_u64(r, (uint64_t)_mm_extract_epi64(s, 1));
  return crc_tail((uint32_t)r, p, n);
}

/* The register after n bytes: folded where the CPU allows and n is large enough, else three chains. */
static uint32_t crc_any(uint32_t reg, const uint8_t* p, size_t n) {
  return hardware == 3 && n >= FOLD_MIN_BYTES ? crc_fold(reg, p, n) : crc_register(reg, p, n);
}

/* Whether crc_fold gives crc_register's registers, on lengths around each of its steps. */
static int fold_agrees(void) {
  static uint8_t data[1200];
  uint32_t x = 0x9e3779b9u;
  for (size_t i = 0; i < sizeof data; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    data[i] = (uint8_t)x;
  }
  static const size_t lengths[] = {256, 257, 271, 272, 319, 320, 336, 511, 512, 513, 575, 1024, 1151, 1199};
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    for (size_t at = 0; at + lengths[i] <= sizeof data && at < 2; at++) {
      if (crc_fold(0xffffffffu, data + at, lengths[i]) != crc_register(0xffffffffu, data + at, lengths[i])) {
        return 0;
      }
    }
  }
  return 1;
}

/* Which instructions the CPU has (see `hardware`); PCLMULQDQ only once it gives the software's shifts. */
static int detect_hardware(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2")) return 0;
  if (!__builtin_cpu_supports("pclmul")) return 1;
  static const uint32_t probes[] = {0x00000001u, 0x80000000u, 0xffffffffu, 0x12345678u, 0xe3069283u};
  for (int k = 0; k < BLOCK_SIZES; k++) {
    const uint64_t bits = 8 * (uint64_t)block_bytes[k];
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
      if (shift_clmul(probes[i], x_pow_bits(bits - 33)) != multiply_mod_p(x_pow_bits(bits), probes[i])) return 1;
    }
  }
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
      !__builtin_cpu_supports("vpclmulqdq")) {
    return 2;
  }
  return 3; /* checked in setup(), once the constants exist */
}
#else
static uint32_t crc_register(uint32_t reg, const uint8_t* p, size_t n) {
  (void)p;
  (void)n;
  return reg;
}
static uint32_t crc_any(uint32_t reg, const uint8_t* p, size_t n) { return crc_register(reg, p, n); }
static int fold_agrees(void) { return 0; }
static int detect_hardware(void) { return 0; }
#endif

/* Runs when the library loads, through Node-API or through a runtime's FFI. */
__attribute__((constructor)) static void setup(void) {
  hardware = detect_hardware();
  for (int k = 0; k < BLOCK_SIZES; k++) {
    const uint64_t bits = 8 * (uint64_t)block_bytes[k];
    shift_one[k] = hardware >= 2 ? x_pow_bits(bits - 33) : x_pow_bits(bits);
    shift_two[k] = hardware >= 2 ? x_pow_bits(2 * bits - 33) : x_pow_bits(2 * bits);
  }
  for (int d = 0; d < FOLD_DISTANCES; d++) {
    const uint64_t bits = 8 * (uint64_t)fold_bytes[d];
    fold_low[d] = (uint64_t)x_pow_bits(bits + 63) << 32;
    fold_high[d] = (uint64_t)x_pow_bits(bits - 1) << 32;
  }
  if (hardware == 3 && !fold_agrees()) hardware = 2;
}

/*
 * For a runtime's FFI (Bun's bun:ffi, Deno.dlopen), whose calls cost a fraction of a Node-API
 * call's: whether the CPU has the instruction (1) or not (0, and reel_crc32c must not be called).
 */
__attribute__((visibility("default"))) uint32_t reel_crc32c_available(void) { return hardware != 0; }

/*
 * For a runtime's FFI: the finished CRC-32C (unsigned) of data[start, end). The caller checks the
 * range and that reel_crc32c_available() is 1.
 */
__attribute__((visibility("default"))) uint32_t reel_crc32c(const uint8_t* data, uint32_t start, uint32_t end) {
  return ~crc_any(0xffffffffu, data + start, (size_t)(end - start));
}

/* crc32c(bytes, start, end) and crc32cChains(bytes, start, end); `data` is the register function. */
static napi_value crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* which;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &which) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "crc32c(bytes, start, end) takes three arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "crc32c: bytes must be a Uint8Array");
    return NULL;
  }
  uint32_t start, end;
  if (napi_get_value_uint32(env, argv[1], &start) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &end) != napi_ok || start > end || end > length) {
    napi_throw_range_error(env, NULL, "crc32c: [start, end) is not a range inside bytes");
    return NULL;
  }
  const register_fn* crc_of = (const register_fn*)which;
  const uint32_t crc = ~(*crc_of)(0xffffffffu, (const uint8_t*)data + start, (size_t)(end - start));
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

/* crc32cLevel(): `hardware`. */
static napi_value crc32c_level(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_uint32(env, (uint32_t)hardware, &result);
  return result;
}

static const register_fn any_path = crc_any;
static const register_fn chains_path = crc_register;

static napi_value init(napi_env env, napi_value exports) {
  if (hardware == 0) return exports;
  napi_value fn;
  if (napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c, (void*)&any_path, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "crc32c", fn);
  }
  if (napi_create_function(env, "crc32cChains", NAPI_AUTO_LENGTH, crc32c, (void*)&chains_path, &fn) ==
      napi_ok) {
    napi_set_named_property(env, exports, "crc32cChains", fn);
  }
  if (napi_create_function(env, "crc32cLevel", NAPI_AUTO_LENGTH, crc32c_level, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "crc32cLevel", fn);
  }
  return exports;
}

NAPI_MODULE(reel_crc32c, init)
