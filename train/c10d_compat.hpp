// c10d behind one small surface: the collective base class to hold (2.x: Backend) and how to
// build a Gloo (CPU) or NCCL (CUDA) group on a store. Only
// train/process_group.cpp includes this; nothing else should see c10d.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(AUTOTHINK_HAVE_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(AUTOTHINK_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "model/torch_compat.hpp"

namespace autothink::train::c10d_compat {

// The class whose virtual allreduce/broadcast/barrier both Gloo and NCCL implement.
using Collectives = ::c10d::Backend;
using CollectivesPtr = c10::intrusive_ptr<Collectives>;
using StorePtr = c10::intrusive_ptr<::c10d::Store>;

inline constexpr bool kHaveGloo =
#if defined(AUTOTHINK_HAVE_GLOO)
    true;
#else
    false;
#endif
inline constexpr bool kHaveNccl =
#if defined(AUTOTHINK_HAVE_NCCL)
    true;
#else
    false;
#endif

// A TCPStore at host:port: the server when `is_server`, else a client that retries connecting
// until `timeout`. As in torch, every process counts itself in and the server waits until all
// `world_size` did (clients only count: with waitWorkers off the server would wait forever).
inline StorePtr make_tcp_store(const std::string& host, int port, bool is_server, int world_size,
                               std::chrono::milliseconds timeout) {
  ::c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = is_server;
  options.numWorkers = static_cast<std::size_t>(world_size);
  options.waitWorkers = true;
  options.timeout = timeout;
  return c10::make_intrusive<::c10d::TCPStore>(host, options);
}

inline StorePtr make_prefix_store(const std::string& prefix, StorePtr store) {
  return c10::make_intrusive<::c10d::PrefixStore>(prefix, std::move(store));
}

#if defined(AUTOTHINK_HAVE_GLOO)
// Gloo over TCP. GLOO_SOCKET_IFNAME picks the interface like in torch; otherwise the device
// binds to this host's resolved address (falling back to loopback).
inline CollectivesPtr make_gloo(const StorePtr& store, int rank, int size, std::chrono::milliseconds timeout,
                                const std::string& interface_name) {
  auto options = ::c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(interface_name.empty()
                                 ? ::c10d::ProcessGroupGloo::createDefaultDevice()
                                 : ::c10d::ProcessGroupGloo::createDeviceForInterface(interface_name));
  options->threads = 2;
  return c10::make_intrusive<::c10d::ProcessGroupGloo>(store, rank, size, options);
}
#endif

#if defined(AUTOTHINK_HAVE_NCCL)
inline CollectivesPtr make_nccl(const StorePtr& store, int rank, int size, std::chrono::milliseconds timeout) {
  auto options = ::c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, rank, size, options);
}
#endif

}  // namespace autothink::train::c10d_compat
