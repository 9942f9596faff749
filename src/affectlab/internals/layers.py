"""Where a local causal LM keeps its decoder layers, and the checks every internals tool shares."""

from __future__ import annotations

from affectlab.errors import AffectlabError, is_whole_number

_LAYER_PATHS = ("model.layers", "model.model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers")


class InternalsError(AffectlabError, ValueError):
    """The model's internals cannot be reached, or a layer, emotion or direction does not fit it."""


def torch_model(llm):
    """The ``transformers`` model behind a backend; only local backends have one."""
    model = getattr(llm, "model", None)
    if model is None or not hasattr(model, "forward"):
        raise InternalsError(f"{type(llm).__name__} exposes no model layers (an HTTP or llama.cpp backend cannot be "
                             "probed or steered); use load_llm(backend='transformers')")
    return model


def decoder_layers(llm):
    """The model's list of decoder blocks (Gemma, Llama, Mistral, Qwen: ``model.layers``; GPT-2: ``transformer.h``)."""
    model = torch_model(llm)
    for path in _LAYER_PATHS:
        found = model
        for name in path.split("."):
            found = getattr(found, name, None)
            if found is None:
                break
        if found is not None and hasattr(found, "__len__") and len(found):
            return found
    raise InternalsError(f"cannot find the decoder layers of {type(model).__name__} "
                         f"(looked at {', '.join(_LAYER_PATHS)})")


def hidden_size(llm) -> int:
    """Width of the residual stream: the input embedding's width, which every decoder-only model has."""
    return int(torch_model(llm).get_input_embeddings().weight.shape[1])


def check_layer(llm, layer: int) -> int:
    if not is_whole_number(layer):
        raise InternalsError(f"a layer is a whole number, not {layer!r}")
    count = len(decoder_layers(llm))
    if not 0 <= layer < count:
        raise InternalsError(f"layer {layer} is out of range: {llm.name} has layers 0 to {count - 1}")
    return layer
