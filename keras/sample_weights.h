// Per-sample weights for keras::Trainer, as Keras 2.4 reads fit's sample_weight and class_weight.
//
//   // One array for every output, a list, or Arrays::by_name (an output left out is unweighted):
//   std::vector<Tensor> sw = detail::resolve_sample_weights(weights, {"class", "brightness"}, ys, "fit");
//   // {class: weight} -> the weight of each sample's class, times the sample weight when there is one:
//   Tensor w = detail::class_weight_to_sample_weight({{0, 1.0}, {1, 5.0}}, labels, Tensor(), "fit");
//
// Keel takes one weight per sample ([N], or [N, 1], which Keras's losses and metrics squeeze to it), or
// for a sequence output one weight per step ([N, T] for targets [N, T] or [N, T, K]: Keras's temporal
// weights, which weigh each per-step loss and metric value, e.g. to mask padding). Weights become f32
// (Keras's floatx). class_weight follows Keras 2.4's data_adapter._make_class_weight_map_fn: the keys must be
// exactly 0..K-1; the class of a sample is y itself for labels [N] or [N, 1] (cast to an integer, as
// Keras casts), the argmax of the last axis for one-hot [N, K] (K > 1); targets of rank 3 or more are
// refused; a label that is not a key is an error naming the label (Keras's gather fails there too).
#pragma once

#include <string>
#include <vector>

#include "keel/graph/tensor.h"
#include "keel/keras/arrays.h"
#include "keel/keras/training_options.h"

namespace keel::keras::detail {

// `given` resolved for each output (Arrays::broadcast_in_order against `output_names`; empty names: the
// model's one unnamed output), each checked against that output's targets `y`: one weight per sample,
// as [N] ([N, 1] is reshaped to it), or weights [N, T, ...] of rank at most y's (the loss checks that they
// fit its per-sample losses). `what` ("fit", "fit: validation_data") starts the messages. Empty
// when nothing is given.
std::vector<Tensor> resolve_sample_weights(const Arrays& given, const std::vector<std::string>& output_names,
                                           const std::vector<Tensor>& y, const std::string& what);

// class_weight's keys must be 0..K-1, and the model must have one output (`output_names`: its outputs).
void check_class_weight(const ClassWeight& class_weight, const std::vector<std::string>& output_names,
                        const std::string& what);

// Keras's apply_mask: an output's mask (bool, e.g. [N, T] of a return_sequences LSTM over padded ids) as
// f32 weights, times `sample_weight` when it is defined ([N] weights apply to every step of their
// sample). An undefined mask gives `sample_weight` back.
Tensor masked_sample_weight(const Tensor& sample_weight, const Tensor& mask);

// One f32 weight per sample of `y`: class_weight[class of the sample], multiplied (in f32, as Keras) by
// `sample_weight` when it is defined ([N], as resolve_sample_weights gives it).
Tensor class_weight_to_sample_weight(const ClassWeight& class_weight, const Tensor& y, const Tensor& sample_weight,
                                     const std::string& what);

}  // namespace keel::keras::detail
