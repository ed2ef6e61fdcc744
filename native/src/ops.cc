// The op table: name -> a one-line call into ATen. Arguments arrive positionally from
// src/engine/tensor.ts; a scalar where a tensor may stand is accepted for the binary ops.
#include "pacer.h"

namespace pacer {

namespace {

at::Reduction::Reduction parseReduction(const Args& a, size_t i) {
  std::string r = a.has(i) ? a.Str(i) : "mean";
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw std::invalid_argument("reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// Binary op with broadcasting: tensor (op) tensor, or tensor (op) number.
#define BINARY(NAME, FN)                                              \
  t[NAME] = [](Args& a) -> Napi::Value {                              \
    if (a.isNum(1)) return a.R(FN(a.T(0), a.S(1)));                   \
    return a.R(FN(a.T(0), a.T(1)));                                   \
  }
#define UNARY(NAME, EXPR) \
  t[NAME] = [](Args& a) -> Napi::Value { const at::Tensor& x = a.T(0); return a.R(EXPR); }

}  // namespace

void registerOps(std::unordered_map<std::string, OpFn>& t) {
  // ---- elementwise unary
  UNARY("neg", at::neg(x));
  UNARY("exp", at::exp(x));
  UNARY("log", at::log(x));
  UNARY("log1p", at::log1p(x));
  UNARY("expm1", at::expm1(x));
  UNARY("sqrt", at::sqrt(x));
  UNARY("rsqrt", at::rsqrt(x));
  UNARY("tanh", at::tanh(x));
  UNARY("sigmoid", at::sigmoid(x));
  UNARY("logsigmoid", at::log_sigmoid(x));
  UNARY("relu", at::relu(x));
  UNARY("silu", at::silu(x));
  UNARY("abs", at::abs(x));
  UNARY("sign", at::sign(x));
  UNARY("sin", at::sin(x));
  UNARY("cos", at::cos(x));
  UNARY("erf", at::erf(x));
  UNARY("floor", at::floor(x));
  UNARY("ceil", at::ceil(x));
  UNARY("round", at::round(x));
  UNARY("reciprocal", at::reciprocal(x));
  UNARY("square", at::square(x));
  UNARY("logical_not", at::logical_not(x));
  UNARY("isnan", at::isnan(x));
  UNARY("isfinite", at::isfinite(x));
  UNARY("clone", x.clone());
  UNARY("contiguous", x.contiguous());
  UNARY("detach", x.detach());
  t["gelu"] = [](Args& a) -> Napi::Value {
    std::string approx = a.has(1) ? a.Str(1) : "none";
    if (approx != "none" && approx != "tanh") throw std::invalid_argument("gelu approximate must be 'none' or 'tanh'");
    return a.R(at::gelu(a.T(0), approx));
  };
  t["softplus"] = [](Args& a) -> Napi::Value { return a.R(at::softplus(a.T(0), a.D(1, 1.0), a.D(2, 20.0))); };
  t["clamp"] = [](Args& a) -> Napi::Value {
    if (!a.has(1) && !a.has(2)) throw std::invalid_argument("clamp needs a min or a max");
    return a.R(at::clamp(a.T(0), a.OS(1), a.OS(2)));
  };
  t["pow"] = [](Args& a) -> Napi::Value {
    if (a.isNum(1)) return a.R(at::pow(a.T(0), a.S(1)));
    return a.R(at::pow(a.T(0), a.T(1)));
  };

  // ---- elementwise binary (broadcasting)
  t["add"] = [](Args& a) -> Napi::Value {
    at::Scalar alpha = a.has(2) ? a.S(2) : at::Scalar(1);
    if (a.isNum(1)) return a.R(at::add(a.T(0), a.S(1), alpha));
    return a.R(at::add(a.T(0), a.T(1), alpha));
  };
  t["sub"] = [](Args& a) -> Napi::Value {
    at::Scalar alpha = a.has(2) ? a.S(2) : at::Scalar(1);
    if (a.isNum(1)) return a.R(at::sub(a.T(0), a.S(1), alpha));
    return a.R(at::sub(a.T(0), a.T(1), alpha));
  };
  t["rsub"] = [](Args& a) -> Napi::Value { return a.R(at::rsub(a.T(0), a.S(1))); };  // number - tensor
  BINARY("mul", at::mul);
  BINARY("div", at::div);
  BINARY("remainder", at::remainder);
  BINARY("eq", at::eq);
  BINARY("ne", at::ne);
  BINARY("lt", at::lt);
  BINARY("le", at::le);
  BINARY("gt", at::gt);
  BINARY("ge", at::ge);
  t["rdiv"] = [](Args& a) -> Napi::Value { return a.R(at::mul(at::reciprocal(a.T(0)), a.S(1))); };
  t["minimum"] = [](Args& a) -> Napi::Value { return a.R(at::minimum(a.T(0), a.T(1))); };
  t["maximum"] = [](Args& a) -> Napi::Value { return a.R(at::maximum(a.T(0), a.T(1))); };
  t["logical_and"] = [](Args& a) -> Napi::Value { return a.R(at::logical_and(a.T(0), a.T(1))); };
  t["logical_or"] = [](Args& a) -> Napi::Value { return a.R(at::logical_or(a.T(0), a.T(1))); };
  t["where"] = [](Args& a) -> Napi::Value {
    const at::Tensor& c = a.T(0);
    if (a.isNum(1) && a.isNum(2)) return a.R(at::where(c, a.S(1), a.S(2)));
    if (a.isNum(1)) return a.R(at::where(c, a.S(1), a.T(2)));
    if (a.isNum(2)) return a.R(at::where(c, a.T(1), a.S(2)));
    return a.R(at::where(c, a.T(1), a.T(2)));
  };
  t["masked_fill"] = [](Args& a) -> Napi::Value {
    if (a.isNum(2)) return a.R(at::masked_fill(a.T(0), a.T(1), a.S(2)));
    return a.R(at::masked_fill(a.T(0), a.T(1), a.T(2)));
  };

  // ---- reductions
  t["sum"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(at::sum(a.T(0), a.ODT(3)));
    return a.R(at::sum(a.T(0), a.IL(1), a.B(2, false), a.ODT(3)));
  };
  t["mean"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(at::mean(a.T(0)));
    return a.R(at::mean(a.T(0), a.IL(1), a.B(2, false)));
  };
  t["prod"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(at::prod(a.T(0)));
    return a.R(at::prod(a.T(0), a.I(1), a.B(2, false)));
  };
  t["max"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(at::max(a.T(0)));
    return a.R(at::max(a.T(0), a.I(1), a.B(2, false)));
  };
  t["min"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(at::min(a.T(0)));
    return a.R(at::min(a.T(0), a.I(1), a.B(2, false)));
  };
  t["amax"] = [](Args& a) -> Napi::Value { return a.R(at::amax(a.T(0), a.IL(1), a.B(2, false))); };
  t["amin"] = [](Args& a) -> Napi::Value { return a.R(at::amin(a.T(0), a.IL(1), a.B(2, false))); };
  t["argmax"] = [](Args& a) -> Napi::Value { return a.R(at::argmax(a.T(0), a.OI(1), a.B(2, false))); };
  t["argmin"] = [](Args& a) -> Napi::Value { return a.R(at::argmin(a.T(0), a.OI(1), a.B(2, false))); };
  t["logsumexp"] = [](Args& a) -> Napi::Value { return a.R(at::logsumexp(a.T(0), a.IL(1), a.B(2, false))); };
  t["var"] = [](Args& a) -> Napi::Value {
    at::OptionalIntArrayRef dims = c10::nullopt;
    std::vector<int64_t> d;
    if (a.has(1)) { d = a.IL(1); dims = d; }
    return a.R(at::var(a.T(0), dims, a.B(2, true), a.B(3, false)));
  };
  t["std"] = [](Args& a) -> Napi::Value {
    at::OptionalIntArrayRef dims = c10::nullopt;
    std::vector<int64_t> d;
    if (a.has(1)) { d = a.IL(1); dims = d; }
    return a.R(at::std(a.T(0), dims, a.B(2, true), a.B(3, false)));
  };
  t["cumsum"] = [](Args& a) -> Napi::Value { return a.R(at::cumsum(a.T(0), a.I(1), a.ODT(2))); };
  t["norm"] = [](Args& a) -> Napi::Value {
    at::OptionalIntArrayRef dims = c10::nullopt;
    std::vector<int64_t> d;
    if (a.has(2)) { d = a.IL(2); dims = d; }
    return a.R(at::linalg_vector_norm(a.T(0), a.S(1), dims, a.B(3, false), c10::nullopt));
  };
  t["topk"] = [](Args& a) -> Napi::Value {
    return a.R(at::topk(a.T(0), a.I(1), a.I(2, -1), a.B(3, true), a.B(4, true)));
  };
  t["sort"] = [](Args& a) -> Napi::Value { return a.R(at::sort(a.T(0), a.I(1, -1), a.B(2, false))); };
  t["any"] = [](Args& a) -> Napi::Value { return a.R(at::any(a.T(0))); };
  t["all"] = [](Args& a) -> Napi::Value { return a.R(at::all(a.T(0))); };

  // ---- linear algebra and nn functions
  t["matmul"] = [](Args& a) -> Napi::Value { return a.R(at::matmul(a.T(0), a.T(1))); };
  t["mm"] = [](Args& a) -> Napi::Value { return a.R(at::mm(a.T(0), a.T(1))); };
  t["bmm"] = [](Args& a) -> Napi::Value { return a.R(at::bmm(a.T(0), a.T(1))); };
  t["baddbmm"] = [](Args& a) -> Napi::Value {
    return a.R(at::baddbmm(a.T(0), a.T(1), a.T(2), a.S(3), a.S(4)));
  };
  t["linear"] = [](Args& a) -> Napi::Value { return a.R(at::linear(a.T(0), a.T(1), a.OT(2))); };
  t["einsum"] = [](Args& a) -> Napi::Value { return a.R(at::einsum(a.Str(0), a.TL(1))); };
  t["softmax"] = [](Args& a) -> Napi::Value { return a.R(at::softmax(a.T(0), a.I(1), a.ODT(2))); };
  t["log_softmax"] = [](Args& a) -> Napi::Value { return a.R(at::log_softmax(a.T(0), a.I(1), a.ODT(2))); };
  t["layer_norm"] = [](Args& a) -> Napi::Value {
    return a.R(at::layer_norm(a.T(0), a.IL(1), a.OT(2), a.OT(3), a.D(4, 1e-5), true));
  };
  t["embedding"] = [](Args& a) -> Napi::Value { return a.R(at::embedding(a.T(0), a.T(1), a.I(2, -1))); };
  t["cross_entropy"] = [](Args& a) -> Napi::Value {
    return a.R(at::cross_entropy_loss(a.T(0), a.T(1), c10::nullopt, parseReduction(a, 3), a.I(2, -100), a.D(4, 0.0)));
  };
  t["dropout"] = [](Args& a) -> Napi::Value {
    double p = a.D(1);
    bool train = a.B(2, true);
    auto gen = a.Gen(3);
    const at::Tensor& x = a.T(0);
    if (!train || p == 0.0) return a.R(x);
    if (p >= 1.0) return a.R(x * 0.0);
    at::Tensor mask = at::empty_like(x, x.options().requires_grad(false)).bernoulli_(1.0 - p, gen);
    return a.R(x * mask / (1.0 - p));
  };
  t["multinomial"] = [](Args& a) -> Napi::Value {
    return a.R(at::multinomial(a.T(0), a.I(1), a.B(2, false), a.Gen(3)));
  };
  t["one_hot"] = [](Args& a) -> Napi::Value { return a.R(at::one_hot(a.T(0), a.I(1, -1))); };
  // F.interpolate(x, size, mode="bicubic", antialias=True): the resize of torchvision and HF's fast processors
  t["upsample_bicubic2d_aa"] = [](Args& a) -> Napi::Value {
    return a.R(at::_upsample_bicubic2d_aa(a.T(0), a.IL(1), a.B(2, false), c10::nullopt, c10::nullopt));
  };

  // ---- views, indexing, joining
  t["reshape"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).reshape(a.IL(1))); };
  t["view"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).view(a.IL(1))); };
  t["permute"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).permute(a.IL(1))); };
  t["transpose"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).transpose(a.I(1), a.I(2))); };
  t["narrow"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).narrow(a.I(1), a.I(2), a.I(3))); };
  t["slice"] = [](Args& a) -> Napi::Value {
    return a.R(a.T(0).slice(a.I(1), a.OI(2), a.OI(3), a.I(4, 1)));
  };
  t["select"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).select(a.I(1), a.I(2))); };
  t["squeeze"] = [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.R(a.T(0).squeeze());
    return a.R(a.T(0).squeeze(a.I(1)));
  };
  t["unsqueeze"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).unsqueeze(a.I(1))); };
  t["flatten"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).flatten(a.I(1, 0), a.I(2, -1))); };
  t["expand"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).expand(a.IL(1))); };
  t["repeat"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).repeat(a.IL(1))); };
  t["flip"] = [](Args& a) -> Napi::Value { return a.R(at::flip(a.T(0), a.IL(1))); };
  t["index_select"] = [](Args& a) -> Napi::Value { return a.R(at::index_select(a.T(0), a.I(1), a.T(2))); };
  t["gather"] = [](Args& a) -> Napi::Value { return a.R(at::gather(a.T(0), a.I(1), a.T(2))); };
  t["scatter_add"] = [](Args& a) -> Napi::Value { return a.R(at::scatter_add(a.T(0), a.I(1), a.T(2), a.T(3))); };
  t["scatter"] = [](Args& a) -> Napi::Value {
    if (a.isNum(3)) return a.R(at::scatter(a.T(0), a.I(1), a.T(2), a.S(3)));
    return a.R(at::scatter(a.T(0), a.I(1), a.T(2), a.T(3)));
  };
  t["masked_select"] = [](Args& a) -> Napi::Value { return a.R(at::masked_select(a.T(0), a.T(1))); };
  t["cat"] = [](Args& a) -> Napi::Value { return a.R(at::cat(a.TL(0), a.I(1, 0))); };
  t["stack"] = [](Args& a) -> Napi::Value { return a.R(at::stack(a.TL(0), a.I(1, 0))); };
  t["split"] = [](Args& a) -> Napi::Value {
    if (a.isNum(1)) return a.R(at::split(a.T(0), a.I(1), a.I(2, 0)));
    return a.R(at::split_with_sizes(a.T(0), a.IL(1), a.I(2, 0)));
  };
  t["chunk"] = [](Args& a) -> Napi::Value { return a.R(at::chunk(a.T(0), a.I(1), a.I(2, 0))); };
  t["tril"] = [](Args& a) -> Napi::Value { return a.R(at::tril(a.T(0), a.I(1, 0))); };
  t["triu"] = [](Args& a) -> Napi::Value { return a.R(at::triu(a.T(0), a.I(1, 0))); };

  // ---- conversions
  t["to_dtype"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).to(a.DT(1))); };
  t["to_device"] = [](Args& a) -> Napi::Value { return a.R(a.T(0).to(at::Device(a.Str(1)))); };

  // ---- in-place (optimizers, initialisers); return nothing
  auto none = [](Args& a) -> Napi::Value { return a.env().Undefined(); };
  t["add_"] = [none](Args& a) -> Napi::Value {
    at::Scalar alpha = a.has(2) ? a.S(2) : at::Scalar(1);
    if (a.isNum(1)) a.T(0).add_(a.S(1), alpha); else a.T(0).add_(a.T(1), alpha);
    return none(a);
  };
  t["mul_"] = [none](Args& a) -> Napi::Value {
    if (a.isNum(1)) a.T(0).mul_(a.S(1)); else a.T(0).mul_(a.T(1));
    return none(a);
  };
  t["div_"] = [none](Args& a) -> Napi::Value {
    if (a.isNum(1)) a.T(0).div_(a.S(1)); else a.T(0).div_(a.T(1));
    return none(a);
  };
  t["addcmul_"] = [none](Args& a) -> Napi::Value { a.T(0).addcmul_(a.T(1), a.T(2), a.S(3)); return none(a); };
  t["addcdiv_"] = [none](Args& a) -> Napi::Value { a.T(0).addcdiv_(a.T(1), a.T(2), a.S(3)); return none(a); };
  t["lerp_"] = [none](Args& a) -> Napi::Value { a.T(0).lerp_(a.T(1), a.S(2)); return none(a); };
  t["sqrt_"] = [none](Args& a) -> Napi::Value { a.T(0).sqrt_(); return none(a); };
  t["copy_"] = [none](Args& a) -> Napi::Value { a.T(0).copy_(a.T(1)); return none(a); };
  t["fill_"] = [none](Args& a) -> Napi::Value { a.T(0).fill_(a.S(1)); return none(a); };
  t["zero_"] = [none](Args& a) -> Napi::Value { a.T(0).zero_(); return none(a); };
  t["clamp_"] = [none](Args& a) -> Napi::Value { a.T(0).clamp_(a.OS(1), a.OS(2)); return none(a); };
  t["masked_fill_"] = [none](Args& a) -> Napi::Value { a.T(0).masked_fill_(a.T(1), a.S(2)); return none(a); };
  t["normal_"] = [none](Args& a) -> Napi::Value { a.T(0).normal_(a.D(1, 0.0), a.D(2, 1.0), a.Gen(3)); return none(a); };
  t["uniform_"] = [none](Args& a) -> Napi::Value { a.T(0).uniform_(a.D(1, 0.0), a.D(2, 1.0), a.Gen(3)); return none(a); };
}

}  // namespace pacer
