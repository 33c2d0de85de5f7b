// The native output stage: output function, argmax and confidence, exactly as output-stage.ts computes
// them (float64 arithmetic on the float32 logits, Math.exp, one rounding to float32 per probability).
// Compiled once, without vector flags and with -ffp-contract=off, like the rest of the addon.
//
// Math.exp in V8 is fdlibm's exp (V8's src/base/ieee754.cc). exp() below is that algorithm, written out
// operation for operation from fdlibm's e_exp.c, so that it returns the same double for every argument:
// the addon compares it with Math.exp at load time (native-loader.ts) and the engine falls back to the
// JavaScript output stage if they ever differ (kernels-native.test.ts compares millions of arguments).
//
// fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft, a Sun
// Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software is freely
// granted, provided that this notice is preserved.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel.h"

namespace nnpipe {

namespace {

uint32_t highWord(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  return static_cast<uint32_t>(bits >> 32);
}

uint32_t lowWord(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  return static_cast<uint32_t>(bits);
}

double fromHighWord(uint32_t high) {
  const uint64_t bits = static_cast<uint64_t>(high) << 32;
  double x;
  std::memcpy(&x, &bits, 8);
  return x;
}

}  // namespace

// exp(x) = 2^k exp(r), x = k ln2 + r, |r| <= ln2 / 2, r held as hi - lo; exp(r) from a degree-5
// rational approximation (fdlibm e_exp.c; V8 adds the exact E for x == 1). Constants are fdlibm's, with
// their bit patterns.
double exp(double x) {
  static const double kHalf[2] = {0.5, -0.5};
  static const double kLn2Hi[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01};  // 0x3FE62E42 FEE00000
  static const double kLn2Lo[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10};  // 0x3DEA39EF 35793C76
  const double overflow = 7.09782712893383973096e+02;    // 0x40862E42 FEFA39EF
  const double underflow = -7.45133219101941108420e+02;  // 0xC0874910 D52D3051
  const double invLn2 = 1.44269504088896338700e+00;      // 0x3FF71547 652B82FE
  const double p1 = 1.66666666666666019037e-01;          // 0x3FC55555 5555553E
  const double p2 = -2.77777777770155933842e-03;         // 0xBF66C16C 16BEBD93
  const double p3 = 6.61375632143793436117e-05;          // 0x3F11566A AF25DE2C
  const double p4 = -1.65339022054652515390e-06;         // 0xBEBBBD41 C5D26BF1
  const double p5 = 4.13813679705723846039e-08;          // 0x3E663769 72BEA4D0
  const double e = 2.718281828459045;                    // 0x4005BF0A 8B145769
  const double twoM1000 = 9.33263618503218878990e-302;   // 2^-1000
  const double two1023 = 8.988465674311579539e307;       // 2^1023

  const uint32_t word = highWord(x);
  const int sign = static_cast<int>(word >> 31);
  const uint32_t high = word & 0x7FFFFFFF;  // |x|'s high word
  if (high >= 0x40862E42) {                 // |x| >= 709.78...
    if (high >= 0x7FF00000) {
      if (((high & 0xFFFFF) | lowWord(x)) != 0) return x + x;  // NaN
      return sign == 0 ? x : 0.0;                               // exp(+-inf) = inf, 0
    }
    if (x > overflow) return HUGE_VAL;
    if (x < underflow) return 0.0;
  }
  double hi = 0.0;
  double lo = 0.0;
  int32_t k = 0;
  if (high > 0x3FD62E42) {    // |x| > ln2 / 2
    if (high < 0x3FF0A2B2) {  // and |x| < 1.5 ln2
      if (x == 1.0) return e;
      hi = x - kLn2Hi[sign];
      lo = kLn2Lo[sign];
      k = 1 - sign - sign;
    } else {
      k = static_cast<int32_t>(invLn2 * x + kHalf[sign]);
      const double t = k;
      hi = x - t * kLn2Hi[0];  // exact
      lo = t * kLn2Lo[0];
    }
    x = hi - lo;
  } else if (high < 0x3E300000) {  // |x| < 2^-28
    return 1.0 + x;
  }
  const double t = x * x;
  const double twoPk = k >= -1021 ? fromHighWord(0x3FF00000 + (static_cast<uint32_t>(k) << 20))
                                  : fromHighWord(0x3FF00000 + (static_cast<uint32_t>(k + 1000) << 20));
  const double c = x - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) return k == 1024 ? y * 2.0 * two1023 : y * twoPk;
  return y * twoPk * twoM1000;
}

void finishRows(int32_t output, float* logits, int32_t rows, int32_t outputs, int32_t* predicted, float* confidence, float* probabilities, double* exps) {
  for (int32_t r = 0; r < rows; r++) {
    float* v = logits + static_cast<size_t>(r) * outputs;
    if (output == kOutputSoftmax) {
      // softmaxRowsOnce_: the row maximum subtracted, one exp per value, float64 sums in order.
      double max = -HUGE_VAL;
      for (int32_t i = 0; i < outputs; i++) if (v[i] > max) max = v[i];
      double sum = 0;
      for (int32_t i = 0; i < outputs; i++) {
        exps[i] = exp(static_cast<double>(v[i]) - max);
        sum += exps[i];
      }
      for (int32_t i = 0; i < outputs; i++) v[i] = static_cast<float>(exps[i] / sum);
    } else if (output == kOutputSigmoid) {
      // sigmoid_: exp only ever sees -|x|.
      for (int32_t i = 0; i < outputs; i++) {
        const double x = v[i];
        if (x >= 0) {
          v[i] = static_cast<float>(1 / (1 + exp(-x)));
        } else {
          const double ex = exp(x);
          v[i] = static_cast<float>(ex / (1 + ex));
        }
      }
    }
    // argmaxRows: the first index wins ties, a NaN counts as the largest.
    int32_t best = 0;
    float bestValue = v[0];
    for (int32_t c = 1; c < outputs && !std::isnan(bestValue); c++) {
      if (v[c] > bestValue || std::isnan(v[c])) {
        best = c;
        bestValue = v[c];
      }
    }
    predicted[r] = best;
    confidence[r] = bestValue;
    if (probabilities) std::memcpy(probabilities + static_cast<size_t>(r) * outputs, v, sizeof(float) * outputs);
  }
}

}  // namespace nnpipe
