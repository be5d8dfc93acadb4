// Distributed: store + c10d group creation from the launcher env, and collectives that turn
// c10d failures and timeouts into autothink::Error.
#include "train/process_group.hpp"

#include <torch/torch.h>

#include <cstdlib>
#include <map>

#if defined(AUTOTHINK_HAVE_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "core/error.hpp"
#include "core/log.hpp"
#include "train/c10d_compat.hpp"

namespace autothink::train {

struct Distributed::Group {
  c10d_compat::StorePtr store;
  c10d_compat::CollectivesPtr collectives;
  int rank = 0;
  int world_size = 1;
  std::string backend;
  std::string endpoint;  // MASTER_ADDR:MASTER_PORT, for messages
  std::chrono::milliseconds timeout{0};
  bool broken = false;

  // After a failure a c10d worker thread may still be blocked on a dead peer, and destroying
  // the group would join it and hang the exit we are trying to make: keep the objects alive.
  ~Group() {
    if (broken) {
      collectives.release();
      store.release();
    }
  }
};

namespace {

std::string pg_first_line(std::string text) {
  auto end = text.find('\n');
  if (end != std::string::npos) text.resize(end);
  return text;
}

std::string pg_seconds(std::chrono::milliseconds ms) {
  auto s = ms.count() / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, s == static_cast<long long>(s) ? "%.0f s" : "%.1f s", s);
  return buf;
}

[[noreturn]] void pg_fail(Distributed::Group& g, const std::string& what, const std::string& detail) {
  g.broken = true;
  throw Error("rank " + std::to_string(g.rank) + " of " + std::to_string(g.world_size) + ": " + what +
                  " failed: another rank exited or did not answer within " + pg_seconds(g.timeout) + " (" +
                  g.backend + ": " + pg_first_line(detail) + ")",
              "c10d " + g.backend + " group at " + g.endpoint,
              "the first error in the other ranks' logs is the cause; if a rank is only slow, raise "
              "train.dist_timeout_s");
}

void pg_wait(Distributed::Group& g, const std::string& what, const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    // Gloo and NCCL time out on their own; the wait's own limit is a backstop.
    work->wait(g.timeout + std::chrono::seconds(5));
  } catch (const c10::Error& e) {
    pg_fail(g, what, e.what_without_backtrace());
  } catch (const std::exception& e) {
    pg_fail(g, what, e.what());
  }
}

}  // namespace

Distributed::Distributed() = default;

Distributed::Distributed(const core::LaunchEnv& env, std::chrono::milliseconds timeout)
    : rank_(env.rank), world_size_(env.world_size), local_rank_(env.local_rank), timeout_(timeout) {
  if (world_size_ > 1 && (rank_ < 0 || rank_ >= world_size_))
    throw Error("rank " + std::to_string(rank_) + " is outside world size " + std::to_string(world_size_),
                "launcher environment (" + env.launcher + ")", "check RANK and WORLD_SIZE");

  // One GPU per process, picked by local rank. Several ranks on CUDA need NCCL; without it
  // they fall back to Gloo on CPU.
  bool use_cuda = torch::cuda::is_available() && (world_size_ <= 1 || c10d_compat::kHaveNccl);
  if (use_cuda) {
    auto devices = static_cast<int>(torch::cuda::device_count());
    if (local_rank_ >= devices)
      throw Error("local rank " + std::to_string(local_rank_) + " has no GPU: this node has " +
                      std::to_string(devices),
                  "launcher environment (" + env.launcher + ")",
                  "start at most one process per GPU (--nproc_per_node)");
#if defined(AUTOTHINK_HAVE_NCCL)
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(local_rank_));
#endif
    device_ = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(local_rank_));
  }
  if (world_size_ <= 1) return;

  if (use_cuda) {
    backend_ = "nccl";
  } else if (c10d_compat::kHaveGloo) {
    if (torch::cuda::is_available())
      log::warn("dist: CUDA is available but this build has no NCCL: ", world_size_, " ranks use Gloo on CPU");
    backend_ = "gloo";
  } else {
    throw Error("this build has neither Gloo nor NCCL, so " + std::to_string(world_size_) +
                    " ranks cannot talk to each other",
                "launcher environment (" + env.launcher + ")",
                "run one process, or build where libgloo-dev (CPU) or NCCL (CUDA) is installed");
  }

  auto group = std::make_shared<Group>();
  group->rank = rank_;
  group->world_size = world_size_;
  group->backend = backend_;
  group->timeout = timeout_;
  group->endpoint = env.master_addr + ":" + std::to_string(env.master_port);

  // Under torchrun's agent store the agent is the server; otherwise rank 0 hosts it.
  const bool host_store = env.hosts_store();
  const std::string where = "TCPStore for " + env.describe();
  log::debug("dist: ", env.describe(), ", store prefix ", env.store_prefix());
  try {
    auto tcp = c10d_compat::make_tcp_store(env.master_addr, env.master_port, host_store, world_size_, timeout_);
    group->store = c10d_compat::make_prefix_store(env.store_prefix(), tcp);
  } catch (const std::exception& e) {
    const char* detail = e.what();
    if (auto* ce = dynamic_cast<const c10::Error*>(&e)) detail = ce->what_without_backtrace();
    throw Error("rank " + std::to_string(rank_) + " could not " + (host_store ? "host" : "reach") +
                    " the rendezvous store within " + pg_seconds(timeout_) + " (" + pg_first_line(detail) + ")",
                where,
                host_store ? "is the port free, and did every rank start?"
                           : "is MASTER_ADDR:MASTER_PORT right and reachable, and did rank 0 / the agent start?");
  }

  try {
#if defined(AUTOTHINK_HAVE_NCCL)
    if (backend_ == "nccl")
      group->collectives = c10d_compat::make_nccl(group->store, rank_, world_size_, timeout_);
#endif
#if defined(AUTOTHINK_HAVE_GLOO)
    if (backend_ == "gloo") {
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      group->collectives =
          c10d_compat::make_gloo(group->store, rank_, world_size_, timeout_, ifname ? ifname : "");
    }
#endif
  } catch (const std::exception& e) {
    const char* detail = e.what();
    if (auto* ce = dynamic_cast<const c10::Error*>(&e)) detail = ce->what_without_backtrace();
    pg_fail(*group, "joining the " + backend_ + " group", detail);
  }
  group_ = std::move(group);
  log::debug("dist: rank ", rank_, "/", world_size_, " joined (", backend_, ", device ", device_.str(), ")");
}

Distributed::~Distributed() = default;

void Distributed::check_usable(const char* what) const {
  if (group_ && group_->broken)
    throw Error(std::string(what) + " after an earlier collective failed", "c10d " + backend_ + " group at " +
                group_->endpoint, "the process group is unusable; exit and restart the run");
}

void Distributed::broadcast_parameters(const std::vector<at::Tensor>& tensors) {
  if (!group_ || tensors.empty()) return;
  check_usable("broadcast");
  torch::NoGradGuard no_grad;
  // One flat buffer per dtype: a model costs a collective or two, not one per tensor.
  std::map<c10::ScalarType, std::vector<at::Tensor>> by_dtype;
  for (const auto& t : tensors)
    if (t.defined() && t.numel() > 0) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, group] : by_dtype) {
    std::vector<at::Tensor> flat_parts;
    for (auto& t : group) flat_parts.push_back(t.detach().reshape(-1).to(device_));
    std::vector<at::Tensor> flat{torch::cat(flat_parts)};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = group_->collectives->broadcast(flat, options);
    } catch (const c10::Error& e) {
      pg_fail(*group_, "broadcast", e.what_without_backtrace());
    }
    pg_wait(*group_, "broadcast", work);
    int64_t offset = 0;
    for (auto& t : group) {
      auto n = t.numel();
      t.detach().copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  }
}

std::function<void()> Distributed::start_all_reduce_sum(at::Tensor tensor) {
  if (!group_) return [] {};
  check_usable("all-reduce");
  std::vector<at::Tensor> tensors{std::move(tensor)};
  c10::intrusive_ptr<c10d::Work> work;
  auto group = group_;
  try {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    work = group->collectives->allreduce(tensors, options);
  } catch (const c10::Error& e) {
    pg_fail(*group, "all-reduce", e.what_without_backtrace());
  }
  // The tensor list stays alive with the waiter: c10d keeps pointers into it until completion.
  return [group, work, tensors]() { pg_wait(*group, "all-reduce", work); };
}

void Distributed::all_reduce_sum(at::Tensor& tensor) {
  if (!group_) return;
  auto contiguous = tensor.is_contiguous() ? tensor : tensor.contiguous();
  start_all_reduce_sum(contiguous)();
  if (!contiguous.is_same(tensor)) tensor.copy_(contiguous);
}

void Distributed::all_reduce_mean(at::Tensor& tensor) {
  if (!group_) return;
  all_reduce_sum(tensor);
  tensor.div_(world_size_);
}

double Distributed::all_reduce_scalar(double value) {
  if (!group_) return value;
  auto t = torch::full({1}, value, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
  all_reduce_sum(t);
  return t.item<double>();
}

void Distributed::barrier() {
  if (!group_) return;
  check_usable("barrier");
  // A barrier is an all-reduce of one number: with NCCL, c10d's barrier guesses the device.
  all_reduce_scalar(0.0);
}

}  // namespace autothink::train
