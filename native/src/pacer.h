// pacer native glue: shared declarations. This addon only dispatches ops to libtorch, converts
// errors and manages memory; all ML logic lives in TypeScript.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pacer {

constexpr uint32_t kTensorMagic = 0x7e4501a5;
constexpr uint32_t kGenMagic = 0x6e4e7a11;

// A JS handle owns one Box. dispose() resets the tensor (freeing its memory when no view or
// autograd graph still holds it); the GC finalizer deletes the box itself.
struct Box {
  uint32_t magic = kTensorMagic;
  at::Tensor t;
  int64_t bytes = 0;  // reported to V8 as external memory while alive
  bool alive = true;
};

struct GenBox {
  uint32_t magic = kGenMagic;
  at::Generator g;
};

Napi::Value wrap(Napi::Env env, const at::Tensor& t);
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);
at::ScalarType parseDtype(const std::string& s);
std::string dtypeName(at::ScalarType t);
std::string describeArgs(const Napi::CallbackInfo& info, size_t from);

// Argument access for ops; every accessor throws a TypeError naming the op and argument position.
struct Args {
  const Napi::CallbackInfo& info;
  const std::string& op;
  size_t base;  // index of the first op argument in info
  Args(const Napi::CallbackInfo& i, const std::string& o, size_t b) : info(i), op(o), base(b) {}
  Napi::Env env() const { return info.Env(); }
  size_t size() const { return info.Length() - base; }
  Napi::Value at(size_t i) const { return info[base + i]; }
  bool has(size_t i) const { return base + i < info.Length() && !info[base + i].IsUndefined() && !info[base + i].IsNull(); }
  bool isNum(size_t i) const { return has(i) && (at(i).IsNumber() || at(i).IsBoolean()); }
  bool isTensor(size_t i) const;
  [[noreturn]] void fail(size_t i, const char* expected) const;
  at::Tensor& T(size_t i) const;
  c10::optional<at::Tensor> OT(size_t i) const;
  std::vector<at::Tensor> TL(size_t i) const;
  double D(size_t i) const;
  double D(size_t i, double dflt) const { return has(i) ? D(i) : dflt; }
  int64_t I(size_t i) const;
  int64_t I(size_t i, int64_t dflt) const { return has(i) ? I(i) : dflt; }
  c10::optional<int64_t> OI(size_t i) const { return has(i) ? c10::optional<int64_t>(I(i)) : c10::nullopt; }
  bool B(size_t i) const;
  bool B(size_t i, bool dflt) const { return has(i) ? B(i) : dflt; }
  std::vector<int64_t> IL(size_t i) const;
  at::Scalar S(size_t i) const;
  c10::optional<at::Scalar> OS(size_t i) const { return has(i) ? c10::optional<at::Scalar>(S(i)) : c10::nullopt; }
  std::string Str(size_t i) const;
  at::ScalarType DT(size_t i) const { return parseDtype(Str(i)); }
  c10::optional<at::ScalarType> ODT(size_t i) const { return has(i) ? c10::optional<at::ScalarType>(DT(i)) : c10::nullopt; }
  c10::optional<at::Generator> Gen(size_t i) const;
  Napi::Value R(const at::Tensor& t) const { return wrap(env(), t); }
  Napi::Value R(const std::vector<at::Tensor>& ts) const { return wrapList(env(), ts); }
  Napi::Value R(const std::tuple<at::Tensor, at::Tensor>& p) const {
    return wrapList(env(), {std::get<0>(p), std::get<1>(p)});
  }
};

using OpFn = std::function<Napi::Value(Args&)>;
void registerOps(std::unordered_map<std::string, OpFn>& table);

// Run fn, turning any C++ exception into a JS Error that names the op and its inputs (from `from`).
Napi::Value guardedCall(const Napi::CallbackInfo& info, const std::string& op, size_t from,
                        const std::function<Napi::Value()>& fn);
// dist(what, ...): c10d process groups (dist.cc).
Napi::Value Dist(const Napi::CallbackInfo& info);
// amp(what, ...): autocast state, CUDA synchronisation (amp.cc); its ops (fused AdamW) join the op table.
Napi::Value Amp(const Napi::CallbackInfo& info);
void registerAmpOps(std::unordered_map<std::string, OpFn>& table);

}  // namespace pacer
