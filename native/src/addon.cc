// pacer native addon: tensor handles, creation and copies, autograd entry points, threads/BLAS
// control, memory accounting and the op dispatcher (ops.cc holds the op table).
#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <sstream>

#include "pacer.h"

namespace pacer {

namespace {
std::atomic<int64_t> gLive{0};
std::atomic<int64_t> gBytes{0};
std::unordered_map<std::string, OpFn> gOps;

int64_t tensorBytes(const at::Tensor& t) {
  return t.defined() ? static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size()) : 0;
}

void release(Napi::Env env, Box* b) {
  if (!b->alive) return;
  b->alive = false;
  b->t.reset();
  gLive--;
  gBytes -= b->bytes;
  if (env) Napi::MemoryManagement::AdjustExternalMemory(env, -b->bytes);
  b->bytes = 0;
}

std::string shapeStr(at::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); i++) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

// A tensor handle is a plain JS object wrapped (napi_wrap) around a Box. dispose() unwraps it
// (napi_remove_wrap), which frees the Box at once and cancels the GC finalizer; only handles that
// were never disposed wait for the garbage collector (whose finalizers Node may defer until the
// event loop turns, so a long synchronous loop relying on them would grow).
Box* boxOf(const Napi::Value& v) {
  if (!v.IsObject() || v.IsArray()) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(v.Env(), v, &p) != napi_ok || !p) return nullptr;
  auto* b = static_cast<Box*>(p);
  return b->magic == kTensorMagic ? b : nullptr;
}

// Translate any C++ exception into a JS Error that names the op and its inputs.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& op, size_t from, F&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    auto nl = msg.find("\nException raised from");
    if (nl != std::string::npos) msg = msg.substr(0, nl);
    throw Napi::Error::New(info.Env(), "pacer: " + op + "(" + describeArgs(info, from) + ") failed: " + msg);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), "pacer: " + op + "(" + describeArgs(info, from) + ") failed: " + e.what());
  }
}
}  // namespace

Napi::Value guardedCall(const Napi::CallbackInfo& info, const std::string& op, size_t from,
                        const std::function<Napi::Value()>& fn) {
  return guarded(info, op, from, fn);
}

// ---------------------------------------------------------------- handles and argument access
Napi::Value wrap(Napi::Env env, const at::Tensor& t) {
  auto* b = new Box();
  b->t = t;
  b->bytes = tensorBytes(t);
  gLive++;
  gBytes += b->bytes;
  Napi::MemoryManagement::AdjustExternalMemory(env, b->bytes);
  napi_value obj;
  NAPI_THROW_IF_FAILED(env, napi_create_object(env, &obj), Napi::Value());
  napi_status st = napi_wrap(env, obj, b, [](napi_env e, void* data, void*) {
    auto* bx = static_cast<Box*>(data);
    release(Napi::Env(e), bx);
    delete bx;
  }, nullptr, nullptr);
  if (st != napi_ok) {
    release(env, b);
    delete b;
    NAPI_THROW_IF_FAILED(env, st, Napi::Value());
  }
  return Napi::Value(env, obj);
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(static_cast<uint32_t>(i), wrap(env, ts[i]));
  return arr;
}

at::ScalarType parseDtype(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "float16") return at::kHalf;
  if (s == "bfloat16") return at::kBFloat16;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "int16") return at::kShort;
  if (s == "int8") return at::kChar;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + s +
                              "' (expected float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8 or bool)");
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

std::string describeArgs(const Napi::CallbackInfo& info, size_t from) {
  std::ostringstream o;
  for (size_t i = from; i < info.Length(); i++) {
    if (i > from) o << ", ";
    Napi::Value v = info[i];
    if (Box* b = boxOf(v)) {
      if (!b->alive) o << "<disposed tensor>";
      else if (!b->t.defined()) o << "<undefined tensor>";
      else o << shapeStr(b->t.sizes()) << " " << dtypeName(b->t.scalar_type())
             << (b->t.is_cuda() ? " cuda" : "");
    } else if (v.IsNumber()) {
      o << v.As<Napi::Number>().DoubleValue();
    } else if (v.IsString()) {
      o << "'" << v.As<Napi::String>().Utf8Value() << "'";
    } else if (v.IsBoolean()) {
      o << (v.As<Napi::Boolean>().Value() ? "true" : "false");
    } else if (v.IsArray()) {
      Napi::Array arr = v.As<Napi::Array>();
      o << "[";
      for (uint32_t k = 0; k < arr.Length(); k++) {
        Napi::Value e = arr.Get(k);
        if (k) o << ",";
        if (Box* eb = boxOf(e)) o << (eb->alive ? shapeStr(eb->t.sizes()) : "<disposed>");
        else if (e.IsNumber()) o << e.As<Napi::Number>().Int64Value();
        else o << "?";
      }
      o << "]";
    } else if (v.IsNull() || v.IsUndefined()) {
      o << "null";
    } else {
      o << "?";
    }
  }
  return o.str();
}

void Args::fail(size_t i, const char* expected) const {
  throw Napi::TypeError::New(env(), "pacer: " + op + ": argument " + std::to_string(i) + " must be " + expected);
}

bool Args::isTensor(size_t i) const { return has(i) && boxOf(at(i)) != nullptr; }

at::Tensor& Args::T(size_t i) const {
  if (!has(i)) fail(i, "a tensor");
  Box* b = boxOf(at(i));
  if (!b) fail(i, at(i).IsObject() ? "a live tensor (this one was disposed, or is not a tensor)" : "a tensor");
  if (!b->alive)
    throw Napi::Error::New(env(), "pacer: " + op + ": argument " + std::to_string(i) +
                                      " is a tensor that was already disposed (keep it out of the scope or clone it)");
  return b->t;
}

c10::optional<at::Tensor> Args::OT(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return T(i);
}

std::vector<at::Tensor> Args::TL(size_t i) const {
  if (!has(i) || !at(i).IsArray()) fail(i, "an array of tensors");
  Napi::Array arr = at(i).As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Box* b = boxOf(arr.Get(k));
    if (!b) fail(i, "an array of tensors");
    if (!b->alive) throw Napi::Error::New(env(), "pacer: " + op + ": a tensor in argument " + std::to_string(i) + " was already disposed");
    out.push_back(b->t);
  }
  return out;
}

double Args::D(size_t i) const {
  if (!has(i) || !at(i).IsNumber()) fail(i, "a number");
  return at(i).As<Napi::Number>().DoubleValue();
}

int64_t Args::I(size_t i) const {
  if (!has(i) || !at(i).IsNumber()) fail(i, "an integer");
  double d = at(i).As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) fail(i, "an integer");
  return static_cast<int64_t>(d);
}

bool Args::B(size_t i) const {
  if (!has(i) || !at(i).IsBoolean()) fail(i, "a boolean");
  return at(i).As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::IL(size_t i) const {
  if (has(i) && at(i).IsNumber()) return {I(i)};
  if (!has(i) || !at(i).IsArray()) fail(i, "an array of integers");
  Napi::Array arr = at(i).As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) fail(i, "an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) fail(i, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

at::Scalar Args::S(size_t i) const {
  if (has(i) && at(i).IsBoolean()) return at::Scalar(at(i).As<Napi::Boolean>().Value());
  double d = D(i);
  if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9.0e15) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

std::string Args::Str(size_t i) const {
  if (!has(i) || !at(i).IsString()) fail(i, "a string");
  return at(i).As<Napi::String>().Utf8Value();
}

c10::optional<at::Generator> Args::Gen(size_t i) const {
  if (!has(i)) return c10::nullopt;
  if (!at(i).IsExternal()) fail(i, "a Generator");
  auto* g = at(i).As<Napi::External<GenBox>>().Data();
  if (!g || g->magic != kGenMagic) fail(i, "a Generator");
  return g->g;
}

// ---------------------------------------------------------------- exported functions
namespace {

at::TensorOptions optionsFrom(const Args& a, size_t dtypeIdx, size_t deviceIdx) {
  at::TensorOptions o = at::TensorOptions().dtype(a.has(dtypeIdx) ? a.DT(dtypeIdx) : at::kFloat);
  if (a.has(deviceIdx)) o = o.device(at::Device(a.Str(deviceIdx)));
  return o;
}

// call(opName, ...args)
Napi::Value Call(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "pacer: call needs an op name");
  std::string op = info[0].As<Napi::String>().Utf8Value();
  auto it = gOps.find(op);
  if (it == gOps.end()) throw Napi::Error::New(info.Env(), "pacer: unknown op '" + op + "'");
  return guarded(info, op, 1, [&]() {
    Args a(info, op, 1);
    return it->second(a);
  });
}

// create(kind, shape, dtype, device, a, b, generator)
Napi::Value Create(const Napi::CallbackInfo& info) {
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  return guarded(info, kind, 1, [&]() -> Napi::Value {
    Args a(info, kind, 1);
    auto opts = optionsFrom(a, 1, 2);
    if (kind == "zeros") return a.R(at::zeros(a.IL(0), opts));
    if (kind == "ones") return a.R(at::ones(a.IL(0), opts));
    if (kind == "empty") return a.R(at::empty(a.IL(0), opts));
    if (kind == "full") return a.R(at::full(a.IL(0), a.S(3), opts));
    if (kind == "randn") return a.R(at::randn(a.IL(0), a.Gen(6), opts));
    if (kind == "rand") return a.R(at::rand(a.IL(0), a.Gen(6), opts));
    if (kind == "randint") return a.R(at::randint(a.I(4), a.I(5), a.IL(0), a.Gen(6), opts));
    if (kind == "arange") return a.R(at::arange(a.S(3), a.S(4), a.S(5), opts));
    if (kind == "eye") return a.R(at::eye(a.I(0), opts));
    throw std::invalid_argument("unknown constructor '" + kind + "'");
  });
}

// fromBuffer(typedArrayOrArrayBuffer, shape, dtype, device): copies.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, "fromBuffer", 1, [&]() -> Napi::Value {
    Args a(info, "fromBuffer", 0);
    void* ptr = nullptr;
    size_t len = 0;
    if (info[0].IsTypedArray()) {
      auto ta = info[0].As<Napi::TypedArray>();
      ptr = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      len = ta.ByteLength();
    } else if (info[0].IsArrayBuffer()) {
      auto ab = info[0].As<Napi::ArrayBuffer>();
      ptr = ab.Data();
      len = ab.ByteLength();
    } else {
      a.fail(0, "a TypedArray or ArrayBuffer");
    }
    auto shape = a.IL(1);
    auto dt = a.DT(2);
    int64_t n = 1;
    for (auto s : shape) n *= s;
    size_t need = static_cast<size_t>(n) * c10::elementSize(dt);
    if (need != len)
      throw std::invalid_argument("buffer holds " + std::to_string(len) + " bytes but shape " + shapeStr(shape) + " of " +
                                  dtypeName(dt) + " needs " + std::to_string(need));
    at::Tensor t = n == 0 ? at::empty(shape, at::TensorOptions().dtype(dt))
                          : at::from_blob(ptr, shape, at::TensorOptions().dtype(dt)).clone();
    if (a.has(3) && a.Str(3) != "cpu") t = t.to(at::Device(a.Str(3)));
    return a.R(t);
  });
}

// toBuffer(t): a fresh ArrayBuffer holding a contiguous CPU copy.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, "toBuffer", 0, [&]() -> Napi::Value {
    Args a(info, "toBuffer", 0);
    at::Tensor c = a.T(0).detach().to(at::kCPU).contiguous();
    size_t nb = static_cast<size_t>(c.numel()) * c.element_size();
    auto ab = Napi::ArrayBuffer::New(info.Env(), nb);
    if (nb) std::memcpy(ab.Data(), c.data_ptr(), nb);
    return ab;
  });
}

// dataView(t): an ArrayBuffer over the tensor's own memory (CPU, contiguous), no copy. The view
// keeps the storage alive until it is garbage-collected.
Napi::Value DataView(const Napi::CallbackInfo& info) {
  return guarded(info, "dataView", 0, [&]() -> Napi::Value {
    Args a(info, "dataView", 0);
    const at::Tensor& t = a.T(0);
    if (!t.is_cpu() || !t.is_contiguous())
      throw std::invalid_argument("dataView needs a contiguous CPU tensor (call .contiguous() / .to('cpu') first)");
    size_t nb = static_cast<size_t>(t.numel()) * t.element_size();
    if (nb == 0) return Napi::ArrayBuffer::New(info.Env(), 0);
    auto* keep = new at::Tensor(t.detach());
    return Napi::ArrayBuffer::New(info.Env(), t.data_ptr(), nb, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  });
}

Napi::Value Meta(const Napi::CallbackInfo& info) {
  Args a(info, "meta", 0);
  const at::Tensor& t = a.T(0);
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  Napi::Array shape = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
  out.Set(0u, shape);
  out.Set(1u, Napi::String::New(info.Env(), dtypeName(t.scalar_type())));
  out.Set(2u, Napi::String::New(info.Env(), t.device().str()));
  return out;
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guarded(info, "item", 0, [&]() -> Napi::Value {
    Args a(info, "item", 0);
    const at::Tensor& t = a.T(0);
    if (t.numel() != 1) throw std::invalid_argument("item() needs a tensor with one element, got shape " + shapeStr(t.sizes()));
    at::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
    return Napi::Number::New(info.Env(), s.to<double>());
  });
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Box* b = boxOf(info[0]);
  if (!b) return info.Env().Undefined();
  void* p = nullptr;
  napi_remove_wrap(info.Env(), info[0], &p);  // cancels the finalizer
  release(info.Env(), b);
  delete b;
  return info.Env().Undefined();
}

Napi::Value IsAlive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), boxOf(info[0]) != nullptr);
}

// ---- autograd
Napi::Value Autograd(const Napi::CallbackInfo& info) {
  std::string what = info[0].As<Napi::String>().Utf8Value();
  return guarded(info, what, 1, [&]() -> Napi::Value {
    Args a(info, what, 1);
    Napi::Env env = info.Env();
    if (what == "backward") {
      a.T(0).backward(a.has(1) ? a.T(1) : at::Tensor(), a.B(2, false), false);
      return env.Undefined();
    }
    if (what == "grad") {
      const at::Tensor& g = a.T(0).grad();
      return g.defined() ? a.R(g) : env.Null();
    }
    if (what == "setGrad") {
      if (a.has(1)) a.T(0).mutable_grad() = a.T(1);
      else a.T(0).mutable_grad().reset();
      return env.Undefined();
    }
    if (what == "requiresGrad") return Napi::Boolean::New(env, a.T(0).requires_grad());
    if (what == "setRequiresGrad") { a.T(0).requires_grad_(a.B(1)); return env.Undefined(); }
    if (what == "isLeaf") return Napi::Boolean::New(env, a.T(0).is_leaf());
    if (what == "retainGrad") { a.T(0).retain_grad(); return env.Undefined(); }
    if (what == "gradFn") {
      auto fn = a.T(0).grad_fn();
      return fn ? Napi::String::New(env, fn->name()) : env.Null();
    }
    if (what == "isGradEnabled") return Napi::Boolean::New(env, at::GradMode::is_enabled());
    if (what == "setGradEnabled") { at::GradMode::set_enabled(a.B(0)); return env.Undefined(); }
    throw std::invalid_argument("unknown autograd call '" + what + "'");
  });
}

// ---- random generators
Napi::Value NewGenerator(const Napi::CallbackInfo& info) {
  Args a(info, "Generator", 0);
  auto* g = new GenBox();
  g->g = at::detail::createCPUGenerator(static_cast<uint64_t>(a.I(0)));
  return Napi::External<GenBox>::New(info.Env(), g, [](Napi::Env, GenBox* gb) { delete gb; });
}

Napi::Value GeneratorState(const Napi::CallbackInfo& info) {
  // get: generatorState(gen) -> tensor(uint8);  set: generatorState(gen, tensor)
  return guarded(info, "generatorState", 0, [&]() -> Napi::Value {
    Args a(info, "generatorState", 0);
    at::Generator g = a.has(0) ? *a.Gen(0) : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(g.mutex());
    if (a.has(1)) { g.set_state(a.T(1)); return info.Env().Undefined(); }
    return a.R(g.get_state());
  });
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Args a(info, "manualSeed", 0);
  torch::manual_seed(static_cast<uint64_t>(a.I(0)));
  return info.Env().Undefined();
}

// ---- threads and BLAS
void* blasHandle() {
  static void* h = []() -> void* {
    const char* names[] = {"libopenblas.so.0", "libblas.so.3", "libopenblas.so"};
    for (const char* n : names) {
      void* p = dlopen(n, RTLD_NOLOAD | RTLD_LAZY);
      if (p && dlsym(p, "openblas_get_config")) return p;
    }
    return nullptr;
  }();
  return h;
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, "threads", 0);
  if (a.has(0)) {
    int64_t n = a.I(0);
    if (n < 1) a.fail(0, "a positive integer");
    at::set_num_threads(static_cast<int>(n));
  }
  if (a.has(1)) {
    int64_t n = a.I(1);
    if (void* h = blasHandle()) {
      if (auto fn = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"))) fn(static_cast<int>(n));
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("intraOp", Napi::Number::New(env, at::get_num_threads()));
  o.Set("interOp", Napi::Number::New(env, at::get_num_interop_threads()));
  int blasThreads = -1;
  std::string blas = "unknown (not OpenBLAS)";
  if (void* h = blasHandle()) {
    if (auto fn = reinterpret_cast<int (*)()>(dlsym(h, "openblas_get_num_threads"))) blasThreads = fn();
    std::string cfg, core;
    if (auto fn = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"))) cfg = fn();
    if (auto fn = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"))) core = fn();
    int par = -1;
    if (auto fn = reinterpret_cast<int (*)()>(dlsym(h, "openblas_get_parallel"))) par = fn();
    blas = "OpenBLAS " + cfg + " core=" + core + (par == 2 ? " threading=openmp" : par == 1 ? " threading=pthreads" : par == 0 ? " threading=none" : "");
  }
  o.Set("blasThreads", Napi::Number::New(env, blasThreads));
  o.Set("blas", Napi::String::New(env, blas));
  return o;
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveTensors", Napi::Number::New(env, static_cast<double>(gLive.load())));
  o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(gBytes.load())));
  return o;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  o.Set("cuda", Napi::Boolean::New(env, torch::cuda::is_available()));
  o.Set("cudaDevices", Napi::Number::New(env, static_cast<double>(torch::cuda::device_count())));
  o.Set("parallelInfo", Napi::String::New(env, at::get_parallel_info()));
  return o;
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Array arr = Napi::Array::New(info.Env(), gOps.size());
  uint32_t i = 0;
  for (auto& kv : gOps) arr.Set(i++, Napi::String::New(info.Env(), kv.first));
  return arr;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerOps(gOps);
  registerAmpOps(gOps);
  exports.Set("call", Napi::Function::New(env, Call));
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  exports.Set("dataView", Napi::Function::New(env, DataView));
  exports.Set("meta", Napi::Function::New(env, Meta));
  exports.Set("item", Napi::Function::New(env, Item));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("isAlive", Napi::Function::New(env, IsAlive));
  exports.Set("autograd", Napi::Function::New(env, Autograd));
  exports.Set("generator", Napi::Function::New(env, NewGenerator));
  exports.Set("generatorState", Napi::Function::New(env, GeneratorState));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("opNames", Napi::Function::New(env, OpNames));
  exports.Set("dist", Napi::Function::New(env, Dist));
  exports.Set("amp", Napi::Function::New(env, Amp));
  return exports;
}

}  // namespace pacer

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return pacer::Init(env, exports); }
NODE_API_MODULE(pacer_native, InitAddon)
