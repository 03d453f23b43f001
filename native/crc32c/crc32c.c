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
 * where reg0 starts from a zero register. The multiplications by the fixed powers of x are done in
 * software (32 shift-and-add steps each), twice per three blocks. Without SSE 4.2 the module exports
 * nothing and reel uses its other implementations (see src/record/crc32c.ts).
 *
 * JavaScript interface: crc32c(bytes: Uint8Array, start: number, end: number): number, the
 * finished CRC-32C (unsigned) of bytes[start, end). The caller checks the range.
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

/* x^(8 * bytes) mod P, reflected. */
static uint32_t x_pow_bytes(uint64_t bytes) {
  uint32_t result = 0x80000000u; /* x^0 */
  uint32_t square = 0x40000000u; /* x^1, then x^2, x^4, ... */
  uint64_t exponent = bytes * 8;
  while (exponent != 0) {
    if (exponent & 1) result = multiply_mod_p(square, result);
    square = multiply_mod_p(square, square);
    exponent >>= 1;
  }
  return result;
}

/* Block sizes (bytes, multiples of 8) of the three-chain loop, largest first. */
#define BLOCK_SIZES 3
static const size_t block_bytes[BLOCK_SIZES] = {8192, 1024, 128};
static uint32_t shift_one[BLOCK_SIZES]; /* x^(8 * block) */
static uint32_t shift_two[BLOCK_SIZES]; /* x^(16 * block) */

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc_register(uint32_t reg, const uint8_t* p,
                                                               size_t n) {
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    reg = _mm_crc32_u8(reg, *p++);
    n--;
  }
  uint64_t r0 = reg;
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
      r0 = multiply_mod_p(shift_two[k], (uint32_t)r0) ^ multiply_mod_p(shift_one[k], (uint32_t)r1) ^
           (uint32_t)r2;
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

static int hardware_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc_register(uint32_t reg, const uint8_t* p, size_t n) {
  (void)p;
  (void)n;
  return reg;
}
static int hardware_supported(void) { return 0; }
#endif

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
  if (!hardware_supported()) return exports;
  for (int k = 0; k < BLOCK_SIZES; k++) {
    shift_one[k] = x_pow_bytes(block_bytes[k]);
    shift_two[k] = x_pow_bytes(2 * block_bytes[k]);
  }
  napi_value fn;
  if (napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "crc32c", fn);
  }
  return exports;
}

NAPI_MODULE(reel_crc32c, init)
