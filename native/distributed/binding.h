// JS class `ProcessGroup`: a c10d process group (process_group.h) for the trainers — rendezvous, the small
// collectives the TypeScript side needs (config hashes, loss means, barriers), and the group models join.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "distributed/process_group.h"

namespace torchmotion {

// The group behind a JS ProcessGroup argument (a TypeError naming `what` otherwise).
std::shared_ptr<ProcessGroup> ProcessGroupFrom(const Napi::Value& v, const std::string& what);

}  // namespace torchmotion
