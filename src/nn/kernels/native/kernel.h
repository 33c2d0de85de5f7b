// The native forward kernel's interface, shared by kernel.cc (compiled once per instruction set) and
// addon.cc (the Node-API glue that picks one at run time). See kernel.cc for the arithmetic.
#ifndef NNPIPE_KERNEL_H
#define NNPIPE_KERNEL_H

#include <cstdint>

namespace nnpipe {

/**
 * One dense layer: out = act(x · W + b), b nPad floats (zero-padded). W is inputs x nPad, columns
 * zero-padded, row-major.
 */
struct Layer {
  int32_t inputs;
  int32_t outputs;
  /** Columns rounded up to a multiple of the kernel's lanes (kernelLanes()). */
  int32_t nPad;
  const float* w;
  const float* b;
};

/** Activation codes, as in forward-kernel.wat: 0 identity, 1 relu, 2 step, 3 sigmoid. */
enum Activation : int32_t { kIdentity = 0, kRelu = 1, kStep = 2, kSigmoid = 3 };

/** Output function codes: 0 identity, 1 sigmoid, 2 softmax (output.cc). */
enum OutputFunction : int32_t { kOutputIdentity = 0, kOutputSigmoid = 1, kOutputSoftmax = 2 };

/** V8's Math.exp (fdlibm's algorithm), bit for bit; output.cc. */
double exp(double x);

/**
 * output-stage.ts's finishRows in C++: the output function on `rows` rows of logits (in place), then
 * per row its argmax, that probability, and (when `probabilities` is not null) the whole row.
 * `exps`: scratch of `outputs` doubles.
 */
void finishRows(int32_t output, float* logits, int32_t rows, int32_t outputs, int32_t* predicted, float* confidence, float* probabilities, double* exps);

/** Rows per tile: a tile goes through every layer before the next, so its activations stay in L1. */
constexpr int32_t kTileRows = 16;

/**
 * Inputs per block of the first layer (kernel.cc), and the blocks a row of `inputs` needs. 784 MNIST
 * pixels: 4 blocks; measured on MNIST against blocks of 64 and 112 inputs and a single block.
 */
constexpr int32_t kBlockInputs = 208;
constexpr int32_t kMaxBlocks(int32_t inputs) { return (inputs + kBlockInputs - 1) / kBlockInputs; }

struct Net {
  int32_t layerCount;
  const Layer* layers;
  /** Hidden layers' activation; the last layer is always identity (the output function runs in JS). */
  int32_t activation;
};

/** Per-engine scratch, sized by the addon from the network (see scratchFloats()). */
struct Scratch {
  /** Per layer: kTileRows x nPad floats. */
  float** tile;
  /** The first layer's compaction lists, one per tile row, listStride entries apart (>= inputs + 16). */
  float* vals;
  int32_t* offs;
  int32_t listStride;
  /** Per tile row, where each input block's entries start in its list (blocks + 1 each). */
  int32_t* blockStarts;
};

/**
 * Scores `rows` rows: x is rows x inputs float32 (divisor == 0) or bytes scaled by 1 / divisor in
 * float32 (divisor > 0); writes rows x outputs logits (no padding) to `logits`.
 */
typedef void (*ForwardFn)(const Net& net, const Scratch& scratch, const void* x, float divisor, int32_t rows, float* logits);

}  // namespace nnpipe

// One entry point per compiled instruction set (kernel.cc with NNPIPE_ISA set).
#define NNPIPE_DECLARE_ISA(isa)                                                                                   \
  namespace nnpipe {                                                                                              \
  namespace isa {                                                                                                 \
  extern const int32_t kLanes;                                                                                    \
  void forward(const Net& net, const Scratch& scratch, const void* x, float divisor, int32_t rows, float* logits); \
  }                                                                                                               \
  }

#endif
