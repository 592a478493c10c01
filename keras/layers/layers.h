// Everything of the Keras layer API in one include.
//
//   #include "keel/keras/layers/layers.h"
//   using namespace keel::keras;
//   Sequential model({layers::Dense(DenseOptions(64).activation("relu").input_shape({784})),
//                     layers::Dense(10, "softmax")});
//   Sequential rnn({layers::Bidirectional(BidirectionalOptions(layers::LSTM(32)).input_shape({28, 28})),
//                   layers::Dense(10)});
#pragma once

#include "keel/keras/initializers.h"
#include "keel/keras/layers/activations.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/bidirectional.h"
#include "keel/keras/layers/conv.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/layers/embedding.h"
#include "keel/keras/layers/input_layer.h"
#include "keel/keras/layers/layer.h"
#include "keel/keras/layers/normalization.h"
#include "keel/keras/layers/registry.h"
#include "keel/keras/model.h"
#include "keel/keras/sequential.h"

namespace keel::keras {
// Option structs are usable without the layers:: prefix, as Conv2DOptions(16, 3) in ../shared/docs/STYLE.md (outside this repository).
using layers::ActivationOptions;
using layers::BatchNormalizationOptions;
using layers::ConcatenateOptions;
using layers::Conv2DOptions;
using layers::DenseOptions;
using layers::DropoutOptions;
using layers::EmbeddingOptions;
using layers::LayerNormalizationOptions;
using layers::LSTMOptions;
using layers::Pool2DOptions;
using layers::ReshapeOptions;
}  // namespace keel::keras
