#include "models/t2m/recompute.h"

#include <cstdint>

#include "compat.h"

namespace torchmotion {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The block and the rotary tables outlive the step that uses them (they belong to the model), so their addresses
// can travel through the context as integers.
struct BlockFunction : public torch::autograd::Function<BlockFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& positions,
                               const torch::Tensor& allowed, int64_t block, int64_t rope) {
    ctx->save_for_backward({x, positions, allowed});
    ctx->saved_data["block"] = block;
    ctx->saved_data["rope"] = rope;
    ctx->saved_data["autocast"] = CudaAutocastEnabled();
    return reinterpret_cast<BlockImpl*>(block)->forward(x, positions, allowed, *reinterpret_cast<const Rotary*>(rope),
                                                        nullptr, 0, 0);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    variable_list saved = ctx->get_saved_variables();
    torch::Tensor x = saved[0].detach().requires_grad_(true);
    torch::Tensor y;
    {
      torch::AutoGradMode on(true);
      AutocastGuard amp(ctx->saved_data["autocast"].toBool(), at::kBFloat16);
      y = reinterpret_cast<BlockImpl*>(ctx->saved_data["block"].toInt())
              ->forward(x, saved[1], saved[2], *reinterpret_cast<const Rotary*>(ctx->saved_data["rope"].toInt()),
                        nullptr, 0, 0);
    }
    // Parameter gradients accumulate here; the input's gradient goes back to the previous block.
    torch::autograd::backward({y}, {grad_out[0]});
    return {x.grad(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor RecomputedBlock(BlockImpl& block, const Rotary& rope, const torch::Tensor& x,
                              const torch::Tensor& positions, const torch::Tensor& allowed) {
  return BlockFunction::apply(x, positions, allowed, reinterpret_cast<int64_t>(&block),
                              reinterpret_cast<int64_t>(&rope));
}

}  // namespace torchmotion
