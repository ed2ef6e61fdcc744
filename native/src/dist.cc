// Process groups for data parallelism: PyTorch's c10d does the work — a TCPStore rendezvous (rank 0
// hosts it), ProcessGroupGloo on CPU and, in builds against a CUDA libtorch with NCCL headers,
// ProcessGroupNCCL. This file is glue only: it creates the group, hands tensors to its collectives,
// waits for them under the group's timeout and turns c10d's errors into JS errors naming the op.
//   dist('init', backend, rank, worldSize, host, port, timeoutMs, rendezvousMs) -> group
//   dist('allReduce', group, tensor, op)    in place; op: sum | product | min | max
//   dist('broadcast', group, tensor, root)  in place
// (c10d's lists of tensors mean one tensor per local device; pacer has one device per process, and
// src/trainers/parallel.ts flattens many tensors into buckets)
//   dist('allGather', group, tensor)        -> one tensor per rank
//   dist('barrier', group), dist('destroy', group), dist('backends') -> { gloo, nccl }
// Compile-time guards: PACER_GLOO (gloo headers found), PACER_NCCL (CUDA libtorch and nccl.h found);
// native/torch-paths.cjs decides. A backend that is not built is an error that says why.
#include <chrono>
#include <thread>

#include "pacer.h"

#if defined(PACER_GLOO) || defined(PACER_NCCL)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef PACER_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef PACER_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace pacer {

namespace {

#if defined(PACER_GLOO) || defined(PACER_NCCL)
// libtorch 2.x moved the collectives from ProcessGroup to Backend (ProcessGroupGloo/NCCL derive from it).
#if TORCH_VERSION_MAJOR >= 2
using PGBase = c10d::Backend;
#else
using PGBase = c10d::ProcessGroup;
#endif

constexpr uint32_t kGroupMagic = 0x9d1c0d10;

struct GroupBox {
  uint32_t magic = kGroupMagic;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PGBase> pg;
  std::chrono::milliseconds timeout{0};
  std::string backend;
};

GroupBox& groupOf(const Args& a, size_t i) {
  if (!a.has(i) || !a.at(i).IsExternal()) a.fail(i, "a process group");
  auto* g = a.at(i).As<Napi::External<GroupBox>>().Data();
  if (!g || g->magic != kGroupMagic) a.fail(i, "a process group");
  if (!g->pg) throw std::runtime_error("the process group was destroyed");
  return *g;
}

// Wait for a collective; a peer that died or stalled ends it with c10d's error (Gloo closes the
// connection at once when a peer process dies; a stalled peer runs into the timeout).
void finish(const GroupBox& g, const c10::intrusive_ptr<c10d::Work>& w) {
  if (!w->wait(g.timeout)) throw std::runtime_error("timed out after " + std::to_string(g.timeout.count()) + " ms");
}

c10d::ReduceOp parseOp(const std::string& s) {
  if (s == "sum") return c10d::ReduceOp::SUM;
  if (s == "product") return c10d::ReduceOp::PRODUCT;
  if (s == "min") return c10d::ReduceOp::MIN;
  if (s == "max") return c10d::ReduceOp::MAX;
  throw std::invalid_argument("reduce op must be 'sum', 'product', 'min' or 'max', got '" + s + "'");
}

c10::intrusive_ptr<PGBase> makeGroup(const std::string& backend, const c10::intrusive_ptr<c10d::Store>& store,
                                     int rank, int size, const std::string& host, std::chrono::milliseconds timeout) {
  if (backend == "gloo") {
#ifdef PACER_GLOO
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    bool loopback = host == "localhost" || host.rfind("127.", 0) == 0;
    if (ifname && *ifname) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (loopback) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, o);
#else
    throw std::runtime_error("this pacer build has no Gloo (the gloo headers were missing when it was built: "
                             "install libgloo-dev and run 'npm run setup')");
#endif
  }
  if (backend == "nccl") {
#ifdef PACER_NCCL
    if (!torch::cuda::is_available()) throw std::runtime_error("the nccl backend needs a CUDA device; none is visible");
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, o);
#else
    throw std::runtime_error("this pacer build has no NCCL (it needs a CUDA libtorch and nccl.h at build time: "
                             "LIBTORCH=/path/to/libtorch [NCCL_INCLUDE_DIR=…] npm run setup); use backend 'gloo'");
#endif
  }
  throw std::invalid_argument("unknown backend '" + backend + "' (expected 'gloo' or 'nccl')");
}

Napi::Value init(Args& a) {
  std::string backend = a.Str(0);
  int64_t rank = a.I(1), size = a.I(2), port = a.I(4);
  std::string host = a.Str(3);
  std::chrono::milliseconds timeout(a.I(5));
  std::chrono::milliseconds rendezvous(a.I(6, a.I(5)));
  if (size < 1 || rank < 0 || rank >= size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " is outside world size " + std::to_string(size));
  if (port < 1 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is not a TCP port");
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(port);
  so.isServer = rank == 0;
  so.numWorkers = static_cast<size_t>(size);
  so.waitWorkers = false;
  so.timeout = rendezvous;  // how long workers try to reach rank 0's store
  auto tcp = c10::make_intrusive<c10d::TCPStore>(host, so);
  // every rank checks in and waits for the others, so that a rank that never starts is an error
  // after the rendezvous timeout (the group's own connection would wait for the collective timeout)
  auto deadline = std::chrono::steady_clock::now() + rendezvous;
  for (int64_t joined = tcp->add("pacer/joined", 1); joined < size; joined = tcp->add("pacer/joined", 0)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("rendezvous timed out after " + std::to_string(rendezvous.count()) + " ms: " +
                               std::to_string(joined) + " of " + std::to_string(size) + " ranks joined");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto store = c10::make_intrusive<c10d::PrefixStore>("pacer/default_pg", tcp);
  auto* g = new GroupBox();
  try {
    g->pg = makeGroup(backend, store, static_cast<int>(rank), static_cast<int>(size), host, timeout);
  } catch (...) {
    delete g;
    throw;
  }
  g->store = tcp;
  g->timeout = timeout;
  g->backend = backend;
  return Napi::External<GroupBox>::New(a.env(), g, [](Napi::Env, GroupBox* gb) { delete gb; });
}

void registerGroupOps(std::unordered_map<std::string, OpFn>& t) {
  t["init"] = init;
  t["allReduce"] = [](Args& a) -> Napi::Value {
    GroupBox& g = groupOf(a, 0);
    std::vector<at::Tensor> ts{a.T(1)};
    c10d::AllreduceOptions o;
    o.reduceOp = parseOp(a.Str(2));
    o.timeout = g.timeout;
    finish(g, g.pg->allreduce(ts, o));
    return a.env().Undefined();
  };
  t["broadcast"] = [](Args& a) -> Napi::Value {
    GroupBox& g = groupOf(a, 0);
    std::vector<at::Tensor> ts{a.T(1)};
    c10d::BroadcastOptions o;
    o.rootRank = a.I(2);
    o.timeout = g.timeout;
    finish(g, g.pg->broadcast(ts, o));
    return a.env().Undefined();
  };
  t["allGather"] = [](Args& a) -> Napi::Value {
    GroupBox& g = groupOf(a, 0);
    std::vector<at::Tensor> in{a.T(1)};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < g.pg->getSize(); r++) out[0].push_back(at::empty_like(in[0]));
    c10d::AllgatherOptions o;
    o.timeout = g.timeout;
    finish(g, g.pg->allgather(out, in, o));
    return a.R(out[0]);
  };
  t["barrier"] = [](Args& a) -> Napi::Value {
    GroupBox& g = groupOf(a, 0);
    c10d::BarrierOptions o;
    o.timeout = g.timeout;
    finish(g, g.pg->barrier(o));
    return a.env().Undefined();
  };
  t["destroy"] = [](Args& a) -> Napi::Value {
    if (!a.has(0) || !a.at(0).IsExternal()) a.fail(0, "a process group");
    auto* g = a.at(0).As<Napi::External<GroupBox>>().Data();
    if (!g || g->magic != kGroupMagic) a.fail(0, "a process group");
    g->pg.reset();
    g->store.reset();
    return a.env().Undefined();
  };
}
#endif

}  // namespace

// dist(what, ...args): the process-group calls above, with errors naming the call.
Napi::Value Dist(const Napi::CallbackInfo& info) {
  static std::unordered_map<std::string, OpFn> table = [] {
    std::unordered_map<std::string, OpFn> t;
#if defined(PACER_GLOO) || defined(PACER_NCCL)
    registerGroupOps(t);
#endif
    t["backends"] = [](Args& a) -> Napi::Value {
      Napi::Object o = Napi::Object::New(a.env());
#ifdef PACER_GLOO
      o.Set("gloo", true);
#else
      o.Set("gloo", false);
#endif
#ifdef PACER_NCCL
      o.Set("nccl", true);
#else
      o.Set("nccl", false);
#endif
      return o;
    };
    return t;
  }();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "pacer: dist needs a call name");
  std::string what = info[0].As<Napi::String>().Utf8Value();
  auto it = table.find(what);
  if (it == table.end())
    throw Napi::Error::New(info.Env(), "pacer: " + what + ": this pacer build has no process groups (rebuild with "
                                       "the gloo headers: install libgloo-dev and run 'npm run setup')");
  // the group handle (argument 0 of the collectives) is left out of the error's argument list
  size_t from = what == "init" || what == "backends" ? 1 : 2;
  return guardedCall(info, what, from, [&]() {
    Args a(info, what, 1);
    return it->second(a);
  });
}

}  // namespace pacer
