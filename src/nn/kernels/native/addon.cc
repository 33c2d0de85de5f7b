// Node-API glue of the native forward kernel (native-engine.ts is its only user). Exports:
//   isas()          the instruction sets built in that this CPU runs, best first: [{ name, lanes }]
//   alignment(memory)
//                   bytes from the start of an ArrayBuffer to its first 64-byte aligned byte (the
//                   engine lays its input and logits rows out from there)
//   create(layout, weights, memory, isa)
//                   copies the weights into the addon's own aligned, padded storage, checks the layout
//                   against the memory, allocates the scratch; returns an opaque handle
//   forward(handle, memory, x, rows, divisor, predicted, confidence, probabilities, first)
//                   scores rows of x (a Float32Array; a Uint8Array of pixels scaled by 1 / divisor when
//                   divisor > 0; or null: the engine's own input rows in memory). With `predicted` null
//                   it only writes the logits rows into memory; otherwise it also runs the output stage
//                   (output.cc) into predicted/confidence[first ..] and probabilities[first * outputs ..]
//                   (probabilities may be null)
//   exp(input, output)
//                   output[i] = the addon's exp(input[i]) (Float64Arrays), to check it against Math.exp
// layout (Int32Array): [maxRows, layerCount, activation, outputFunction, inputOffset, logitsOffset,
//   then per layer: inputs, outputs]; offsets in bytes from the aligned start of memory.
// weights: [W1, b1, W2, b2, ...] Float32Arrays, W row-major inputs x outputs.
// Everything is checked here, so a wrong call throws instead of reading or writing out of bounds.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernel.h"

#ifdef NNPIPE_HAVE_AVX512
NNPIPE_DECLARE_ISA(avx512)
#endif
#ifdef NNPIPE_HAVE_AVX2
NNPIPE_DECLARE_ISA(avx2)
#endif
#ifdef NNPIPE_HAVE_SSE2
NNPIPE_DECLARE_ISA(sse2)
#endif
#ifdef NNPIPE_HAVE_GENERIC
NNPIPE_DECLARE_ISA(generic)
#endif

namespace {

using nnpipe::ForwardFn;
using nnpipe::Layer;

struct Isa {
  const char* name;
  int32_t lanes;
  ForwardFn forward;
};

constexpr int kMaxIsas = 4;

/** The instruction sets compiled in that this CPU (and OS) can run, best first. */
int usableIsas(Isa* out) {
  int count = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#endif
#ifdef NNPIPE_HAVE_AVX512
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq")) {
    out[count++] = {"avx512", nnpipe::avx512::kLanes, nnpipe::avx512::forward};
  }
#endif
#ifdef NNPIPE_HAVE_AVX2
  if (__builtin_cpu_supports("avx2")) out[count++] = {"avx2", nnpipe::avx2::kLanes, nnpipe::avx2::forward};
#endif
#ifdef NNPIPE_HAVE_SSE2
  out[count++] = {"sse2", nnpipe::sse2::kLanes, nnpipe::sse2::forward};
#endif
#ifdef NNPIPE_HAVE_GENERIC
  out[count++] = {"generic", nnpipe::generic::kLanes, nnpipe::generic::forward};
#endif
  return count;
}

constexpr int32_t kAlign = 64;
constexpr int32_t kHeader = 6;
constexpr int32_t kPerLayer = 2;
constexpr int32_t kMaxLayers = 64;

struct State {
  Isa isa;
  int32_t maxRows;
  int32_t inputs;
  int32_t outputs;
  int32_t inputOffset;
  int32_t logitsOffset;
  int32_t outputFunction;
  /** The memory's bytes from its start to its aligned base. */
  size_t shift;
  /** The memory create() was given (an ArrayBuffer's backing store never moves): forward() takes only it. */
  const uint8_t* memory;
  size_t memoryLength;
  int32_t layerCount;
  int32_t activation;
  Layer layers[kMaxLayers];
  float* tile[kMaxLayers];
  float* vals;
  int32_t* offs;
  int32_t listStride;
  int32_t* blockStarts;
  double* exps;
  /** One allocation: weights, then scratch. */
  void* block;
};

#define CHECK(call)                                                                                                                    \
  do {                                                                                                                                 \
    if ((call) != napi_ok) {                                                                                                           \
      const napi_extended_error_info* info = nullptr;                                                                                  \
      napi_get_last_error_info(env, &info);                                                                                            \
      bool pending = false;                                                                                                            \
      napi_is_exception_pending(env, &pending);                                                                                        \
      if (!pending) napi_throw_error(env, "PIPE_ERR_KERNEL", info && info->error_message ? info->error_message : "Node-API call failed"); \
      return nullptr;                                                                                                                  \
    }                                                                                                                                  \
  } while (0)

napi_value fail(napi_env env, const char* message) {
  napi_throw_range_error(env, nullptr, message);
  return nullptr;
}

size_t alignmentOf(const void* data) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(data);
  return static_cast<size_t>((kAlign - at % kAlign) % kAlign);
}

/** The memory argument's data and length; false (with an exception pending) if it is not an ArrayBuffer. */
bool arrayBuffer(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  bool is = false;
  if (napi_is_arraybuffer(env, value, &is) != napi_ok || !is) {
    napi_throw_type_error(env, nullptr, "memory must be an ArrayBuffer");
    return false;
  }
  void* raw = nullptr;
  if (napi_get_arraybuffer_info(env, value, &raw, length) != napi_ok) return false;
  *data = static_cast<uint8_t*>(raw);
  return true;
}

/** A typed array argument of the given type (or null when allowed): its data and element count. */
bool typedArray(napi_env env, napi_value value, napi_typedarray_type wanted, bool nullable, void** data, size_t* count, const char* name) {
  napi_valuetype kind;
  if (napi_typeof(env, value, &kind) != napi_ok) return false;
  if (kind == napi_null && nullable) {
    *data = nullptr;
    *count = 0;
    return true;
  }
  bool is = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is || napi_get_typedarray_info(env, value, &type, count, data, nullptr, nullptr) != napi_ok ||
      type != wanted) {
    napi_throw_type_error(env, nullptr, name);
    return false;
  }
  return true;
}

napi_value Isas(napi_env env, napi_callback_info) {
  Isa isas[kMaxIsas];
  const int count = usableIsas(isas);
  napi_value list;
  CHECK(napi_create_array_with_length(env, count, &list));
  for (int i = 0; i < count; i++) {
    napi_value entry, name, lanes;
    CHECK(napi_create_object(env, &entry));
    CHECK(napi_create_string_utf8(env, isas[i].name, NAPI_AUTO_LENGTH, &name));
    CHECK(napi_create_int32(env, isas[i].lanes, &lanes));
    CHECK(napi_set_named_property(env, entry, "name", name));
    CHECK(napi_set_named_property(env, entry, "lanes", lanes));
    CHECK(napi_set_element(env, list, i, entry));
  }
  return list;
}

napi_value Alignment(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* data = nullptr;
  size_t length = 0;
  if (argc < 1 || !arrayBuffer(env, argv[0], &data, &length)) return nullptr;
  napi_value result;
  CHECK(napi_create_uint32(env, static_cast<uint32_t>(alignmentOf(data)), &result));
  return result;
}

napi_value Exp(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* in = nullptr;
  void* out = nullptr;
  size_t inCount = 0, outCount = 0;
  if (argc < 2 || !typedArray(env, argv[0], napi_float64_array, false, &in, &inCount, "exp: input must be a Float64Array") ||
      !typedArray(env, argv[1], napi_float64_array, false, &out, &outCount, "exp: output must be a Float64Array")) {
    return nullptr;
  }
  if (outCount < inCount) return fail(env, "exp: output is shorter than input");
  for (size_t i = 0; i < inCount; i++) static_cast<double*>(out)[i] = nnpipe::exp(static_cast<const double*>(in)[i]);
  return nullptr;
}

void freeState(napi_env, void* data, void*) {
  State* state = static_cast<State*>(data);
  std::free(state->block);
  delete state;
}

/** True when [offset, offset + bytes) lies in [0, limit) and offset is a multiple of 4. */
bool inside(int64_t offset, int64_t bytes, int64_t limit) { return offset >= 0 && bytes >= 0 && offset % 4 == 0 && offset + bytes <= limit; }

size_t roundUp(size_t floats) { return (floats + 15) / 16 * 16; }  // whole 64-byte lines

/** Reads and checks the layout; returns an error message or nullptr. */
const char* readLayout(const int32_t* v, size_t count, size_t memoryBytes, State* s) {
  if (count < static_cast<size_t>(kHeader)) return "layout: too short";
  s->maxRows = v[0];
  s->layerCount = v[1];
  s->activation = v[2];
  s->outputFunction = v[3];
  s->inputOffset = v[4];
  s->logitsOffset = v[5];
  if (s->maxRows < 1) return "layout: maxRows must be positive";
  if (s->layerCount < 1 || s->layerCount > kMaxLayers) return "layout: 1 to 64 layers";
  if (s->activation < nnpipe::kIdentity || s->activation > nnpipe::kSigmoid) return "layout: unknown activation code";
  if (s->outputFunction < nnpipe::kOutputIdentity || s->outputFunction > nnpipe::kOutputSoftmax) return "layout: unknown output function code";
  if (count != static_cast<size_t>(kHeader + kPerLayer * s->layerCount)) return "layout: length does not match the layer count";
  for (int32_t k = 0; k < s->layerCount; k++) {
    Layer& layer = s->layers[k];
    layer.inputs = v[kHeader + kPerLayer * k];
    layer.outputs = v[kHeader + kPerLayer * k + 1];
    if (layer.inputs < 1 || layer.outputs < 1 || layer.outputs > (1 << 20) || layer.inputs > (1 << 20)) return "layout: a layer's sizes are out of range";
    if (k > 0 && layer.inputs != s->layers[k - 1].outputs) return "layout: consecutive layers do not fit together";
    layer.nPad = (layer.outputs + s->isa.lanes - 1) / s->isa.lanes * s->isa.lanes;
    if (static_cast<int64_t>(layer.inputs) * layer.nPad > (1 << 28)) return "layout: a layer is too large";
  }
  s->inputs = s->layers[0].inputs;
  s->outputs = s->layers[s->layerCount - 1].outputs;
  const int64_t limit = static_cast<int64_t>(memoryBytes) - static_cast<int64_t>(s->shift);
  if (static_cast<int64_t>(s->maxRows) * s->inputs > (int64_t{1} << 28)) return "layout: maxRows x inputs is too large";
  if (!inside(s->inputOffset, int64_t{4} * s->maxRows * s->inputs, limit)) return "layout: the input rows lie outside the memory";
  if (!inside(s->logitsOffset, int64_t{4} * s->maxRows * s->outputs, limit)) return "layout: the logits rows lie outside the memory";
  return nullptr;
}

/**
 * One aligned allocation: per layer W (inputs x nPad, padded with zeros) and b (nPad), then the scratch
 * (a tile of kTileRows x nPad floats per layer, the first layer's lists and block starts, exps).
 */
bool allocate(State* s) {
  size_t floats = 0;
  for (int32_t k = 0; k < s->layerCount; k++) {
    const Layer& l = s->layers[k];
    floats += roundUp(static_cast<size_t>(l.inputs) * l.nPad) + roundUp(l.nPad) + roundUp(static_cast<size_t>(nnpipe::kTileRows) * l.nPad);
  }
  s->listStride = static_cast<int32_t>(roundUp(static_cast<size_t>(s->inputs) + 16));
  const size_t lists = static_cast<size_t>(nnpipe::kTileRows) * s->listStride;
  const size_t starts = roundUp(static_cast<size_t>(nnpipe::kTileRows) * (nnpipe::kMaxBlocks(s->inputs) + 1));
  const size_t exps = roundUp(2 * static_cast<size_t>(s->outputs));
  const size_t bytes = (floats + 2 * lists + starts + exps) * 4;
  s->block = std::aligned_alloc(kAlign, bytes);
  if (!s->block) return false;
  std::memset(s->block, 0, bytes);
  float* at = static_cast<float*>(s->block);
  for (int32_t k = 0; k < s->layerCount; k++) {
    Layer& l = s->layers[k];
    l.w = at;
    at += roundUp(static_cast<size_t>(l.inputs) * l.nPad);
    l.b = at;
    at += roundUp(l.nPad);
    s->tile[k] = at;
    at += roundUp(static_cast<size_t>(nnpipe::kTileRows) * l.nPad);
  }
  s->vals = at;
  s->offs = reinterpret_cast<int32_t*>(at + lists);
  s->blockStarts = reinterpret_cast<int32_t*>(at + 2 * lists);
  s->exps = reinterpret_cast<double*>(at + 2 * lists + starts);
  return true;
}

/** Element `index` of `list` when it is a Float32Array of at least `least` values (no exception thrown). */
bool floats(napi_env env, napi_value list, uint32_t index, size_t least, const float** data) {
  napi_value value;
  bool typed = false;
  napi_typedarray_type type;
  size_t count = 0;
  void* raw = nullptr;
  if (napi_get_element(env, list, index, &value) != napi_ok || napi_is_typedarray(env, value, &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, value, &type, &count, &raw, nullptr, nullptr) != napi_ok) {
    return false;
  }
  *data = static_cast<const float*>(raw);
  return type == napi_float32_array && count >= least;
}

/** Copies W (row-major, unpadded) and b of every layer into the padded storage; returns an error or nullptr. */
const char* copyWeights(napi_env env, napi_value list, State* s) {
  bool isArray = false;
  uint32_t length = 0;
  if (napi_is_array(env, list, &isArray) != napi_ok || !isArray || napi_get_array_length(env, list, &length) != napi_ok ||
      length != static_cast<uint32_t>(2 * s->layerCount)) {
    return "weights must be an array [W1, b1, W2, b2, ...] with two Float32Arrays per layer";
  }
  for (int32_t k = 0; k < s->layerCount; k++) {
    Layer& l = s->layers[k];
    const float* w = nullptr;
    const float* b = nullptr;
    if (!floats(env, list, 2 * k, static_cast<size_t>(l.inputs) * l.outputs, &w)) return "weights: a W is not a Float32Array of inputs x outputs values";
    if (!floats(env, list, 2 * k + 1, static_cast<size_t>(l.outputs), &b)) return "weights: a b is not a Float32Array of outputs values";
    float* wOut = const_cast<float*>(l.w);
    for (int32_t i = 0; i < l.inputs; i++) {
      std::memcpy(wOut + static_cast<size_t>(i) * l.nPad, static_cast<const float*>(w) + static_cast<size_t>(i) * l.outputs, sizeof(float) * l.outputs);
    }
    std::memcpy(const_cast<float*>(l.b), b, sizeof(float) * l.outputs);
  }
  return nullptr;
}

napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) return fail(env, "create(layout, weights, memory, isa)");
  void* layout = nullptr;
  size_t count = 0;
  if (!typedArray(env, argv[0], napi_int32_array, false, &layout, &count, "layout must be an Int32Array")) return nullptr;
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!arrayBuffer(env, argv[2], &data, &length)) return nullptr;
  char name[16] = {0};
  size_t nameLength = 0;
  if (napi_get_value_string_utf8(env, argv[3], name, sizeof name, &nameLength) != napi_ok) return fail(env, "isa must be a string");

  State* state = new (std::nothrow) State();
  if (!state) return fail(env, "out of memory");
  Isa isas[kMaxIsas];
  const int usable = usableIsas(isas);
  bool found = false;
  for (int i = 0; i < usable && !found; i++) {
    if (std::strcmp(isas[i].name, name) == 0) {
      state->isa = isas[i];
      found = true;
    }
  }
  if (!found) {
    delete state;
    return fail(env, "isa is not built in or not supported by this CPU");
  }
  state->shift = alignmentOf(data);
  state->memory = data;
  state->memoryLength = length;
  const char* problem = length < state->shift ? "memory is too small" : readLayout(static_cast<const int32_t*>(layout), count, length, state);
  if (!problem && !allocate(state)) problem = "out of memory";
  if (!problem) problem = copyWeights(env, argv[1], state);
  if (problem) {
    std::free(state->block);
    delete state;
    return fail(env, problem);
  }
  napi_value handle;
  if (napi_create_external(env, state, freeState, nullptr, &handle) != napi_ok) {
    freeState(env, state, nullptr);
    return fail(env, "cannot create the handle");
  }
  return handle;
}

napi_value Forward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 9) return fail(env, "forward(handle, memory, x, rows, divisor, predicted, confidence, probabilities, first)");
  void* handle = nullptr;
  CHECK(napi_get_value_external(env, argv[0], &handle));
  State* s = static_cast<State*>(handle);
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!arrayBuffer(env, argv[1], &data, &length)) return nullptr;
  if (data != s->memory || length != s->memoryLength) return fail(env, "forward: not the memory this handle was made for");
  int32_t rows = 0;
  int32_t first = 0;
  double divisor = 0;
  CHECK(napi_get_value_int32(env, argv[3], &rows));
  CHECK(napi_get_value_double(env, argv[4], &divisor));
  CHECK(napi_get_value_int32(env, argv[8], &first));
  if (rows < 0 || rows > s->maxRows) return fail(env, "forward: rows must be in [0, maxRows]");
  if (first < 0) return fail(env, "forward: first must be non-negative");
  if (!(divisor >= 0) || divisor > 3.4e38) return fail(env, "forward: divisor must be 0 (floats) or positive (bytes)");
  uint8_t* base = data + s->shift;

  napi_valuetype kind;
  CHECK(napi_typeof(env, argv[2], &kind));
  const void* x = nullptr;
  if (kind == napi_null) {
    if (divisor != 0) return fail(env, "forward: the engine's own input rows are floats (divisor 0)");
    x = base + s->inputOffset;
  } else {
    void* raw = nullptr;
    size_t count = 0;
    const bool pixels = divisor > 0;
    if (!typedArray(env, argv[2], pixels ? napi_uint8_array : napi_float32_array, false, &raw, &count,
                    pixels ? "forward: pixels must be a Uint8Array" : "forward: x must be a Float32Array")) {
      return nullptr;
    }
    if (count < static_cast<size_t>(rows) * s->inputs) return fail(env, "forward: x holds fewer than rows x inputs values");
    x = raw;
  }
  void* predicted = nullptr;
  void* confidence = nullptr;
  void* probabilities = nullptr;
  size_t predictedCount = 0, confidenceCount = 0, probabilitiesCount = 0;
  if (!typedArray(env, argv[5], napi_int32_array, true, &predicted, &predictedCount, "forward: predicted must be an Int32Array or null")) return nullptr;
  if (predicted) {
    if (!typedArray(env, argv[6], napi_float32_array, false, &confidence, &confidenceCount, "forward: confidence must be a Float32Array") ||
        !typedArray(env, argv[7], napi_float32_array, true, &probabilities, &probabilitiesCount, "forward: probabilities must be a Float32Array or null")) {
      return nullptr;
    }
    const size_t end = static_cast<size_t>(first) + rows;
    if (predictedCount < end || confidenceCount < end) return fail(env, "forward: predicted/confidence hold fewer than first + rows values");
    if (probabilities && probabilitiesCount < end * s->outputs) return fail(env, "forward: probabilities holds fewer than (first + rows) x outputs values");
  }
  if (rows > 0) {
    const nnpipe::Net net{s->layerCount, s->layers, s->activation};
    const nnpipe::Scratch scratch{s->tile, s->vals, s->offs, s->listStride, s->blockStarts};
    float* logits = reinterpret_cast<float*>(base + s->logitsOffset);
    s->isa.forward(net, scratch, x, static_cast<float>(divisor), rows, logits);
    if (predicted) {
      nnpipe::finishRows(s->outputFunction, logits, rows, s->outputs, static_cast<int32_t*>(predicted) + first, static_cast<float*>(confidence) + first,
                         probabilities ? static_cast<float*>(probabilities) + static_cast<size_t>(first) * s->outputs : nullptr, s->exps);
    }
  }
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {
      {"isas", nullptr, Isas, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"alignment", nullptr, Alignment, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"create", nullptr, Create, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"forward", nullptr, Forward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"exp", nullptr, Exp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
