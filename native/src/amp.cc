// Mixed precision and device glue: libtorch's autocast state (torch.autocast's C++ side: matmuls
// and the other listed ops run in bfloat16/float16 while the weights stay float32), CUDA
// synchronisation for timing, and libtorch's fused AdamW kernel where the build has one.
//   amp('autocast', device, dtype|null) -> previous dtype or null   enable (dtype) or disable (null)
//   amp('synchronize')                                              wait for the CUDA device
//   amp('fusedAdamW') -> bool                                       whether fused_adamw_ is in the op table
// autocast's API changed in libtorch 2.4 (per device type); both are handled. PACER_FUSED_ADAMW is
// set by native/torch-paths.cjs when the headers declare at::_fused_adamw_ (libtorch 2.x).
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>

#include "pacer.h"

namespace pacer {

namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocastOn(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
at::ScalarType autocastDtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void setAutocast(at::DeviceType d, bool on, at::ScalarType t) {
  if (on) at::autocast::set_autocast_dtype(d, t);
  at::autocast::set_autocast_enabled(d, on);
}
#else
bool autocastOn(at::DeviceType d) {
  return d == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
at::ScalarType autocastDtype(at::DeviceType d) {
  return d == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void setAutocast(at::DeviceType d, bool on, at::ScalarType t) {
  if (d == at::kCUDA) {
    if (on) at::autocast::set_autocast_gpu_dtype(t);
    at::autocast::set_enabled(on);
  } else {
    if (on) at::autocast::set_autocast_cpu_dtype(t);
    at::autocast::set_cpu_enabled(on);
  }
}
#endif

Napi::Value autocast(Args& a) {
  std::string dev = a.Str(0);
  if (dev != "cpu" && dev != "cuda") throw std::invalid_argument("autocast device must be 'cpu' or 'cuda', got '" + dev + "'");
  at::DeviceType d = dev == "cuda" ? at::kCUDA : at::kCPU;
  Napi::Value prev = autocastOn(d) ? Napi::String::New(a.env(), dtypeName(autocastDtype(d))) : a.env().Null();
  if (a.has(1)) {
    at::ScalarType t = a.DT(1);
    if (t != at::kBFloat16 && t != at::kHalf) throw std::invalid_argument("autocast dtype must be bfloat16 or float16");
    if (d == at::kCPU && t != at::kBFloat16 && TORCH_VERSION_MAJOR < 2)
      throw std::invalid_argument("CPU autocast in libtorch " TORCH_VERSION " runs bfloat16 only");
    if (!autocastOn(d)) at::autocast::increment_nesting();
    setAutocast(d, true, t);
  } else {
    if (!autocastOn(d)) return prev;
    setAutocast(d, false, at::kBFloat16);
    // the cast weights autocast cached for this region are freed when the outermost region ends
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  }
  return prev;
}

}  // namespace

Napi::Value Amp(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "pacer: amp needs a call name");
  std::string what = info[0].As<Napi::String>().Utf8Value();
  return guardedCall(info, what, 1, [&]() -> Napi::Value {
    Args a(info, what, 1);
    if (what == "autocast") return autocast(a);
    if (what == "synchronize") {
      if (torch::cuda::is_available()) torch::cuda::synchronize();
      return a.env().Undefined();
    }
    if (what == "fusedAdamW") {
#ifdef PACER_FUSED_ADAMW
      return Napi::Boolean::New(a.env(), true);
#else
      return Napi::Boolean::New(a.env(), false);
#endif
    }
    throw std::invalid_argument("unknown amp call '" + what + "'");
  });
}

void registerAmpOps(std::unordered_map<std::string, OpFn>& t) {
#ifdef PACER_FUSED_ADAMW
  // fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, weight_decay, eps):
  // torch.optim.AdamW(fused=True)'s kernel; the caller has already added 1 to each step
  t["fused_adamw_"] = [](Args& a) -> Napi::Value {
    std::vector<at::Tensor> p = a.TL(0), g = a.TL(1), m = a.TL(2), v = a.TL(3), s = a.TL(4), none;
    at::_fused_adamw_(p, g, m, v, none, s, a.D(5), a.D(6), a.D(7), a.D(8), a.D(9), false, false);
    return a.env().Undefined();
  };
#else
  (void)t;
#endif
}

}  // namespace pacer
