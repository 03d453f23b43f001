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
 * 64 bytes pay, so a batch of 1 KiB runs at several GB/s, not only a batch of 1 MiB. Without
 * SSE 4.2 the module exports nothing and reel uses its other implementations (see
 * src/record/crc32c.ts).
 *
 * JavaScript interface (Node-API): crc32c(bytes: Uint8Array, start: number, end: number): number,
 * the finished CRC-32C (unsigned) of bytes[start, end). The caller checks the range.
 *
 * C interface, for a runtime's FFI (Bun's bun:ffi, where a call costs a fifth of a Node-API call):
 * reel_crc32c_available() is 1 when the CPU has the instruction, and only then may
 * reel_crc32c(data, start, end) be called; it returns the same value as crc32c().
 *
 * Built by native/crc32c/build.sh into native/prebuilt/<platform>-<arch>/reel_crc32c.node.
 */
#define NAPI_VERSION 3
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define POLY 0x82f63b78u

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
static int hardware = 0; /* 1: CRC32 instruction; 2: CRC32 and PCLMULQDQ */

#if defined(__x86_64__)
#include <nmmintrin.h>
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

__attribute__((target("sse4.2,pclmul"))) static uint32_t crc_register(uint32_t reg, const uint8_t* p,
                                                                      size_t n) {
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    reg = _mm_crc32_u8(reg, *p++);
    n--;
  }
  uint64_t r0 = reg;
  const int clmul = hardware == 2;
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
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    r0 = _mm_crc32_u64(r0, w);
    p += 8;
    n -= 8;
  }
  reg = (uint32_t)r0;
  while (n > 0) {
    reg = _mm_crc32_u8(reg, *p++);
    n--;
  }
  return reg;
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
  return 2;
}
#else
static uint32_t crc_register(uint32_t reg, const uint8_t* p, size_t n) {
  (void)p;
  (void)n;
  return reg;
}
static int detect_hardware(void) { return 0; }
#endif

/* Runs when the library loads, through Node-API or through a runtime's FFI. */
__attribute__((constructor)) static void setup(void) {
  hardware = detect_hardware();
  for (int k = 0; k < BLOCK_SIZES; k++) {
    const uint64_t bits = 8 * (uint64_t)block_bytes[k];
    shift_one[k] = hardware == 2 ? x_pow_bits(bits - 33) : x_pow_bits(bits);
    shift_two[k] = hardware == 2 ? x_pow_bits(2 * bits - 33) : x_pow_bits(2 * bits);
  }
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
  return ~crc_register(0xffffffffu, data + start, (size_t)(end - start));
}

static napi_value crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
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
  const uint32_t crc =
      ~crc_register(0xffffffffu, (const uint8_t*)data + start, (size_t)(end - start));
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  if (hardware == 0) return exports;
  napi_value fn;
  if (napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "crc32c", fn);
  }
  return exports;
}

NAPI_MODULE(reel_crc32c, init)
